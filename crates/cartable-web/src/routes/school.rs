//! Pages about the school's classes and people, each behind the policy.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use cartable_app::auth::CurrentSession;
use cartable_domain::policy::{can, Action, Resource};
use cartable_domain::{ClassId, Role, SchoolId, UserId};
use cartable_store::{ClassSummary, TeacherOfClass, User, UserSummary};

use super::{authorize, parse_id, render, school_of};
use crate::csrf::CsrfToken;
use crate::error::{WebError, WebResult};
use crate::extract::CurrentUser;
use crate::layout::Layout;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "class.html")]
struct ClassPage {
    layout: Layout,
    class: ClassSummary,
    teachers: Vec<TeacherOfClass>,
    may_see_roster: bool,
}

/// The class `raw_id` names in the actor's school, if the policy lets them `action` it.
async fn authorized_class(
    state: &AppState,
    session: &CurrentSession,
    raw_id: &str,
    action: Action,
) -> WebResult<(SchoolId, ClassSummary)> {
    let school = school_of(&session.actor)?;
    let id = ClassId(parse_id(raw_id)?);
    let class = state
        .app
        .store
        .class(school, id)
        .await?
        .ok_or_else(WebError::not_found)?;
    authorize(
        &session.actor,
        action,
        Resource::Class { school, class: id },
    )?;
    Ok((school, class))
}

pub async fn class_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (school, class) = authorized_class(&state, &session, &id, Action::ViewClass).await?;
    let id = class.id;
    let page = ClassPage {
        layout: Layout::signed_in(format!("Classe {}", class.name), &csrf, &session),
        teachers: state.app.store.class_teachers(school, id).await?,
        may_see_roster: can(
            &session.actor,
            Action::ViewClassRoster,
            Resource::Class { school, class: id },
        ),
        class,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    layout: Layout,
    class: ClassSummary,
    pupils: Vec<UserSummary>,
}

pub async fn class_roster(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let (school, class) = authorized_class(&state, &session, &id, Action::ViewClassRoster).await?;
    let id = class.id;
    let page = RosterPage {
        layout: Layout::signed_in(format!("Élèves de {}", class.name), &csrf, &session),
        pupils: state.app.store.class_pupils(school, id).await?,
        class,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    layout: Layout,
    person: User,
    role_label: &'static str,
    classes: Vec<ClassSummary>,
    parents: Vec<UserSummary>,
    children: Vec<UserSummary>,
    may_manage: bool,
    may_disable: bool,
}

pub async fn person_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let id = UserId(parse_id(&id)?);
    let store = &state.app.store;
    let facts = store
        .person_facts(school, id)
        .await?
        .ok_or_else(WebError::not_found)?;
    authorize(&session.actor, Action::ViewPerson, Resource::Person(&facts))?;
    let person = store
        .user(Some(school), id)
        .await?
        .ok_or_else(WebError::not_found)?;
    let is_manager = matches!(session.actor.role, Role::SchoolAdmin | Role::Staff)
        || session.actor.user_id == id;
    // Family links are shown to the school's staff and to the person themself.
    let (parents, children) = if is_manager {
        let parents = if person.role == Role::Pupil {
            store.parents_of(school, id).await?
        } else {
            Vec::new()
        };
        let children = if person.role == Role::Parent {
            store
                .children_of(school, id)
                .await?
                .into_iter()
                .map(|c| c.child)
                .collect()
        } else {
            Vec::new()
        };
        (parents, children)
    } else {
        (Vec::new(), Vec::new())
    };
    let page = PersonPage {
        layout: Layout::signed_in(person.display_name(), &csrf, &session),
        role_label: person.role.label_fr(),
        classes: store.classes_of(school, id).await?,
        parents,
        children,
        may_manage: can(
            &session.actor,
            Action::IssueActivationCode,
            Resource::Person(&facts),
        ),
        may_disable: can(
            &session.actor,
            Action::DisableAccount,
            Resource::Person(&facts),
        ),
        person,
    };
    Ok(render(&page)?.into_response())
}
