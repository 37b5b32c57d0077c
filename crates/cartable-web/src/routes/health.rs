//! Liveness, the stylesheet, and the 404 page.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

pub async fn healthz() -> &'static str {
    "ok"
}

const STYLESHEET: &str = include_str!("../../static/app.css");

pub async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

pub async fn not_found() -> Response {
    WebError::not_found().into_response()
}
