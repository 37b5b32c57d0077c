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
            Some(session) => Ok(CurrentUser(session)),
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
            Some(token) => Ok(MaybeUser(state.app.session(&token).await?)),
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

/// The `Set-Cookie` that opens a session in the browser.
pub fn session_cookie(session: &NewSession, secure: bool) -> HeaderValue {
    let max_age = session
        .cookie_max_age_secs
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{max_age}{secure}",
        session.token
    ))
    .expect("a base64url token is a valid header value")
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
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
