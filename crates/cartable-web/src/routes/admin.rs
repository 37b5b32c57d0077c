//! The school office: directory, roster import, activation codes, accounts,
//! audit log. Every handler asks the policy; staff and admins get different
//! rights (see `cartable_domain::policy`).

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::accounts::IssuedCodes;
use cartable_app::AppError;
use cartable_domain::calendar::Day;
use cartable_domain::policy::{Action, Resource};
use cartable_domain::roster::{LineOutcome, RosterApplied, RosterKind, RosterPlan};
use cartable_domain::{ClassId, Role, UserId};
use cartable_store::{AuditEvent, ClassSummary, UserSummary};
use serde::Deserialize;

use super::{authorize, parse_id, render, school_of, Empty};
use crate::csrf::{self, CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::{Client, CurrentUser, Query};
use crate::layout::Layout;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct PeopleQuery {
    role: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_people.html")]
struct PeoplePage {
    layout: Layout,
    people: Vec<UserSummary>,
    role_filter: String,
    filters: Vec<(&'static str, &'static str)>,
}

const ROLE_FILTERS: [(&str, &str); 6] = [
    ("", "Tous"),
    ("pupil", "Élèves"),
    ("parent", "Parents"),
    ("teacher", "Enseignants"),
    ("staff", "Personnels"),
    ("school_admin", "Administrateurs"),
];

pub async fn people(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<PeopleQuery>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::ViewDirectory,
        Resource::School(school),
    )?;
    let role = q.role.as_deref().and_then(Role::from_code);
    let page = PeoplePage {
        layout: Layout::signed_in("Personnes", &csrf, &session),
        people: state.app.store.people(school, role).await?,
        role_filter: role.map(|r| r.code().to_string()).unwrap_or_default(),
        filters: ROLE_FILTERS.to_vec(),
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "admin_classes.html")]
struct ClassesPage {
    layout: Layout,
    classes: Vec<ClassSummary>,
}

pub async fn classes(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::ViewDirectory,
        Resource::School(school),
    )?;
    let page = ClassesPage {
        layout: Layout::signed_in("Classes", &csrf, &session),
        classes: state.app.store.classes(school).await?,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Template)]
#[template(path = "admin_import.html")]
struct ImportPage {
    layout: Layout,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    let mut k = vec![("", "Détection automatique")];
    k.extend(RosterKind::ALL.iter().map(|k| (k.code(), k.label_fr())));
    k
}

pub async fn import_page(
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::ImportRoster,
        Resource::School(school),
    )?;
    let page = ImportPage {
        layout: Layout::signed_in("Importer des comptes", &csrf, &session),
        kinds: kinds(),
        error: None,
    };
    Ok(render(&page)?.into_response())
}

/// One line of the preview or result table.
pub struct LineRow {
    pub line: usize,
    pub who: String,
    pub status: &'static str,
    pub css: &'static str,
    pub detail: String,
}

fn line_rows(plan: &RosterPlan) -> Vec<LineRow> {
    plan.lines
        .iter()
        .map(|l| {
            let (status, css, detail) = match &l.outcome {
                LineOutcome::Create => ("Création", "create", String::new()),
                LineOutcome::Update(changes) => ("Mise à jour", "update", changes.join(" ; ")),
                LineOutcome::Unchanged => ("Inchangé", "same", String::new()),
                LineOutcome::Duplicate { first_line } => {
                    ("Doublon", "same", format!("déjà en ligne {first_line}"))
                }
                LineOutcome::Rejected(why) => ("Rejetée", "reject", why.clone()),
            };
            LineRow {
                line: l.line,
                who: l.who.clone(),
                status,
                css,
                detail,
            }
        })
        .collect()
}

pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub same: usize,
    pub reject: usize,
}

fn counts(plan: &RosterPlan) -> Counts {
    Counts {
        create: plan.count(|o| matches!(o, LineOutcome::Create)),
        update: plan.count(|o| matches!(o, LineOutcome::Update(_))),
        same: plan.count(|o| matches!(o, LineOutcome::Unchanged | LineOutcome::Duplicate { .. })),
        reject: plan.count(|o| matches!(o, LineOutcome::Rejected(_))),
    }
}

