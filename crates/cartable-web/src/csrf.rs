//! Cross-site request forgery defence, for every state-changing form:
//!
//! 1. every visitor gets a random `cartable_csrf` cookie (HttpOnly, SameSite=Lax);
//! 2. forms carry `csrf` = HMAC-SHA256(server key, that cookie), which another
//!    site can neither read nor compute;
//! 3. the `Origin` (or, failing that, `Referer`) of a POST must be this site.
//!
//! It works before login too (the login form), with no server-side state.

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, REFERER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::error::WebError;
use crate::middleware::without_nul;
use crate::state::AppState;

pub const CSRF_COOKIE: &str = "cartable_csrf";
pub const CSRF_FIELD: &str = "csrf";

/// The visitor's CSRF cookie value, put in the request by [`ensure_cookie`].
#[derive(Clone)]
pub struct CsrfSeed(pub String);

/// Gives every visitor a CSRF cookie on their first request.
pub async fn ensure_cookie(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let existing =
        cookie_value(req.headers(), CSRF_COOKIE).filter(|v| v.len() >= 32 && v.len() <= 64);
    let (seed, fresh) = match existing {
        Some(v) => (v, false),
        None => {
            let bytes: [u8; 24] = rand::random();
            (
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
                true,
            )
        }
    };
    req.extensions_mut().insert(CsrfSeed(seed.clone()));
    let mut response = next.run(req).await;
    if fresh {
        let secure = crate::extract::secure_attr(state.web.cookie_secure);
        let cookie = format!("{CSRF_COOKIE}={seed}; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// The token to put in a form's hidden `csrf` field.
#[derive(Clone)]
pub struct CsrfToken(pub String);

impl<S> FromRequestParts<S> for CsrfToken
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let seed = parts
            .extensions
            .get::<CsrfSeed>()
            .ok_or_else(|| WebError::Internal("CSRF middleware missing".into()))?;
        Ok(CsrfToken(token_for(&state.web.secret_key, &seed.0)))
    }
}

pub fn token_for(key: &[u8; 32], seed: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(seed.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Checks the origin and the submitted token of a state-changing request.
pub fn verify(state: &AppState, parts: &Parts, submitted: Option<&str>) -> Result<(), WebError> {
    check_origin(&parts.headers)?;
    let seed = parts.extensions.get::<CsrfSeed>().ok_or(WebError::Csrf)?;
    let expected = token_for(&state.web.secret_key, &seed.0);
    let ok = submitted.is_some_and(|s| cartable_app::tokens::same_digest(s, &expected));
    if ok {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

/// A POST must come from a page of this site: same host in `Origin`, or in
/// `Referer` when a browser sends no `Origin`.
fn check_origin(headers: &HeaderMap) -> Result<(), WebError> {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let source = headers
        .get(ORIGIN)
        .or_else(|| headers.get(REFERER))
        .and_then(|h| h.to_str().ok());
    match source {
        // No browser omits both on a cross-site form POST; non-browser clients
        // still need the token, which only this site's pages hand out.
        None => Ok(()),
        Some(src) => {
            let after_scheme = src.split_once("://").map(|(_, rest)| rest).unwrap_or("");
            let src_host = after_scheme.split('/').next().unwrap_or("");
            if !host.is_empty() && src_host.eq_ignore_ascii_case(host) {
                Ok(())
            } else {
                Err(WebError::Csrf)
            }
        }
    }
}

/// A URL-encoded form whose CSRF token and origin were checked.
pub struct CsrfForm<T>(pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    AppState: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let app_state = AppState::from_ref(state);
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|_| {
                WebError::BadForm("Le formulaire envoyé est trop gros ou incomplet.".into())
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| WebError::BadForm("Le formulaire envoyé est illisible.".into()))?;
        // Text with a NUL character is read without it (see `without_nul`).
        let has_nul = pairs
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'));
        let pairs: Vec<(String, String)> = if has_nul {
            pairs
                .into_iter()
                .map(|(k, v)| (without_nul(k), without_nul(v)))
                .collect()
        } else {
            pairs
        };
        let token = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str());
        verify(&app_state, &parts, token)?;
        let cleaned;
        let bytes: &[u8] = if has_nul {
            cleaned = serde_urlencoded::to_string(&pairs)
                .map_err(|_| WebError::BadForm("Le formulaire envoyé est illisible.".into()))?;
            cleaned.as_bytes()
        } else {
            &bytes
        };
        let value = serde_urlencoded::from_bytes(bytes).map_err(|_| {
            WebError::BadForm(
                "Le formulaire envoyé est incomplet : rechargez la page et recommencez.".into(),
            )
        })?;
        Ok(CsrfForm(value))
    }
}

/// Reads one cookie from the request headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
