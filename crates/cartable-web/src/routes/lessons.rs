//! The cahier de textes in the browser: a class's or a group's week, the
//! form to log a lesson (with the workload of its pupils beside it), the
//! files of a lesson, a pupil's homework list.
//!
//! A class's pages live under `/cahier/classes/{id}`, a group's under
//! `/cahier/groupes/{id}`: the same handlers, told which one by the route.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::auth::CurrentSession;
use cartable_app::cohorts::TargetSummary;
use cartable_app::lessons::{DueDay, LessonDraft, WorkloadDay};
use cartable_app::AppError;
use cartable_domain::calendar::Day;
use cartable_domain::policy::{can, Action, Resource};
use cartable_domain::{ClassId, GroupId, Role, Target};
use cartable_store::{AttachmentRow, ChildSummary, ClassSummary, GroupSummary, LessonRow};
use serde::Deserialize;

use super::messages::{attachment_limits, attachments_of, discard, field, refusal};
use super::{authorize, parse_id, render, school_of, Empty};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::{Client, CurrentUser, Query};
use crate::layout::Layout;
use crate::state::AppState;
use crate::upload::read_upload_form;

pub use cartable_app::lessons::MAX_LESSON_FILES;

#[derive(Deserialize)]
pub struct WeekQuery {
    semaine: Option<String>,
}

fn week_of(state: &AppState, q: &WeekQuery) -> Day {
    q.semaine
        .as_deref()
        .and_then(Day::parse)
        .unwrap_or_else(|| state.app.school_today())
        .monday()
}

#[derive(Template)]
#[template(path = "cahier.html")]
struct CahierPage {
    layout: Layout,
    mine: Vec<ClassSummary>,
    others: Vec<ClassSummary>,
    my_groups: Vec<GroupSummary>,
    other_groups: Vec<GroupSummary>,
}

/// The classes and groups whose cahier one may open; pupils and parents go to their homework.
pub async fn index(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    if matches!(session.actor.role, Role::Pupil | Role::Parent) {
        return Ok(Redirect::to("/devoirs").into_response());
    }
    let mut page = CahierPage {
        layout: Layout::signed_in("Cahier de textes", &csrf, &session),
        mine: Vec::new(),
        others: Vec::new(),
        my_groups: Vec::new(),
        other_groups: Vec::new(),
    };
    for class in state.app.store.classes(school).await? {
        let resource = Resource::Class {
            school,
            class: class.id,
        };
        if can(&session.actor, Action::WriteLessons, resource) {
            page.mine.push(class);
        } else if can(&session.actor, Action::ViewLessons, resource) {
            page.others.push(class);
        }
    }
    for group in state.app.store.groups(school).await? {
        let resource = Resource::Group {
            school,
            group: group.id,
        };
        if can(&session.actor, Action::WriteLessons, resource) {
            page.my_groups.push(group);
        } else if can(&session.actor, Action::ViewLessons, resource) {
            page.other_groups.push(group);
        }
    }
    Ok(render(&page)?.into_response())
}

pub struct DayLessons {
    pub day: Day,
    pub lessons: Vec<LessonRow>,
}

#[derive(Template)]
#[template(path = "cahier_week.html")]
struct WeekPage {
    layout: Layout,
    target: TargetSummary,
    monday: Day,
    days: Vec<DayLessons>,
    may_write: bool,
    may_see_workload: bool,
    now: i64,
}

pub(super) fn class_target(raw: &str) -> WebResult<Target> {
    Ok(Target::Class(ClassId(parse_id(raw)?)))
}

pub(super) fn group_target(raw: &str) -> WebResult<Target> {
    Ok(Target::Group(GroupId(parse_id(raw)?)))
}

/// The class or group of the actor's school whose cahier they may read.
async fn readable(
    state: &AppState,
    session: &CurrentSession,
    target: Target,
) -> WebResult<TargetSummary> {
    let school = school_of(&session.actor)?;
    let summary = state.app.target_summary(school, target).await?;
    authorize(
        &session.actor,
        Action::ViewLessons,
        Resource::target(school, target),
    )?;
    Ok(summary)
}

/// The class or group of the actor's school whose cahier they may write.
async fn writable(
    state: &AppState,
    session: &CurrentSession,
    target: Target,
) -> WebResult<TargetSummary> {
    let school = school_of(&session.actor)?;
    let summary = readable(state, session, target).await?;
    authorize(
        &session.actor,
        Action::WriteLessons,
        Resource::target(school, target),
    )?;
    Ok(summary)
}

