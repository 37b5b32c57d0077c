//! Devoirs à rendre in the browser: the teacher's form and table of hand-ins
//! (with a zip of everything), the pupil's hand-in form and receipt, the
//! parents' view of the feedback.

use std::io::Write;

use askama::Template;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::assignments::{AssignmentDraft, PupilAssignment, Receipt};
use cartable_app::cohorts::TargetSummary;
use cartable_app::AppError;
use cartable_domain::calendar::Day;
use cartable_domain::policy::{can, Action, Resource};
use cartable_domain::{Role, Target, UserId};
use cartable_store::{AssignmentRow, ChildSummary, PupilWork};
use serde::Deserialize;

use super::messages::{attachment_limits, attachments_of, discard, field, refusal};
use super::{authorize, limit, parse_id, render, school_of};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::{Client, CurrentUser};
use crate::layout::Layout;
use crate::ratelimit::Action as RateAction;
use crate::state::AppState;
use crate::upload::read_upload_form;

/// "mardi 1er décembre à 18:00" (Paris time).
pub fn deadline_fr(unix: impl std::borrow::Borrow<i64>) -> String {
    let unix = *unix.borrow();
    let local = unix + cartable_domain::calendar::paris_offset_secs(unix);
    let day = Day::in_paris(unix);
    let secs = local.rem_euclid(86_400);
    format!(
        "{} à {:02}:{:02}",
        day.long_fr(),
        secs / 3600,
        (secs % 3600) / 60
    )
}

#[derive(Template)]
#[template(path = "rendus.html")]
struct ListPage {
    layout: Layout,
    mine: Vec<PupilAssignment>,
    children: Vec<(ChildSummary, Vec<PupilAssignment>)>,
    taught: Vec<AssignmentRow>,
    targets: Vec<TargetSummary>,
    now: i64,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let actor = &session.actor;
    // The classes and groups a teacher may set work for.
    let mut targets = Vec::new();
    if actor.role == Role::Teacher {
        for c in state.app.store.classes(school).await? {
            let target = Target::Class(c.id);
            if can(
                actor,
                Action::WriteLessons,
                Resource::target(school, target),
            ) {
                targets.push(TargetSummary {
                    target,
                    name: c.name,
                    pupils: c.pupils,
                });
            }
        }
        for g in state.app.store.groups(school).await? {
            let target = Target::Group(g.id);
            if can(
                actor,
                Action::WriteLessons,
                Resource::target(school, target),
            ) {
                targets.push(TargetSummary {
                    target,
                    name: g.name,
                    pupils: g.pupils,
                });
            }
        }
    }
    let page = ListPage {
        layout: Layout::signed_in("Devoirs à rendre", &csrf, &session),
        mine: state.app.my_assignments(actor).await?,
        children: state.app.children_assignments(actor).await?,
        taught: state.app.taught_assignments(actor).await?,
        targets,
        now: state.app.now(),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Default)]
pub struct AssignmentValues {
    pub title: String,
    pub subject: String,
    pub instructions: String,
    pub due_date: String,
    pub due_time: String,
    pub accepts_files: bool,
    pub accepts_text: bool,
}

#[derive(Template)]
#[template(path = "rendu_form.html")]
struct FormPage {
    layout: Layout,
    target: TargetSummary,
    values: AssignmentValues,
    error: Option<String>,
}

/// The class or group of the actor's school they may set work for.
async fn target_for_writing(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    target: Target,
) -> WebResult<TargetSummary> {
    let school = school_of(&session.actor)?;
    let summary = state.app.target_summary(school, target).await?;
    authorize(
        &session.actor,
        Action::WriteLessons,
        Resource::target(school, target),
    )?;
    Ok(summary)
}

pub async fn new_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let target = super::lessons::class_target(&id)?;
    new_assignment_page(&state, &session, &csrf, target).await
}

pub async fn group_new_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let target = super::lessons::group_target(&id)?;
    new_assignment_page(&state, &session, &csrf, target).await
}

async fn new_assignment_page(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    target: Target,
) -> WebResult<Response> {
    let target = target_for_writing(state, session, target).await?;
    let page = FormPage {
        layout: Layout::signed_in(
            format!("Devoir à rendre — {}", target.label_fr()),
            csrf,
            session,
        ),
        target,
        values: AssignmentValues {
            due_date: state.app.school_today().plus(7).iso(),
            due_time: "18:00".into(),
            accepts_files: true,
            accepts_text: true,
            ..AssignmentValues::default()
        },
        error: None,
    };
    Ok(render(&page)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    let target = super::lessons::class_target(&id)?;
    create_assignment(state, session, client, csrf, target, parts, multipart).await
}

pub async fn group_create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    let target = super::lessons::group_target(&id)?;
    create_assignment(state, session, client, csrf, target, parts, multipart).await
}

