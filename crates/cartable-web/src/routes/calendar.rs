//! The private calendar feed: its settings page and the feed itself.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use cartable_domain::Role;

use super::{render, school_of, Empty};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::CurrentUser;
use crate::layout::Layout;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    active: bool,
    /// Shown once, right after it is made.
    url: Option<String>,
}

fn family_only(role: Role) -> WebResult<()> {
    if matches!(role, Role::Pupil | Role::Parent) {
        Ok(())
    } else {
        Err(WebError::forbidden())
    }
}

pub async fn page(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    family_only(session.actor.role)?;
    let page = CalendarPage {
        layout: Layout::signed_in("Calendrier des devoirs", &csrf, &session),
        active: state.app.has_calendar(&session.actor).await?,
        url: None,
    };
    Ok(render(&page)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    family_only(session.actor.role)?;
    let token = state.app.new_calendar_token(&session.actor).await?;
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.web.cookie_secure {
        "https"
    } else {
        "http"
    };
    let page = CalendarPage {
        layout: Layout::signed_in("Calendrier des devoirs", &csrf, &session),
        active: true,
        url: Some(format!("{scheme}://{host}/calendrier/{token}.ics")),
    };
    Ok(render(&page)?.into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    school_of(&session.actor)?;
    state.app.revoke_calendar(&session.actor).await?;
    Ok(Redirect::to("/compte/calendrier").into_response())
}

/// The feed itself: no session (a calendar app has none), the token is the key.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> WebResult<Response> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    match state.app.calendar_feed(token).await? {
        Some(ics) => Ok((
            [
                (CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (CACHE_CONTROL, "private, max-age=900"),
            ],
            ics,
        )
            .into_response()),
        None => Err(WebError::not_found()),
    }
}
