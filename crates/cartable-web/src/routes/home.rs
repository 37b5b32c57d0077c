//! Each role's home page: what that person comes for on a school morning.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::auth::CurrentSession;
use cartable_domain::policy::{Action, Resource};
use cartable_domain::{Role, SchoolId};
use cartable_store::{ClassSummary, GroupSummary, TeacherOfClass, UserSummary};

use super::{authorize, render};
use crate::csrf::CsrfToken;
use crate::error::WebResult;
use crate::extract::CurrentUser;
use crate::layout::Layout;
use crate::state::AppState;

pub struct ClassCard {
    pub class: ClassSummary,
    pub teachers: Vec<TeacherOfClass>,
}

pub struct ChildCard {
    pub child: UserSummary,
    pub class: Option<ClassCard>,
    pub groups: Vec<GroupSummary>,
}

pub struct ManagerCard {
    pub pupils: usize,
    pub parents: usize,
    pub teachers: usize,
    pub staff: usize,
    pub not_activated: usize,
    pub classes: usize,
    pub is_admin: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    school_name: String,
    role: Role,
    my_classes: Vec<ClassCard>,
    children: Vec<ChildCard>,
    teaching: Vec<ClassSummary>,
    /// Pupil: the groups they belong to. Teacher: the groups they teach.
    groups: Vec<GroupSummary>,
    manager: Option<ManagerCard>,
    unread: i64,
    news: Vec<super::news::NewsCard>,
    notes_to_sign: Vec<cartable_store::NoteForFamily>,
    /// Pupil: the next days with homework due (three at most).
    due_soon: Vec<cartable_app::lessons::DueDay>,
    /// Parent: per child, how many homework items are due and not ticked.
    children_due: Vec<(String, usize)>,
    today: cartable_domain::calendar::Day,
}

pub async fn home(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    authorize(&session.actor, Action::ViewHome, Resource::Own)?;
    let Some(school) = session.actor.school_id else {
        return Ok(Redirect::to("/operateur").into_response());
    };
    let store = &state.app.store;
    let school_name = state
        .app
        .school_remembered(school)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let role = session.actor.role;
    // A pupil's homework and unread count come in one query (the rest of the
    // page is what this node remembers of the school).
    let pupil = state.app.pupil_home(&session.actor).await?;
    let unread = match role {
        Role::Pupil => pupil.unread_threads,
        _ => state.app.unread_threads(&session.actor).await?,
    };
    let mut page = HomePage {
        layout: Layout::signed_in("Accueil", &csrf, &session),
        first_name: session.user.first_name.clone(),
        school_name,
        role,
        my_classes: Vec::new(),
        children: Vec::new(),
        teaching: Vec::new(),
        groups: Vec::new(),
        manager: None,
        unread,
        news: super::news::cards(
            state.app.news_for(&session.actor, 3).await?,
            state.app.now(),
        ),
        notes_to_sign: state
            .app
            .notes_for_parent(&session.actor)
            .await?
            .into_iter()
            .filter(|n| n.acked_at.is_none())
            .collect(),
        due_soon: pupil.due.into_iter().take(3).collect(),
        children_due: state
            .app
            .due_for_children(&session.actor)
            .await?
            .into_iter()
            .map(|(child, days)| {
                let open = days
                    .iter()
                    .flat_map(|d| &d.items)
                    .filter(|i| !i.done)
                    .count();
                (child.child.first_name, open)
            })
            .collect(),
        today: state.app.school_today(),
    };
    match role {
        Role::Pupil => {
            page.my_classes = class_cards(&state, school, &session).await?;
            let mine = &session.actor.groups;
            page.groups = state
                .app
                .groups_remembered(school)
                .await?
                .iter()
                .filter(|g| mine.contains(&g.id))
                .cloned()
                .collect();
        }
        Role::Parent => {
            for child in store.children_of(school, session.actor.user_id).await? {
                let class = match child.class {
                    Some(class) => Some(ClassCard {
                        teachers: state
                            .app
                            .class_teachers_remembered(school, class.id)
                            .await?,
                        class,
                    }),
                    None => None,
                };
                page.children.push(ChildCard {
                    groups: store.groups_of(school, child.child.id).await?,
                    child: child.child,
                    class,
                });
            }
        }
        Role::Teacher => {
            page.teaching = store.classes_of(school, session.actor.user_id).await?;
            page.groups = store.groups_of(school, session.actor.user_id).await?;
        }
        Role::Staff | Role::SchoolAdmin => {
            let people = store.people(school, None).await?;
            let count = |r: Role| people.iter().filter(|p| p.role == r).count();
            page.manager = Some(ManagerCard {
                pupils: count(Role::Pupil),
                parents: count(Role::Parent),
                teachers: count(Role::Teacher),
                staff: count(Role::Staff) + count(Role::SchoolAdmin),
                not_activated: people.iter().filter(|p| !p.activated).count(),
                classes: store.classes(school).await?.len(),
                is_admin: role == Role::SchoolAdmin,
            });
        }
        Role::Operator => {}
    }
    Ok(render(&page)?.into_response())
}

/// A pupil's class (from the session and this node's memory of the school).
async fn class_cards(
    state: &AppState,
    school: SchoolId,
    session: &CurrentSession,
) -> WebResult<Vec<ClassCard>> {
    let mine = &session.actor.classes;
    let classes = state.app.classes_remembered(school).await?;
    let mut cards = Vec::new();
    for class in classes.iter().filter(|c| mine.contains(&c.id)).cloned() {
        cards.push(ClassCard {
            teachers: state
                .app
                .class_teachers_remembered(school, class.id)
                .await?,
            class,
        });
    }
    Ok(cards)
}
