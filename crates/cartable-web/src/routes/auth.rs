//! Login, logout, first-login activation, password change.

use askama::Template;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cartable_app::auth::NewSession;
use cartable_app::AppError;
use cartable_domain::password::MIN_CHARS;
use cartable_domain::policy::{self, Resource};
use serde::Deserialize;
use std::sync::atomic::Ordering;

use super::{authorize, limit, render, Empty};
use crate::admission::ticket::{device_value, DEVICE_COOKIE};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{WebError, WebResult};
use crate::extract::{clear_session_cookie, session_cookie, Client, CurrentUser, MaybeUser, Query};
use crate::layout::Layout;
use crate::ratelimit::Action;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    login: String,
    suite: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SuiteQuery {
    suite: Option<String>,
}

/// Only paths of this site: "/x" but not "//evil.example" or "/\evil".
fn safe_next(suite: Option<&str>) -> String {
    match suite {
        Some(s)
            if s.starts_with('/')
                && !s.starts_with("//")
                && !s.contains('\\')
                && !s.chars().any(char::is_control)
                && s.len() < 512 =>
        {
            s.to_string()
        }
        _ => "/".to_string(),
    }
}

pub async fn login_page(
    MaybeUser(user): MaybeUser,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<SuiteQuery>,
) -> WebResult<Response> {
    let suite = safe_next(q.suite.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&suite).into_response());
    }
    let page = LoginPage {
        layout: Layout::anonymous("Connexion", &csrf),
        login: String::new(),
        suite,
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    rester: Option<String>,
    suite: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> WebResult<Response> {
    let suite = safe_next(form.suite.as_deref());
    let login = form.login.trim().to_lowercase();
    limit(&state, Action::Login, Some(&login), &client)?;
    let in_flight = &state.metrics.logins_in_flight;
    in_flight.fetch_add(1, Ordering::Relaxed);
    let result = state
        .app
        .login(&login, &form.password, form.rester.is_some(), &client)
        .await;
    in_flight.fetch_sub(1, Ordering::Relaxed);
    // Only password verdicts: the failed share is the credential-stuffing signal.
    match &result {
        Ok(_) => {
            state.metrics.logins_ok.fetch_add(1, Ordering::Relaxed);
        }
        Err(AppError::BadCredentials) => {
            state.metrics.logins_failed.fetch_add(1, Ordering::Relaxed);
        }
        Err(_) => {}
    }
    match result {
        Ok(session) => Ok(signed_in(&state, &session, &suite)),
        Err(
            e @ (AppError::BadCredentials
            | AppError::AccountLocked { .. }
            | AppError::AccountDisabled
            | AppError::Busy { .. }),
        ) => {
            let status = match &e {
                AppError::BadCredentials => StatusCode::UNAUTHORIZED,
                AppError::AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::AccountDisabled => StatusCode::FORBIDDEN,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            let page = LoginPage {
                layout: Layout::anonymous("Connexion", &csrf),
                login: form.login.chars().take(64).collect(),
                suite,
                error: Some(e.message_fr()),
            };
            let mut resp = (status, render(&page)?).into_response();
            resp.headers_mut()
                .insert("x-cartable-error", e.code().parse().expect("ascii code"));
            if let AppError::AccountLocked { retry_after_secs } = e {
                resp.headers_mut()
                    .insert("retry-after", retry_after_secs.max(1).into());
            }
            if let AppError::Busy { retry_after_secs } = e {
                resp.headers_mut()
                    .insert("retry-after", retry_after_secs.into());
            }
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

/// Where a successful login or activation goes: the session cookie, and the
/// device hint the door uses for fair share and priority on the next visit.
fn signed_in(state: &AppState, session: &NewSession, to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    let h = resp.headers_mut();
    h.append(SET_COOKIE, session_cookie(session, state.web.cookie_secure));
    if let Some(school) = session.school_id {
        let secure = crate::extract::secure_attr(state.web.cookie_secure);
        let value = device_value(&state.web.secret_key, school, session.role);
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{DEVICE_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
        )) {
            h.append(SET_COOKIE, v);
        }
    }
    resp
}

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfForm(_): CsrfForm<Empty>,
) -> WebResult<Response> {
    state.app.logout(&session, &client).await?;
    let mut resp = Redirect::to("/connexion").into_response();
    resp.headers_mut()
        .append(SET_COOKIE, clear_session_cookie(state.web.cookie_secure));
    Ok(resp)
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    layout: Layout,
    login: String,
    min_chars: usize,
    error: Option<String>,
}

pub async fn activate_page(CsrfToken(csrf): CsrfToken) -> WebResult<Response> {
    let page = ActivatePage {
        layout: Layout::anonymous("Première connexion", &csrf),
        login: String::new(),
        min_chars: MIN_CHARS,
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct ActivateForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    rester: Option<String>,
}

pub async fn activate(
    State(state): State<AppState>,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    CsrfForm(form): CsrfForm<ActivateForm>,
) -> WebResult<Response> {
    let login = form.login.trim().to_lowercase();
    let result = state
        .app
        .activate(
            &login,
            &form.code,
            &form.password,
            &form.confirm,
            form.rester.is_some(),
            &client,
        )
        .await;
    match result {
        Ok(session) => Ok(signed_in(&state, &session, "/")),
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::AccountLocked { .. }
            | AppError::AccountDisabled
            | AppError::Busy { .. }),
        ) => {
            let status = match &e {
                AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
                AppError::AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::AccountDisabled => StatusCode::FORBIDDEN,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            let page = ActivatePage {
                layout: Layout::anonymous("Première connexion", &csrf),
                login: form.login.chars().take(64).collect(),
                min_chars: MIN_CHARS,
                error: Some(e.message_fr()),
            };
            let mut resp = (status, render(&page)?).into_response();
            resp.headers_mut()
                .insert("x-cartable-error", e.code().parse().expect("ascii code"));
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    login: String,
    min_chars: usize,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    ok: Option<String>,
}

pub async fn account_page(
    CurrentUser(session): CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<NoticeQuery>,
) -> WebResult<Response> {
    authorize(
        &session.actor,
        policy::Action::ChangeOwnPassword,
        Resource::Own,
    )?;
    let notice =
        q.ok.map(|_| "Mot de passe changé. Vos autres appareils ont été déconnectés.".to_string());
    let page = AccountPage {
        layout: Layout::signed_in("Mon compte", &csrf, &session).with_notice(notice),
        login: session.user.login.clone(),
        min_chars: MIN_CHARS,
        error: None,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Client(client): Client,
    CsrfToken(csrf): CsrfToken,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> WebResult<Response> {
    authorize(
        &session.actor,
        policy::Action::ChangeOwnPassword,
        Resource::Own,
    )?;
    match state
        .app
        .change_password(
            &session,
            &form.current,
            &form.password,
            &form.confirm,
            &client,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to("/compte?ok=1").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::AccountLocked { .. })) => {
            let page = AccountPage {
                layout: Layout::signed_in("Mon compte", &csrf, &session),
                login: session.user.login.clone(),
                min_chars: MIN_CHARS,
                error: Some(e.message_fr()),
            };
            let status = match &e {
                AppError::AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut resp = (status, render(&page)?).into_response();
            resp.headers_mut()
                .insert("x-cartable-error", e.code().parse().expect("ascii code"));
            if let AppError::AccountLocked { retry_after_secs } = e {
                resp.headers_mut()
                    .insert("retry-after", retry_after_secs.max(1).into());
            }
            Ok(resp)
        }
        Err(e) => Err(WebError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/classes/3")), "/classes/3");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
