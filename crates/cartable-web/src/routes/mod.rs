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

use askama::Template;
use axum::response::Html;
use cartable_domain::policy::{can, Action, Actor, Resource};

use crate::error::{WebError, WebResult};

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