async fn create_assignment(
    state: AppState,
    session: cartable_app::auth::CurrentSession,
    client: cartable_app::auth::ClientInfo,
    csrf: String,
    target: Target,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    // Checked before a byte of the files is read.
    let summary = target_for_writing(&state, &session, target).await?;
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
    let has = |n: &str| form.fields.iter().any(|(k, _)| k == n);
    let values = AssignmentValues {
        title: field(&form, "titre").into(),
        subject: field(&form, "matiere").into(),
        instructions: field(&form, "consigne").into(),
        due_date: field(&form, "date").into(),
        due_time: field(&form, "heure").into(),
        accepts_files: has("fichiers"),
        accepts_text: has("texte"),
    };
    let draft = AssignmentDraft {
        title: values.title.clone(),
        subject: values.subject.clone(),
        instructions: values.instructions.clone(),
        due_date: values.due_date.clone(),
        due_time: values.due_time.clone(),
        accepts_files: values.accepts_files,
        accepts_text: values.accepts_text,
        attachments: attachments_of(&form),
    };
    match state
        .app
        .create_assignment(&session.actor, target, draft, &client)
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/rendus/{id}")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let page = FormPage {
                        layout: Layout::signed_in(
                            format!("Devoir à rendre — {}", summary.label_fr()),
                            &csrf,
                            &session,
                        ),
                        target: summary,
                        values,
                        error: Some(e.message_fr()),
                    };
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

pub struct WorkRow {
    pub work: PupilWork,
    pub status: &'static str,
    pub css: &'static str,
}

#[derive(Template)]
#[template(path = "rendu.html")]
struct AssignmentPage {
    layout: Layout,
    assignment: AssignmentRow,
    deadline: String,
    closed: bool,
    /// Pupil or parent: their own / their children's work.
    own: Vec<(String, PupilAssignment)>,
    /// Teacher: the class's table.
    work: Vec<WorkRow>,
    counts: (usize, usize, usize),
    may_mark: bool,
    idempotency_key: String,
    error: Option<String>,
    receipt: Option<Receipt>,
    /// Pupil: the hand-in form is shown (before the deadline, or after it if nothing was handed in).
    show_form: bool,
    /// Pupil: the form replaces earlier work.
    replacing: bool,
}

fn new_key() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn assignment_page(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    id: i64,
    error: Option<String>,
    receipt: Option<Receipt>,
) -> WebResult<AssignmentPage> {
    let actor = &session.actor;
    let (assignment, own) = state.app.pupil_work(actor, id).await?;
    let (work, may_mark) = match state.app.assignment_work(actor, id).await {
        Ok((_, work)) => (work, true),
        Err(AppError::Forbidden) => (Vec::new(), false),
        Err(e) => return Err(e.into()),
    };
    let work: Vec<WorkRow> = work
        .into_iter()
        .map(|w| {
            let (status, css) = match &w.submission {
                None => ("pas rendu", "reject"),
                Some(s) if s.late => ("rendu en retard", "update"),
                Some(_) => ("rendu", "create"),
            };
            WorkRow {
                work: w,
                status,
                css,
            }
        })
        .collect();
    let counts = (
        work.iter()
            .filter(|w| w.work.submission.as_ref().is_some_and(|s| !s.late))
            .count(),
        work.iter()
            .filter(|w| w.work.submission.as_ref().is_some_and(|s| s.late))
            .count(),
        work.iter().filter(|w| w.work.submission.is_none()).count(),
    );
    let closed = state.app.now() > assignment.due_at;
    let handed_in = own.first().is_some_and(|(_, i)| i.submission.is_some());
    let is_pupil = actor.role == Role::Pupil;
    Ok(AssignmentPage {
        show_form: is_pupil && (!closed || !handed_in),
        replacing: handed_in,
        layout: Layout::signed_in(assignment.title.clone(), csrf, session),
        deadline: deadline_fr(assignment.due_at),
        closed,
        own,
        work,
        counts,
        may_mark,
        idempotency_key: new_key(),
        error,
        receipt,
        assignment,
    })
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let page = assignment_page(&state, &session, &csrf, parse_id(&id)?, None, None).await?;
    Ok(render(&page)?.into_response())
}

