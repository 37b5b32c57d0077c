//! The messagerie in the browser: inbox and search, composing (to people or
//! groups), a conversation and its reply form, attachments.

use askama::Template;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::messaging::{names_preview, unique_ids, Compose, Group, GroupChoice};
use cartable_app::AppError;
use cartable_domain::UserId;
use cartable_store::{ThreadSummary, ThreadView, UserSummary};
use serde::Deserialize;

use super::{limit, parse_id, render, school_of};
use crate::csrf::CsrfToken;
use crate::error::{WebError, WebResult};
use crate::extract::{Client, CurrentUser, Query};
use crate::layout::Layout;
use crate::ratelimit::Action as RateAction;
use crate::state::AppState;
use crate::upload::{read_upload_form, UploadForm, UploadLimits};

/// Limits for files attached to a message, a news item or a note.
pub fn attachment_limits(config: &cartable_app::AppConfig) -> UploadLimits {
    UploadLimits {
        max_file_bytes: config.max_file_bytes,
        max_files: 5,
        max_total_bytes: config
            .max_file_bytes
            .saturating_mul(5)
            .min(config.max_form_bytes),
        max_text_bytes: 64 * 1024,
    }
}

/// At most this many people listed on the compose form; beyond, filter by name.
const MAX_LISTED: usize = 300;

#[derive(Deserialize)]
pub struct InboxQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct InboxPage {
    layout: Layout,
    threads: Vec<ThreadRow>,
    search: String,
}

pub struct ThreadRow {
    pub thread: ThreadSummary,
    pub when: String,
}

pub async fn inbox(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<InboxQuery>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let search = q.q.unwrap_or_default();
    if !search.trim().is_empty() {
        let account = session.actor.user_id.0.to_string();
        limit(&state, RateAction::Search, Some(&account), &client)?;
    }
    let threads = state.app.inbox(&session.actor, Some(&search)).await?;
    let page = InboxPage {
        layout: Layout::signed_in("Messages", &csrf, &session),
        threads: threads
            .into_iter()
            .map(|t| ThreadRow {
                when: super::admin::french_date(t.last_message_at),
                thread: t,
            })
            .collect(),
        search,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct ComposeQuery {
    /// Filter people by name.
    qui: Option<String>,
    /// Pre-selected recipient (from a person's page).
    a: Option<String>,
}

pub struct PersonChoice {
    pub person: UserSummary,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "message_new.html")]
struct ComposePage {
    layout: Layout,
    groups: Vec<GroupChoice>,
    people: Vec<PersonChoice>,
    hidden_count: usize,
    filter: String,
    error: Option<String>,
    subject: String,
    body: String,
}

pub async fn compose_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<ComposeQuery>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let preselected: Option<UserId> = q.a.as_deref().and_then(|a| a.parse().ok()).map(UserId);
    let page = compose_form(
        &state,
        &session,
        &csrf,
        q.qui.unwrap_or_default(),
        preselected,
        None,
        String::new(),
        String::new(),
    )
    .await?;
    Ok(render(&page)?.into_response())
}

#[allow(clippy::too_many_arguments)]
async fn compose_form(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    filter: String,
    preselected: Option<UserId>,
    error: Option<String>,
    subject: String,
    body: String,
) -> WebResult<ComposePage> {
    let reachable = state.app.reachable(&session.actor).await?;
    let needle = cartable_domain::names::fold_key(&filter);
    let matching: Vec<UserSummary> = reachable
        .people
        .into_iter()
        .filter(|p| {
            needle.is_empty()
                || cartable_domain::names::fold_key(&p.display_name()).contains(&needle)
                || Some(p.id) == preselected
        })
        .collect();
    let hidden_count = matching.len().saturating_sub(MAX_LISTED);
    let people = matching
        .into_iter()
        .take(MAX_LISTED)
        .map(|person| PersonChoice {
            checked: Some(person.id) == preselected,
            person,
        })
        .collect();
    Ok(ComposePage {
        layout: Layout::signed_in("Nouveau message", csrf, session),
        groups: reachable.groups,
        people,
        hidden_count,
        filter,
        error,
        subject,
        body,
    })
}

pub fn field<'a>(form: &'a UploadForm, name: &str) -> &'a str {
    form.fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The uploaded files of a form, as rows to attach.
pub fn attachments_of(form: &UploadForm) -> Vec<cartable_store::NewAttachment> {
    form.files
        .iter()
        .map(|f| cartable_store::NewAttachment {
            blob_key: f.meta.key.clone(),
            file_name: f.file_name.clone(),
            content_type: f.meta.content_type.clone(),
            size: f.meta.size as i64,
            sha256: f.meta.sha256.clone(),
        })
        .collect()
}

/// Deletes the files of a form whose action failed: no orphan files.
pub async fn discard(state: &AppState, form: &UploadForm) {
    for f in &form.files {
        if let Err(e) = state.app.blobs.delete(&f.meta.key).await {
            tracing::warn!(error = %e, key = %f.meta.key, "could not delete the file of a failed form");
        }
    }
}

/// Re-renders a form after a refusal the person can fix: 429 when they sent
/// too much, 400 otherwise.
pub fn refusal_status(e: &AppError) -> axum::http::StatusCode {
    match e {
        AppError::RateLimited { .. } => axum::http::StatusCode::TOO_MANY_REQUESTS,
        _ => axum::http::StatusCode::BAD_REQUEST,
    }
}

