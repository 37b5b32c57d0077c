//! Handlers, one module per area. Every handler that shows or changes school
//! data asks `policy::can` first (see `authorize`).

pub mod admin;
pub mod assignments;
pub mod auth;
pub mod calendar;
pub mod documents;
pub mod health;
pub mod home;
pub mod lessons;
pub mod messages;
pub mod news;
pub mod notes;
pub mod operator;
pub mod school;
pub mod status;

use askama::Template;
use axum::response::Html;
use cartable_domain::policy::{can, Action, Actor, Resource};

use crate::error::{WebError, WebResult};
use crate::state::AppState;

pub fn render<T: Template>(page: &T) -> WebResult<Html<String>> {
    page.render()
        .map(Html)
        .map_err(|e| WebError::Internal(format!("template: {e}")))
}

/// The policy gate: refuses with 403 what `can` does not allow.
pub fn authorize(actor: &Actor, action: Action, resource: Resource<'_>) -> WebResult<()> {
    if can(actor, action, resource) {
        Ok(())
    } else {
        Err(WebError::forbidden())
    }
}

/// A form with no fields but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct Empty {}

/// An id from a path: anything that is not a number is simply not found.
pub fn parse_id(raw: &str) -> WebResult<i64> {
    raw.parse().map_err(|_| WebError::not_found())
}

/// The school of a school member; operators have none.
pub fn school_of(actor: &Actor) -> WebResult<cartable_domain::SchoolId> {
    actor.school_id.ok_or_else(WebError::forbidden)
}

/// Refuses with 429 when this account or address has done `action` too often.
pub fn limit(
    state: &AppState,
    action: crate::ratelimit::Action,
    account: Option<&str>,
    client: &cartable_app::auth::ClientInfo,
) -> WebResult<()> {
    let ip = client.ip.as_deref().and_then(|i| i.parse().ok());
    state.limits.check(action, account, ip).map_err(|wait| {
        state.metrics.limited(action.code());
        WebError::Limited {
            action: action.code(),
            retry_after_secs: wait.as_secs() + 1,
        }
    })
}
