//! Documents in the browser: the list of spaces, a folder, uploads.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::documents::FolderView;
use cartable_app::AppError;
use cartable_domain::ClassId;
use cartable_store::ClassSummary;
use serde::Deserialize;

use super::messages::{attachment_limits, attachments_of, discard, refusal};
use super::{parse_id, render, school_of, Empty};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::CurrentUser;
use crate::layout::Layout;
use crate::state::AppState;
use crate::upload::read_upload_form;

#[derive(Template)]
#[template(path = "documents.html")]
struct SpacesPage {
    layout: Layout,
    classes: Vec<ClassSummary>,
}

pub async fn index(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let page = SpacesPage {
        layout: Layout::signed_in("Documents", &csrf, &session),
        classes: state.app.document_classes(&session.actor).await?,
    };
    Ok(render(&page)?.into_response())
}

pub async fn class_space(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let root = state
        .app
        .class_documents(&session.actor, ClassId(parse_id(&id)?))
        .await?;
    Ok(Redirect::to(&format!("/documents/dossiers/{}", root.id)).into_response())
}

pub async fn personal_space(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let root = state.app.personal_documents(&session.actor).await?;
    Ok(Redirect::to(&format!("/documents/dossiers/{}", root.id)).into_response())
}

#[derive(Template)]
#[template(path = "folder.html")]
struct FolderPage {
    layout: Layout,
    view: FolderView,
    usage_text: Option<String>,
    error: Option<String>,
}

async fn folder_page(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    id: i64,
    error: Option<String>,
) -> WebResult<FolderPage> {
    let view = state.app.open_folder(&session.actor, id).await?;
    let usage_text = view.usage.map(|(used, quota)| {
        format!(
            "{} utilisés sur {}",
            cartable_app::blobs::human_size(used.max(0) as u64),
            cartable_app::blobs::human_size(quota.max(0) as u64)
        )
    });
    Ok(FolderPage {
        layout: Layout::signed_in(view.folder.name.clone(), csrf, session),
        view,
        usage_text,
        error,
    })
}

pub async fn folder(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let page = folder_page(&state, &session, &csrf, parse_id(&id)?, None).await?;
    Ok(render(&page)?.into_response())
}

pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let id = parse_id(&id)?;
    // Refuse before reading the body if the folder is not writable.
    state
        .app
        .open_folder(&session.actor, id)
        .await
        .and_then(|v| {
            if v.may_write {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        })?;
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
    match state
        .app
        .add_documents(&session.actor, id, attachments_of(&form))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/documents/dossiers/{id}")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let page =
                        folder_page(&state, &session, &csrf, id, Some(e.message_fr())).await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

#[derive(Deserialize)]
pub struct FolderForm {
    #[serde(default)]
    nom: String,
}

pub async fn new_folder(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<FolderForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    match state
        .app
        .create_subfolder(&session.actor, id, &form.nom)
        .await
    {
        Ok(child) => Ok(Redirect::to(&format!("/documents/dossiers/{child}")).into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let page = folder_page(&state, &session, &csrf, id, Some(e.message_fr())).await?;
            Ok(refusal(&e, render(&page)?))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path((folder, file)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let folder = parse_id(&folder)?;
    state
        .app
        .delete_document(&session.actor, folder, parse_id(&file)?)
        .await?;
    Ok(Redirect::to(&format!("/documents/dossiers/{folder}")).into_response())
}

/// "1,5 Mo" (templates).
pub fn size_fr(size: impl std::borrow::Borrow<i64>) -> String {
    cartable_app::blobs::human_size((*size.borrow()).max(0) as u64)
}
