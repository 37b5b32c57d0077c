//! The operator's view: the schools they run, without anyone's personal data.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use cartable_domain::policy::{Action, Resource};
use cartable_store::SchoolSummary;

use super::{authorize, render};
use crate::csrf::CsrfToken;
use crate::error::WebResult;
use crate::extract::CurrentUser;
use crate::layout::Layout;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "operator.html")]
struct SchoolsPage {
    layout: Layout,
    schools: Vec<SchoolSummary>,
}

pub async fn schools(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> WebResult<Response> {
    authorize(&session.actor, Action::ViewSchools, Resource::Platform)?;
    let page = SchoolsPage {
        layout: Layout::signed_in("Établissements", &csrf, &session),
        schools: state.app.store.schools_with_counts().await?,
    };
    Ok(render(&page)?.into_response())
}