/// Hands in work. The answer comes only after the files and the row are
/// durable: the receipt it shows is a promise kept.
pub async fn hand_in(
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
    limit(&state, RateAction::HandIn, Some(&account), &client)?;
    // Refuse before reading (and storing) the body: a parent or a pupil of
    // another class must not make the server write 25 MB to throw away.
    if let Err(e) = state.app.may_hand_in(&session.actor, id).await {
        return match e {
            AppError::Invalid { .. } => {
                let page = assignment_page(&state, &session, &csrf, id, Some(e.message_fr()), None)
                    .await?;
                Ok(refusal(&e, render(&page)?))
            }
            other => Err(other.into()),
        };
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
    let result = state
        .app
        .hand_in(
            &session.actor,
            id,
            field(&form, "texte"),
            attachments_of(&form),
            field(&form, "cle"),
            &client,
        )
        .await;
    match result {
        Ok(receipt) => {
            if receipt.replayed {
                // The first copy of this form already stored its files: these are duplicates.
                discard(&state, &form).await;
            }
            let submission_id = receipt.submission.id;
            let page = assignment_page(&state, &session, &csrf, id, None, Some(receipt)).await?;
            let mut resp = render(&page)?.into_response();
            resp.headers_mut()
                .insert("x-cartable-receipt", submission_id.into());
            Ok(resp)
        }
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let page =
                        assignment_page(&state, &session, &csrf, id, Some(e.message_fr()), None)
                            .await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

#[derive(Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    commentaire: String,
    #[serde(default)]
    note: String,
}

pub async fn give_feedback(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Path((id, pupil)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<FeedbackForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let pupil = UserId(parse_id(&pupil)?);
    match state
        .app
        .return_feedback(
            &session.actor,
            id,
            pupil,
            &form.commentaire,
            &form.note,
            &client,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/rendus/{id}#p{pupil}")).into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let page =
                assignment_page(&state, &session, &csrf, id, Some(e.message_fr()), None).await?;
            Ok(refusal(&e, render(&page)?))
        }
        Err(e) => Err(e.into()),
    }
}

/// Every current hand-in in one zip: a folder per pupil with their files and
/// their text. Built in a temporary file (never whole in memory), then streamed.
pub async fn download_all(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let id = parse_id(&id)?;
    let (assignment, work) = state.app.assignment_work(&session.actor, id).await?;
    let mut entries: Vec<(String, Entry)> = Vec::new();
    for w in &work {
        let Some(s) = &w.submission else { continue };
        let folder = safe_zip_name(&format!("{} {}", w.pupil.last_name, w.pupil.first_name));
        if s.text_chars > 0 {
            entries.push((
                format!("{folder}/texte.html"),
                Entry::Text(s.text_html.clone()),
            ));
        }
        for f in &s.files {
            entries.push((
                format!("{folder}/{}", safe_zip_name(&f.file_name)),
                Entry::Blob(f.blob_key.clone()),
            ));
        }
    }
    // Open every file first (async), then write the zip on a blocking thread,
    // copying file by file: nothing is held whole in memory.
    let mut sources = Vec::with_capacity(entries.len());
    for (name, entry) in entries {
        let source = match entry {
            Entry::Text(t) => Source::Text(t),
            Entry::Blob(key) => {
                let (file, _) = state
                    .app
                    .blobs
                    .open(&key)
                    .await
                    .map_err(|e| WebError::Internal(format!("zip: {e}")))?;
                Source::File(file.into_std().await)
            }
        };
        sources.push((name, source));
    }
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let mut out = tempfile::tempfile()?;
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            let mut seen = std::collections::BTreeSet::new();
            for (name, source) in sources {
                let mut unique = name.clone();
                let mut n = 2;
                while !seen.insert(unique.clone()) {
                    unique = format!("{n}-{name}");
                    n += 1;
                }
                zip.start_file(unique, options)
                    .map_err(std::io::Error::other)?;
                match source {
                    Source::Text(t) => zip.write_all(t.as_bytes())?,
                    Source::File(mut f) => {
                        std::io::copy(&mut f, &mut zip)?;
                    }
                }
            }
            zip.finish().map_err(std::io::Error::other)?;
        }
        use std::io::Seek;
        out.rewind()?;
        Ok(out)
    })
    .await
    .map_err(|e| WebError::Internal(format!("zip task: {e}")))?
    .map_err(|e| WebError::Internal(format!("zip: {e}")))?;
    let stream = super::messages::file_stream(tokio::fs::File::from_std(file));
    let name = safe_zip_name(&format!(
        "{} - {}.zip",
        assignment.target_name, assignment.title
    ));
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut()
        .insert(CONTENT_TYPE, "application/zip".parse().expect("static"));
    if let Ok(v) = format!("attachment; filename=\"{}\"", name.replace('"', "")).parse() {
        resp.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

enum Entry {
    Text(String),
    Blob(String),
}

enum Source {
    Text(String),
    File(std::fs::File),
}

/// A file or folder name safe in a zip: ASCII-folded, no path separators or controls.
fn safe_zip_name(raw: &str) -> String {
    let folded = cartable_domain::names::search_key(raw);
    let cleaned: String = folded
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned
        .trim_matches(|c: char| c == '.' || c == ' ')
        .to_string();
    if trimmed.is_empty() {
        "fichier".into()
    } else {
        trimmed.chars().take(100).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_names_are_safe() {
        assert_eq!(safe_zip_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_zip_name("Léa MARTIN"), "lea martin");
        assert_eq!(safe_zip_name(""), "fichier");
        assert_eq!(
            deadline_fr(1_788_220_800 + 16 * 3600),
            "mardi 1er septembre à 18:00"
        );
    }
}