#[derive(Template)]
#[template(path = "admin_import_preview.html")]
struct PreviewPage {
    layout: Layout,
    file_name: String,
    kind_label: &'static str,
    draft_id: i64,
    rows: Vec<LineRow>,
    counts: Counts,
    has_changes: bool,
}

/// Step 1: the uploaded file is read and planned, nothing is written but a draft.
pub async fn import_preview(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    parts: axum::http::request::Parts,
    multipart: Result<Multipart, MultipartRejection>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::ImportRoster,
        Resource::School(school),
    )?;
    let bad = |m: &str| WebError::BadForm(m.to_string());
    let mut multipart = multipart.map_err(|_| {
        bad("Le fichier n'a pas été envoyé correctement : utilisez le formulaire d'import et recommencez.")
    })?;
    let mut token_checked = false;
    let mut kind: Option<RosterKind> = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| {
        bad("L'envoi du fichier a été interrompu ou dépasse 10 Mo : rien n'a été importé.")
    })? {
        match field.name().unwrap_or("") {
            "csrf" => {
                let value = field.text().await.map_err(|_| WebError::Csrf)?;
                csrf::verify(&state, &parts, Some(&value))?;
                token_checked = true;
            }
            // The token comes first in the form: nothing else is read before it is checked.
            _ if !token_checked => return Err(WebError::Csrf),
            "kind" => {
                let value = field
                    .text()
                    .await
                    .map_err(|_| bad("Formulaire incomplet."))?;
                kind = RosterKind::from_code(value.trim());
            }
            "file" => {
                let name = field.file_name().unwrap_or("fichier.csv").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| bad("L'envoi du fichier a été interrompu ou dépasse 10 Mo : rien n'a été importé."))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    if !token_checked {
        return Err(WebError::Csrf);
    }
    let (name, bytes) = match file {
        Some((n, b)) if !b.is_empty() => (n, b),
        _ => {
            return import_error(
                &csrf,
                &session,
                "Choisissez un fichier CSV à importer (le fichier envoyé est vide).".into(),
            )
        }
    };
    match state
        .app
        .preview_import(&session.actor, school, &name, bytes, kind)
        .await
    {
        Ok(preview) => {
            let page = PreviewPage {
                layout: Layout::signed_in("Aperçu de l'import", &csrf, &session),
                kind_label: preview.plan.kind.label_fr(),
                draft_id: preview.draft_id,
                rows: line_rows(&preview.plan),
                counts: counts(&preview.plan),
                has_changes: !preview.plan.is_noop(),
                file_name: preview.file_name,
            };
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid { message, .. }) => import_error(&csrf, &session, message),
        Err(e) => Err(e.into()),
    }
}

fn import_error(
    csrf: &str,
    session: &cartable_app::auth::CurrentSession,
    message: String,
) -> WebResult<Response> {
    let page = ImportPage {
        layout: Layout::signed_in("Importer des comptes", csrf, session),
        kinds: kinds(),
        error: Some(message),
    };
    Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "admin_import_done.html")]
struct ImportDonePage {
    layout: Layout,
    kind_label: &'static str,
    rows: Vec<LineRow>,
    counts: Counts,
    applied: RosterApplied,
}

