//! Headers every response carries, and what every request's address must not hold.

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// No inline script anywhere (the pages need none), no framing, no sniffing,
/// no referrer to other sites, nothing personal left in shared caches.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !is_static && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A NUL character in text: no keyboard types it, and PostgreSQL cannot store
/// it in a text column (the whole write fails: a 500 where SQLite stored it).
/// Form bodies drop it ([`without_nul`]); an address that carries one
/// (`?q=%00`) is refused before any handler reads it.
pub async fn refuse_nul_in_address(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has_nul = uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00"));
    if has_nul {
        return crate::error::WebError::BadForm(
            "L'adresse demandée contient un caractère invalide.".into(),
        )
        .into_response();
    }
    next.run(req).await
}

/// `text` without NUL characters (see [`refuse_nul_in_address`]).
pub fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_dropped_and_the_rest_kept() {
        assert_eq!(without_nul("java\0script:é".into()), "javascript:é");
        assert_eq!(without_nul("sans rien".into()), "sans rien");
    }
}