/// The form page again, with the status, the stable code and, for a limit,
/// when to retry.
pub fn refusal(e: &AppError, page: axum::response::Html<String>) -> Response {
    let mut resp = (refusal_status(e), page).into_response();
    if let Ok(code) = e.code().parse() {
        resp.headers_mut().insert("x-cartable-error", code);
    }
    if let AppError::RateLimited {
        retry_after_secs, ..
    } = e
    {
        resp.headers_mut()
            .insert("retry-after", (*retry_after_secs).into());
    }
    resp
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
    let account = session.actor.user_id.0.to_string();
    limit(&state, RateAction::Message, Some(&account), &client)?;
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
    let people = unique_ids(
        form.fields
            .iter()
            .filter(|(k, _)| k == "personne")
            .filter_map(|(_, v)| v.parse().ok().map(UserId)),
    );
    let groups: Vec<Group> = form
        .fields
        .iter()
        .filter(|(k, _)| k == "groupe")
        .filter_map(|(_, v)| Group::parse(v))
        .collect();
    let compose = Compose {
        subject: field(&form, "objet").to_string(),
        body: field(&form, "message").to_string(),
        people,
        groups,
        attachments: attachments_of(&form),
    };
    match state
        .app
        .send_message(&session.actor, compose, &client)
        .await
    {
        Ok(thread) => Ok(Redirect::to(&format!("/messages/{thread}")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } | AppError::RateLimited { .. } => {
                    let page = compose_form(
                        &state,
                        &session,
                        &csrf,
                        String::new(),
                        None,
                        Some(e.message_fr()),
                        field(&form, "objet").to_string(),
                        field(&form, "message").to_string(),
                    )
                    .await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPage {
    layout: Layout,
    thread: ThreadView,
    members_preview: String,
    messages: Vec<MessageRow>,
    private_note: Option<String>,
    error: Option<String>,
}

pub struct MessageRow {
    pub author_name: String,
    pub when: String,
    pub body_html: String,
    pub mine: bool,
    pub attachments: Vec<cartable_store::AttachmentRow>,
}

async fn thread_page(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    id: i64,
    error: Option<String>,
) -> WebResult<ThreadPage> {
    let thread = state.app.open_thread(&session.actor, id).await?;
    let me = session.actor.user_id;
    let messages = thread
        .messages
        .iter()
        .map(|m| MessageRow {
            author_name: m.author_name.clone(),
            when: super::admin::french_datetime(m.created_at),
            body_html: m.body_html.clone(),
            mine: m.author_id == me,
            attachments: m.attachments.clone(),
        })
        .collect();
    let private_note = (thread.private_replies && thread.author_id != me).then(|| {
        "Votre réponse ira seulement à l'auteur du message, pas à tous les destinataires."
            .to_string()
    });
    // A group message does not show its recipients to each other: a pupil
    // has no business seeing the names of every other family of the class.
    let members_preview = if thread.private_replies && thread.author_id != me {
        let author = thread
            .members
            .iter()
            .find(|m| m.id == thread.author_id)
            .map(|a| a.display_name())
            .unwrap_or_default();
        format!(
            "{author} (message à un groupe, {} destinataires)",
            thread.members.len() - 1
        )
    } else {
        let others: Vec<UserSummary> = thread
            .members
            .iter()
            .filter(|m| m.id != me)
            .cloned()
            .collect();
        names_preview(&others, 8)
    };
    Ok(ThreadPage {
        layout: Layout::signed_in(thread.subject.clone(), csrf, session),
        members_preview,
        messages,
        private_note,
        error,
        thread,
    })
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let page = thread_page(&state, &session, &csrf, parse_id(&id)?, None).await?;
    Ok(render(&page)?.into_response())
}

pub async fn reply(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let id = parse_id(&id)?;
    let account = session.actor.user_id.0.to_string();
    limit(&state, RateAction::Message, Some(&account), &client)?;
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
        .reply(
            &session.actor,
            id,
            field(&form, "message"),
            attachments_of(&form),
            &client,
        )
        .await
    {
        Ok(thread) => Ok(Redirect::to(&format!("/messages/{thread}#fin")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } | AppError::RateLimited { .. } => {
                    let page =
                        thread_page(&state, &session, &csrf, id, Some(e.message_fr())).await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

/// Downloads an attachment: always as a download, with the sniffed type and
/// `nosniff`, so that no uploaded file is ever rendered by the browser as a page.
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let a = state
        .app
        .attachment_for(&session.actor, parse_id(&id)?)
        .await?;
    let (file, size) = state.app.blobs.open(&a.blob_key).await.map_err(|e| {
        tracing::error!(error = %e, key = %a.blob_key, "attachment file missing");
        WebError::not_found()
    })?;
    let stream = file_stream(file);
    let disposition = content_disposition(&a.file_name);
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        a.content_type
            .parse()
            .unwrap_or_else(|_| "application/octet-stream".parse().expect("static")),
    );
    h.insert(CONTENT_LENGTH, size.into());
    if let Ok(v) = disposition.parse() {
        h.insert(CONTENT_DISPOSITION, v);
    }
    h.insert(
        "cache-control",
        "private, no-store".parse().expect("static"),
    );
    Ok(resp)
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A file as a stream of chunks, so that downloads are never read whole into memory.
pub(crate) fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn disposition_is_safe_and_keeps_accents() {
        let d = content_disposition("Sortie \"piscine\"\r\n été.pdf");
        assert!(d.starts_with("attachment; filename=\""));
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(d.contains("filename*=UTF-8''Sortie%20%22piscine%22%0D%0A%20%C3%A9t%C3%A9.pdf"));
    }
}