/// Step 2: apply, in one transaction.
pub async fn import_apply(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    Path(draft): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::ImportRoster,
        Resource::School(school),
    )?;
    let draft = parse_id(&draft)?;
    match state
        .app
        .apply_import(&session.actor, school, draft, &client)
        .await
    {
        Ok((plan, applied)) => {
            let page = ImportDonePage {
                layout: Layout::signed_in("Import terminé", &csrf, &session),
                kind_label: plan.kind.label_fr(),
                rows: line_rows(&plan),
                counts: counts(&plan),
                applied,
            };
            Ok(render(&page)?.into_response())
        }
        Err(AppError::Invalid { message, .. }) => import_error(&csrf, &session, message),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CodesQuery {
    classe: Option<String>,
    role: Option<String>,
    tous: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_codes.html")]
struct CodesPage {
    layout: Layout,
    classes: Vec<ClassSummary>,
    people: Vec<UserSummary>,
    selected_class: Option<i64>,
    role_filter: String,
    include_active: bool,
}

/// Choose who gets a code: by class (pupils), by role, not yet activated by default.
pub async fn codes_page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<CodesQuery>,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(
        &session.actor,
        Action::ViewDirectory,
        Resource::School(school),
    )?;
    let store = &state.app.store;
    let selected_class = q.classe.as_deref().and_then(|c| c.parse::<i64>().ok());
    let role = q.role.as_deref().and_then(Role::from_code);
    let include_active = q.tous.is_some();
    let mut people = match selected_class {
        Some(c) => {
            store
                .class(school, ClassId(c))
                .await?
                .ok_or_else(WebError::not_found)?;
            store.class_pupils(school, ClassId(c)).await?
        }
        None => store.people(school, role.or(Some(Role::Pupil))).await?,
    };
    // The policy facts of the whole school in two queries, not two per person.
    let facts: std::collections::HashMap<UserId, cartable_domain::policy::PersonFacts> = store
        .school_people_facts(school)
        .await?
        .into_iter()
        .map(|(p, f)| (p.id, f))
        .collect();
    let allowed: Vec<UserSummary> = people
        .drain(..)
        .filter(|p| include_active || !p.activated)
        .filter(|p| {
            facts.get(&p.id).is_some_and(|f| {
                cartable_domain::policy::can(
                    &session.actor,
                    Action::IssueActivationCode,
                    Resource::Person(f),
                )
            })
        })
        .collect();
    let page = CodesPage {
        layout: Layout::signed_in("Codes d'activation", &csrf, &session),
        classes: store.classes(school).await?,
        people: allowed,
        selected_class,
        role_filter: role
            .map(|r| r.code().to_string())
            .unwrap_or_else(|| "pupil".into()),
        include_active,
    };
    Ok(render(&page)?.into_response())
}

pub struct Slip {
    pub name: String,
    pub role_label: &'static str,
    pub class_name: String,
    pub login: String,
    pub code: String,
    pub expires: String,
}

#[derive(Template)]
#[template(path = "admin_slips.html")]
struct SlipsPage {
    layout: Layout,
    school_name: String,
    site: String,
    slips: Vec<Slip>,
    skipped: Vec<UserSummaryName>,
}

pub struct UserSummaryName {
    pub name: String,
}

fn slips_page(
    state_site: String,
    school_name: String,
    issued: IssuedCodes,
    layout: Layout,
) -> SlipsPage {
    SlipsPage {
        layout,
        school_name,
        site: state_site,
        slips: issued
            .issued
            .into_iter()
            .map(|i| Slip {
                name: i.user.display_name(),
                role_label: i.user.role.label_fr(),
                class_name: i.class_name.unwrap_or_default(),
                login: i.user.login,
                code: i.code,
                expires: french_date(i.expires_at),
            })
            .collect(),
        skipped: issued
            .already_active
            .into_iter()
            .map(|u| UserSummaryName {
                name: u.display_name(),
            })
            .collect(),
    }
}

fn site_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("cartable");
    format!("http://{host}/activation")
}

/// Issues codes for the ticked people and shows the slips to print.
pub async fn issue_codes(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> WebResult<Response> {
    let ids: Vec<UserId> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.parse().map(UserId))
        .collect::<Result<_, _>>()
        .map_err(|_| WebError::BadForm("Sélection invalide.".into()))?;
    if ids.is_empty() {
        return Err(WebError::BadForm("Cochez au moins une personne.".into()));
    }
    if ids.len() > 2000 {
        return Err(WebError::BadForm(
            "2 000 personnes au plus par impression.".into(),
        ));
    }
    let include_active = pairs.iter().any(|(k, _)| k == "reinitialiser");
    let issued = state
        .app
        .issue_codes(&session.actor, &ids, include_active, &client)
        .await?;
    show_slips(
        &state,
        &session,
        &csrf,
        &headers,
        "Codes à imprimer",
        issued,
    )
    .await
}