pub async fn week(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> WebResult<Response> {
    week_page(&state, &session, &csrf, class_target(&id)?, &q).await
}

pub async fn group_week(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> WebResult<Response> {
    week_page(&state, &session, &csrf, group_target(&id)?, &q).await
}

async fn week_page(
    state: &AppState,
    session: &CurrentSession,
    csrf: &str,
    target: Target,
    q: &WeekQuery,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let summary = readable(state, session, target).await?;
    let monday = week_of(state, q);
    let lessons = state
        .app
        .target_week(&session.actor, target, monday)
        .await?;
    let days = (0..7)
        .map(|i| monday.plus(i))
        .map(|day| DayLessons {
            day,
            lessons: lessons
                .iter()
                .filter(|l| l.fields.lesson_date == day.iso())
                .cloned()
                .collect(),
        })
        .filter(|d| d.day.weekday() < 5 || !d.lessons.is_empty())
        .collect();
    let page = WeekPage {
        layout: Layout::signed_in(
            format!("Cahier de textes — {}", summary.label_fr()),
            csrf,
            session,
        ),
        may_write: can(
            &session.actor,
            Action::WriteLessons,
            Resource::target(school, target),
        ),
        may_see_workload: matches!(
            session.actor.role,
            Role::Teacher | Role::Staff | Role::SchoolAdmin
        ),
        target: summary,
        monday,
        days,
        now: state.app.now(),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "cahier_workload.html")]
struct WorkloadPage {
    layout: Layout,
    target: TargetSummary,
    monday: Day,
    days: Vec<WorkloadDay>,
    caption_text: String,
}

pub async fn workload(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> WebResult<Response> {
    workload_page(&state, &session, &csrf, class_target(&id)?, &q).await
}

pub async fn group_workload(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    Query(q): Query<WeekQuery>,
) -> WebResult<Response> {
    workload_page(&state, &session, &csrf, group_target(&id)?, &q).await
}

async fn workload_page(
    state: &AppState,
    session: &CurrentSession,
    csrf: &str,
    target: Target,
    q: &WeekQuery,
) -> WebResult<Response> {
    let summary = readable(state, session, target).await?;
    let monday = week_of(state, q);
    let days = state
        .app
        .target_workload(&session.actor, target, monday)
        .await?;
    let page = WorkloadPage {
        layout: Layout::signed_in(
            format!("Charge de travail — {}", summary.label_fr()),
            csrf,
            session,
        ),
        caption_text: format!("Semaine du {}", monday.long_fr()),
        target: summary,
        monday,
        days,
    };
    Ok(render(&page)?.into_response())
}

/// What the lesson form shows back after a refusal, or when editing.
#[derive(Default)]
pub struct FormValues {
    pub subject: String,
    pub lesson_date: String,
    pub content: String,
    pub homework: String,
    pub due_date: String,
    pub workload: String,
    pub is_test: bool,
    pub publish_date: String,
}

impl FormValues {
    fn from_draft(d: &LessonDraft) -> FormValues {
        FormValues {
            subject: d.subject.clone(),
            lesson_date: d.lesson_date.clone(),
            content: d.content.clone(),
            homework: d.homework.clone(),
            due_date: d.due_date.clone(),
            workload: d.workload_minutes.clone(),
            is_test: d.is_test,
            publish_date: d.publish_date.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "cahier_form.html")]
struct LessonFormPage {
    layout: Layout,
    target: TargetSummary,
    values: FormValues,
    /// This week's and next week's workload, to look at before adding more.
    weeks: Vec<(Day, Vec<WorkloadDay>)>,
    action: String,
    /// Editing: the lesson's id and its files, each of which can be removed.
    editing: Option<(i64, Vec<AttachmentRow>)>,
    error: Option<String>,
    /// Where "Annuler" goes back to.
    back: String,
}

/// A new lesson for a class or group, or an edit of an existing one.
#[derive(Clone, Copy)]
enum FormMode {
    New,
    Edit(i64),
}

async fn lesson_form(
    state: &AppState,
    session: &CurrentSession,
    csrf: &str,
    target: TargetSummary,
    values: FormValues,
    mode: FormMode,
    error: Option<String>,
) -> WebResult<LessonFormPage> {
    let (action, editing, back) = match mode {
        FormMode::New => (
            format!("/cahier/{}", target.path()),
            None,
            format!("/cahier/{}", target.path()),
        ),
        FormMode::Edit(id) => {
            let lesson = state.app.lesson_for(&session.actor, id).await?;
            (
                format!("/cahier/seances/{id}/modifier"),
                Some((id, lesson.attachments)),
                format!("/cahier/seances/{id}"),
            )
        }
    };
    let monday = state.app.school_today().monday();
    let mut weeks = Vec::new();
    for m in [monday, monday.plus(7)] {
        weeks.push((
            m,
            state
                .app
                .target_workload(&session.actor, target.target, m)
                .await?,
        ));
    }
    Ok(LessonFormPage {
        layout: Layout::signed_in(
            format!("Cahier de textes — {}", target.label_fr()),
            csrf,
            session,
        ),
        target,
        values,
        weeks,
        action,
        editing,
        error,
        back,
    })
}

pub async fn new_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    new_lesson_page(&state, &session, &csrf, class_target(&id)?).await
}

pub async fn group_new_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    new_lesson_page(&state, &session, &csrf, group_target(&id)?).await
}

async fn new_lesson_page(
    state: &AppState,
    session: &CurrentSession,
    csrf: &str,
    target: Target,
) -> WebResult<Response> {
    let summary = writable(state, session, target).await?;
    let values = FormValues {
        lesson_date: state.app.school_today().iso(),
        ..FormValues::default()
    };
    let page = lesson_form(state, session, csrf, summary, values, FormMode::New, None).await?;
    Ok(render(&page)?.into_response())
}

fn draft_of(form_field: impl Fn(&str) -> String, has: impl Fn(&str) -> bool) -> LessonDraft {
    LessonDraft {
        subject: form_field("matiere"),
        lesson_date: form_field("date"),
        content: form_field("contenu"),
        homework: form_field("travail"),
        due_date: form_field("pour_le"),
        workload_minutes: form_field("duree"),
        is_test: has("evaluation"),
        publish_date: form_field("publier_le"),
        attachments: Vec::new(),
    }
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
    let target = class_target(&id)?;
    create_lesson(state, session, client, csrf, target, parts, multipart).await
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
    let target = group_target(&id)?;
    create_lesson(state, session, client, csrf, target, parts, multipart).await
}

async fn create_lesson(
    state: AppState,
    session: CurrentSession,
    client: cartable_app::auth::ClientInfo,
    csrf: String,
    target: Target,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    // Checked before a byte of the files is read.
    let summary = writable(&state, &session, target).await?;
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
    let mut draft = draft_of(
        |n| field(&form, n).to_string(),
        |n| form.fields.iter().any(|(k, _)| k == n),
    );
    draft.attachments = attachments_of(&form);
    let values = FormValues::from_draft(&draft);
    match state
        .app
        .write_lesson(&session.actor, target, draft, &client)
        .await
    {
        Ok(lesson) => Ok(Redirect::to(&format!("/cahier/seances/{lesson}")).into_response()),
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let page = lesson_form(
                        &state,
                        &session,
                        &csrf,
                        summary,
                        values,
                        FormMode::New,
                        Some(e.message_fr()),
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
#[template(path = "cahier_lesson.html")]
struct LessonPage {
    layout: Layout,
    lesson: LessonRow,
    may_edit: bool,
    scheduled: bool,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    let lesson = state.app.lesson_for(&session.actor, parse_id(&id)?).await?;
    let page = LessonPage {
        layout: Layout::signed_in(
            format!("{} — {}", lesson.fields.subject, lesson.target_name),
            &csrf,
            &session,
        ),
        may_edit: lesson.author_id == session.actor.user_id,
        scheduled: lesson.fields.publish_at > state.app.now(),
        lesson,
    };
    Ok(render(&page)?.into_response())
}

fn iso_to_form(iso: &str) -> String {
    Day::parse(iso).map(|d| d.iso()).unwrap_or_default()
}

/// The edit form filled in with a lesson as stored.
fn form_values_of(state: &AppState, lesson: &LessonRow) -> FormValues {
    let f = &lesson.fields;
    FormValues {
        subject: f.subject.clone(),
        lesson_date: iso_to_form(&f.lesson_date),
        content: f.content_md.clone(),
        homework: f.homework_md.clone(),
        due_date: f.due_date.as_deref().map(iso_to_form).unwrap_or_default(),
        workload: f
            .workload_minutes
            .map(|m| m.to_string())
            .unwrap_or_default(),
        is_test: f.is_test,
        publish_date: if f.publish_at > state.app.now() {
            Day::in_paris(f.publish_at).iso()
        } else {
            String::new()
        },
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let lesson = state.app.lesson_for(&session.actor, parse_id(&id)?).await?;
    if lesson.author_id != session.actor.user_id {
        return Err(WebError::forbidden());
    }
    let target = state.app.target_summary(school, lesson.target).await?;
    let values = form_values_of(&state, &lesson);
    let page = lesson_form(
        &state,
        &session,
        &csrf,
        target,
        values,
        FormMode::Edit(lesson.id),
        None,
    )
    .await?;
    Ok(render(&page)?.into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let id = parse_id(&id)?;
    let get = |n: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let draft = draft_of(get, |n| pairs.iter().any(|(k, _)| k == n));
    let values = FormValues::from_draft(&draft);
    match state.app.edit_lesson(&session.actor, id, draft).await {
        Ok(()) => Ok(Redirect::to(&format!("/cahier/seances/{id}")).into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let lesson = state.app.lesson_for(&session.actor, id).await?;
            let target = state.app.target_summary(school, lesson.target).await?;
            let page = lesson_form(
                &state,
                &session,
                &csrf,
                target,
                values,
                FormMode::Edit(id),
                Some(e.message_fr()),
            )
            .await?;
            Ok(refusal(&e, render(&page)?))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let target = state
        .app
        .delete_lesson(&session.actor, parse_id(&id)?, &client)
        .await?;
    Ok(Redirect::to(&format!("/cahier/{}", target.path())).into_response())
}

/// Adds files to a lesson already written, from its edit page.
pub async fn add_files(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    parts: Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let id = parse_id(&id)?;
    // Checked before a byte of the files is read: only the author, who still
    // teaches the class or group, may add to a lesson.
    let lesson = state.app.lesson_for(&session.actor, id).await?;
    if lesson.author_id != session.actor.user_id {
        return Err(WebError::forbidden());
    }
    authorize(
        &session.actor,
        Action::WriteLessons,
        Resource::target(school, lesson.target),
    )?;
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
    let files = attachments_of(&form);
    match state
        .app
        .add_lesson_files(&session.actor, id, files, &client)
        .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/cahier/seances/{id}/modifier#documents")).into_response())
        }
        Err(e) => {
            discard(&state, &form).await;
            match e {
                AppError::Invalid { .. } => {
                    let target = state.app.target_summary(school, lesson.target).await?;
                    let page = lesson_form(
                        &state,
                        &session,
                        &csrf,
                        target,
                        form_values_of(&state, &lesson),
                        FormMode::Edit(id),
                        Some(e.message_fr()),
                    )
                    .await?;
                    Ok(refusal(&e, render(&page)?))
                }
                other => Err(other.into()),
            }
        }
    }
}

/// Removes one file of a lesson, from its edit page.
pub async fn remove_file(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path((id, file)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    state
        .app
        .remove_lesson_file(&session.actor, id, parse_id(&file)?, &client)
        .await?;
    Ok(Redirect::to(&format!("/cahier/seances/{id}/modifier#documents")).into_response())
}

#[derive(Template)]
#[template(path = "devoirs.html")]
struct DuePage {
    layout: Layout,
    today: Day,
    mine: Vec<DueDay>,
    children: Vec<(ChildSummary, Vec<DueDay>)>,
    is_pupil: bool,
}

pub async fn due(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    if !matches!(session.actor.role, Role::Pupil | Role::Parent) {
        return Ok(Redirect::to("/cahier").into_response());
    }
    let page = DuePage {
        layout: Layout::signed_in("Travail à faire", &csrf, &session),
        today: state.app.school_today(),
        mine: state.app.due_for_pupil(&session.actor).await?,
        children: state.app.due_for_children(&session.actor).await?,
        is_pupil: session.actor.role == Role::Pupil,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct DoneForm {
    fait: Option<String>,
}

pub async fn mark_done(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DoneForm>,
) -> WebResult<Response> {
    let id = parse_id(&id)?;
    let done = form.fait.as_deref() == Some("1");
    state
        .app
        .set_homework_done(&session.actor, id, done)
        .await?;
    Ok(Redirect::to(&format!("/devoirs#l{id}")).into_response())
}

/// `YYYY-MM-DD` as `jj/mm/aaaa` (templates).
pub fn french_iso(iso: &str) -> String {
    Day::parse(iso)
        .map(|d| d.french())
        .unwrap_or_else(|| iso.to_string())
}
