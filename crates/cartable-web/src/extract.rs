//! Extractors: who is signed in, and where the request comes from.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use cartable_app::auth::{ClientInfo, CurrentSession, NewSession};

use crate::csrf::cookie_value;
use crate::error::WebError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cartable_session";

/// The signed-in user. Without a valid session the request is sent to the
/// login page, which brings the person back here afterwards.
pub struct CurrentUser(pub CurrentSession);

impl<S> FromRequestParts<S> for CurrentUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let next = || {
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        };
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(WebError::Unauthenticated { next: next() });
        };
        match state.app.session(&token).await? {
            Some(session) => {
                note_renewal(parts, &session);
                Ok(CurrentUser(session))
            }
            None => Err(WebError::Unauthenticated { next: next() }),
        }
    }
}

/// The signed-in user, if any (for pages that serve both).
pub struct MaybeUser(pub Option<CurrentSession>);

impl<S> FromRequestParts<S> for MaybeUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        match cookie_value(&parts.headers, SESSION_COOKIE) {
            Some(token) => {
                let session = state.app.session(&token).await?;
                if let Some(s) = &session {
                    note_renewal(parts, s);
                }
                Ok(MaybeUser(session))
            }
            None => Ok(MaybeUser(None)),
        }
    }
}

/// Where the request comes from: the peer address, or the client a trusted
/// proxy names in `X-Forwarded-For`.
pub struct Client(pub ClientInfo);

impl<S> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = peer.map(|p| client_ip(p, &parts.headers, &state.web.trusted_proxies));
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect());
        Ok(Client(ClientInfo {
            ip: ip.map(|i| i.to_string()),
            user_agent,
            let_in: parts.extensions.get::<LetIn>().is_some(),
        }))
    }
}

/// The rightmost address in `X-Forwarded-For` that is not a trusted proxy,
/// when the peer itself is trusted; else the peer. Forwarding headers from
/// anyone else are ignored: they are trivially forged.
fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// The `; Secure` cookie attribute when served over HTTPS, else nothing.
pub fn secure_attr(secure: bool) -> &'static str {
    if secure {
        "; Secure"
    } else {
        ""
    }
}

/// The `Set-Cookie` that opens a session in the browser.
pub fn session_cookie(session: &NewSession, secure: bool) -> HeaderValue {
    let max_age = session
        .cookie_max_age_secs
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let secure = secure_attr(secure);
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure}",
        session.token
    ))
    .expect("a base64url token is a valid header value")
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let secure = secure_attr(secure);
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .expect("static cookie")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &[proxy]), stranger);
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }
}

/// `axum::extract::Query`, refusing with a French page instead of axum's
/// English plain text (`?role=a&role=b`, a hand-edited address).
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|_| {
                WebError::BadForm(
                    "L'adresse de cette page est mal formée : revenez à la page précédente et recommencez.".into(),
                )
            })
    }
}

/// Where the session extractors tell [`renew_session_cookie`] that the
/// session slid and the cookie must follow.
#[derive(Clone, Default)]
pub struct SessionRenewal(std::sync::Arc<std::sync::Mutex<Option<i64>>>);

fn note_renewal(parts: &Parts, session: &CurrentSession) {
    if let (Some(max_age), Some(slot)) = (
        session.renewed_cookie_max_age,
        parts.extensions.get::<SessionRenewal>(),
    ) {
        if let Ok(mut s) = slot.0.lock() {
            *s = Some(max_age);
        }
    }
}

/// Sends the session cookie again, with a fresh Max-Age, when the request
/// renewed a "rester connecté" session (and did not set or clear it itself).
pub async fn renew_session_cookie(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let slot = SessionRenewal::default();
    req.extensions_mut().insert(slot.clone());
    let token = cookie_value(req.headers(), SESSION_COOKIE);
    let mut resp = next.run(req).await;
    let renewed = slot.0.lock().ok().and_then(|s| *s);
    let already = resp
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(SESSION_COOKIE.as_bytes()));
    if let (Some(max_age), Some(token), false) = (renewed, token, already) {
        let secure = secure_attr(state.web.cookie_secure);
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
        )) {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    resp
}

/// Set by the door on a request it let through with a turn (a ticket): the
/// password check behind it may queue rather than be refused.
#[derive(Debug, Clone, Copy)]
pub struct LetIn;
