//! The carnet de liaison in the browser: notes to sign, notes sent and who
//! signed, the form to write one.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::notes::{NoteDraft, NoteView};
use cartable_app::AppError;
use cartable_domain::policy::{can, Action, Resource};
use cartable_domain::{ClassId, Role, UserId};
use cartable_store::{
    ClassSummary, NoteFamilyStatus, NoteForFamily, NoteRow, NoteSummary, UserSummary,
};

use super::messages::{attachment_limits, attachments_of, discard, field, refusal};
use super::{parse_id, render, school_of, Empty};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::{Client, CurrentUser};
use crate::layout::Layout;
use crate::state::AppState;
use crate::upload::read_upload_form;

#[derive(Template)]
#[template(path = "notes_list.html")]
struct NotesPage {
    layout: Layout,
    to_sign: Vec<NoteForFamily>,
    signed: Vec<NoteForFamily>,
    about_me: Vec<NoteRow>,
    sent: Vec<NoteSummary>,
    may_send: bool,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let actor = &session.actor;
    let family = state.app.notes_for_parent(actor).await?;
    let (to_sign, signed): (Vec<_>, Vec<_>) =
        family.into_iter().partition(|n| n.acked_at.is_none());
    let page = NotesPage {
        layout: Layout::signed_in("Carnet de liaison", &csrf, &session),
        to_sign,
        signed,
        about_me: state.app.notes_for_pupil(actor).await?,
        sent: state.app.notes_sent(actor).await.unwrap_or_default(),
        may_send: matches!(actor.role, Role::Teacher | Role::Staff | Role::SchoolAdmin),
    };
    Ok(render(&page)?.into_response())
}

pub struct ClassPupils {
    pub class: ClassSummary,
    pub pupils: Vec<UserSummary>,
}

#[derive(Template)]
#[template(path = "note_new.html")]
struct NoteFormPage {
    layout: Layout,
    classes: Vec<ClassPupils>,
    error: Option<String>,
    title: String,
    body: String,
}

async fn note_form(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    error: Option<String>,
    title: String,
    body: String,
) -> WebResult<NoteFormPage> {
    let school = school_of(&session.actor)?;
    let mut classes = Vec::new();
    for class in state.app.store.classes(school).await? {
        if can(
            &session.actor,
            Action::SendNote,
            Resource::Class {
                school,
                class: class.id,
            },
        ) {
            let pupils = state.app.store.class_pupils(school, class.id).await?;
            classes.push(ClassPupils { class, pupils });
        }
    }
    Ok(NoteFormPage {
        layout: Layout::signed_in("Nouveau mot aux familles", csrf, session),
        classes,
        error,
        title,
        body,
    })
}

pub async fn new_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    if !matches!(
        session.actor.role,
        Role::Teacher | Role::Staff | Role::SchoolAdmin
    ) {
        return Err(WebError::forbidden());
    }
    let page = note_form(&state, &session, &csrf, None, String::new(), String::new()).await?;
    Ok(render(&page)?.into_response())
}

pub async fn send(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    if !matches!(
        session.actor.role,
        Role::Teacher | Role::Staff | Role::SchoolAdmin
    ) {
        return Err(WebError::forbidden());
    }
    let multipart = multipart.map_err(|_| {
        WebError::BadForm("Formulaire illisible : rechargez la page et recommencez.".into())
    })?;
    let form = read_upload_form(
        &state,
        &parts,
        multipart,
        &attachment_limits(&state.app.config),
    )
    .await?;
    let ids = |name: &str| -> Vec<i64> {
        form.fields
            .iter()
            .filter(|(k, _)| k == name)
            .filter_map(|(_, v)| v.parse().ok())
            .collect()
    };
    let draft = NoteDraft {
        title: field(&form, "titre").to_string(),
        body: field(&form, "texte").to_string(),
        classes: ids("classe").into_iter().map(ClassId).collect(),
        pupils: ids("eleve").into_iter().map(UserId).collect(),
        attachments: attachments_of(&form),
    };
    match state.app.send_note(&session.actor, draft, &client).await {
        Ok(id) => Ok(Redirect::to(&format!("/carnet/{id}")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let page = note_form(
                        &state,
                        &session,
                        &csrf,
                        Some(e.message_fr()),
                        field(&form, "titre").into(),
                        field(&form, "texte").into(),
                    )
                    .await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

pub struct FamilyRow {
    pub status: NoteFamilyStatus,
    pub signed: usize,
}

#[derive(Template)]
#[template(path = "note.html")]
struct NotePage {
    layout: Layout,
    note: NoteRow,
    created: String,
    reminded: Option<String>,
    /// Parent view.
    family: Option<NoteForFamily>,
    signed_on: Option<String>,
    /// Sender view.
    families: Vec<FamilyRow>,
    total_parents: usize,
    total_signed: usize,
    is_sender_view: bool,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let id = parse_id(&id)?;
    let view = state.app.note_for(&session.actor, id).await?;
    let (note, family, families) = match view {
        NoteView::Sender { note, families } => (note, None, families),
        NoteView::Family(f) => (f.note.clone(), Some(f), Vec::new()),
        NoteView::Pupil(note) => (note, None, Vec::new()),
    };
    let families: Vec<FamilyRow> = families
        .into_iter()
        .map(|status| FamilyRow {
            signed: status.parents.iter().filter(|(_, a)| a.is_some()).count(),
            status,
        })
        .collect();
    let total_parents = families.iter().map(|f| f.status.parents.len()).sum();
    let total_signed = families.iter().map(|f| f.signed).sum();
    let is_sender_view =
        !families.is_empty() || (family.is_none() && session.actor.role != Role::Pupil);
    let page = NotePage {
        layout: Layout::signed_in(note.title.clone(), &csrf, &session),
        created: super::admin::french_date(note.created_at),
        reminded: note.reminded_at.map(super::admin::french_date),
        signed_on: family
            .as_ref()
            .and_then(|f| f.acked_at)
            .map(super::admin::french_datetime),
        family,
        families,
        total_parents,
        total_signed,
        is_sender_view,
        note,
    };
    Ok(render(&page)?.into_response())
}

pub async fn sign(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    state.app.ack_note(&session.actor, id, &client).await?;
    Ok(Redirect::to(&format!("/carnet/{id}")).into_response())
}

pub async fn remind(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    state.app.remind_note(&session.actor, id, &client).await?;
    Ok(Redirect::to(&format!("/carnet/{id}")).into_response())
}