async fn show_slips(
    state: &AppState,
    session: &cartable_app::auth::CurrentSession,
    csrf: &str,
    headers: &HeaderMap,
    title: &str,
    issued: IssuedCodes,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    let school_name = state
        .app
        .store
        .school(school)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let layout = Layout::signed_in(title, csrf, session);
    Ok(render(&slips_page(site_of(headers), school_name, issued, layout))?.into_response())
}

/// "Mot de passe oublié" at the office: the old password stops working, a new code is printed.
pub async fn reset_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    let id = UserId(parse_id(&id)?);
    let issued = state
        .app
        .issue_codes(&session.actor, &[id], true, &client)
        .await?;
    show_slips(&state, &session, &csrf, &headers, "Nouveau code", issued).await
}

pub async fn disable(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    set_disabled(state, session, client, id, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    set_disabled(state, session, client, id, false).await
}

async fn set_disabled(
    state: AppState,
    session: cartable_app::auth::CurrentSession,
    client: cartable_app::auth::ClientInfo,
    id: String,
    disabled: bool,
) -> WebResult<Response> {
    let id = UserId(parse_id(&id)?);
    state
        .app
        .set_account_disabled(&session.actor, id, disabled, &client)
        .await?;
    Ok(Redirect::to(&format!("/personnes/{id}")).into_response())
}

pub struct AuditRow {
    pub at: String,
    pub action: String,
    pub target: String,
    pub ip: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    layout: Layout,
    events: Vec<AuditRow>,
}

pub async fn audit_log(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let school = school_of(&session.actor)?;
    authorize(&session.actor, Action::ViewAudit, Resource::School(school))?;
    let events: Vec<AuditEvent> = state.app.store.audit_log(school, 500).await?;
    let page = AuditPage {
        layout: Layout::signed_in("Journal", &csrf, &session),
        events: events
            .into_iter()
            .map(|e| AuditRow {
                at: french_datetime(e.at),
                action: e.action,
                target: e.target.unwrap_or_default(),
                ip: e.ip.unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(&page)?.into_response())
}

/// Unix seconds as the UTC day, `jj/mm/aaaa`.
pub fn french_date(secs: i64) -> String {
    Day(secs.div_euclid(86_400)).french()
}

pub fn french_datetime(secs: i64) -> String {
    let sod = secs.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02} UTC",
        french_date(secs),
        sod / 3600,
        (sod % 3600) / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(french_date(0), "01/01/1970");
        assert_eq!(french_date(1_788_220_800), "01/09/2026");
        assert_eq!(
            french_datetime(1_788_220_800 + 8 * 3600 + 5 * 60),
            "01/09/2026 08:05 UTC"
        );
    }
}

#[derive(Template)]
#[template(path = "admin_messaging.html")]
struct MessagingPage {
    layout: Layout,
    rules: cartable_domain::messaging::MessagingRules,
    senders: Vec<cartable_store::SenderActivity>,
}

pub async fn messaging(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    let (rules, senders) = state.app.messaging_overview(&session.actor).await?;
    let page = MessagingPage {
        layout: Layout::signed_in("Messagerie de l'établissement", &csrf, &session),
        rules,
        senders,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct RulesForm {
    pupils_to_teachers: Option<String>,
    pupils_to_staff: Option<String>,
    pupils_to_classmates: Option<String>,
    parents_to_teachers: Option<String>,
    parents_to_staff: Option<String>,
    parents_to_parents: Option<String>,
}

pub async fn set_messaging_rules(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfForm(form): CsrfForm<RulesForm>,
) -> WebResult<Response> {
    let rules = cartable_domain::messaging::MessagingRules {
        pupils_to_teachers: form.pupils_to_teachers.is_some(),
        pupils_to_staff: form.pupils_to_staff.is_some(),
        pupils_to_classmates: form.pupils_to_classmates.is_some(),
        parents_to_teachers: form.parents_to_teachers.is_some(),
        parents_to_staff: form.parents_to_staff.is_some(),
        parents_to_parents: form.parents_to_parents.is_some(),
    };
    state
        .app
        .set_messaging_rules(&session.actor, rules, &client)
        .await?;
    Ok(Redirect::to("/admin/messagerie?ok=1").into_response())
}
