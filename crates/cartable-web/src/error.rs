//! How a failure becomes a page: a status a program can act on, a stable
//! code in `X-Cartable-Error`, and a French sentence for the person.

use askama::Template;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cartable_app::AppError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    App(#[from] AppError),
    /// No valid session: go and log in, then come back to `next`.
    #[error("not signed in")]
    Unauthenticated { next: String },
    #[error("CSRF check failed")]
    Csrf,
    #[error("bad form: {0}")]
    BadForm(String),
    #[error("internal: {0}")]
    Internal(String),
    /// Too many requests of one kind from one account or address.
    #[error("rate limited: {action}")]
    Limited {
        action: &'static str,
        retry_after_secs: u64,
    },
}

impl WebError {
    pub fn forbidden() -> WebError {
        WebError::App(AppError::Forbidden)
    }

    pub fn not_found() -> WebError {
        WebError::App(AppError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

/// What a person sees when a request fails, with the status and code.
pub fn error_page(
    status: StatusCode,
    code: &str,
    title: &str,
    message: &str,
    retry_after: Option<u64>,
) -> Response {
    let page = ErrorPage {
        title: title.to_string(),
        message: message.to_string(),
    };
    let body = page.render().unwrap_or_else(|_| message.to_string());
    let mut resp = (status, Html(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(code) {
        resp.headers_mut().insert("x-cartable-error", v);
    }
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    resp
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Unauthenticated { next } => {
                let target = if next == "/" || next.is_empty() {
                    "/connexion".to_string()
                } else {
                    format!("/connexion?suite={}", urlencode(&next))
                };
                Redirect::to(&target).into_response()
            }
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "csrf",
                "Formulaire expiré",
                "Ce formulaire a expiré ou ne vient pas de Cartable. Rechargez la page et recommencez : rien n'a été enregistré.",
                None,
            ),
            WebError::Limited {
                action,
                retry_after_secs,
            } => {
                let what = match action {
                    "login" => "de tentatives de connexion",
                    "handin" => "de dépôts de devoirs",
                    "message" => "de messages envoyés",
                    "search" => "de recherches",
                    _ => "de demandes",
                };
                let wait = retry_after_secs.max(1);
                error_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "Trop de demandes",
                    &format!("Trop {what} en peu de temps depuis ce compte ou cette connexion. Réessayez dans {wait} s : rien n'a été perdu."),
                    Some(wait),
                )
            }
            WebError::BadForm(message) => error_page(StatusCode::BAD_REQUEST, "bad_form", "Formulaire invalide", &message, None),
            WebError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                let e = AppError::Internal(m);
                error_page(StatusCode::INTERNAL_SERVER_ERROR, e.code(), "Erreur", &e.message_fr(), None)
            }
            WebError::App(e) => {
                let (status, title, retry) = match &e {
                    AppError::Forbidden => (StatusCode::FORBIDDEN, "Accès refusé", None),
                    AppError::NotFound => (StatusCode::NOT_FOUND, "Page introuvable", None),
                    AppError::Invalid { .. } => (StatusCode::BAD_REQUEST, "Données invalides", None),
                    AppError::BadCredentials => (StatusCode::UNAUTHORIZED, "Connexion refusée", None),
                    AppError::AccountDisabled => (StatusCode::FORBIDDEN, "Compte désactivé", None),
                    AppError::AccountLocked { retry_after_secs } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Compte en pause",
                        Some((*retry_after_secs).max(1) as u64),
                    ),
                    AppError::RateLimited { retry_after_secs, .. } => (
                        StatusCode::TOO_MANY_REQUESTS,
                        "Trop d'envois",
                        Some(*retry_after_secs),
                    ),
                    AppError::Busy { retry_after_secs } => {
                        (StatusCode::SERVICE_UNAVAILABLE, "Service très demandé", Some(*retry_after_secs))
                    }
                    AppError::Unavailable(m) => {
                        tracing::warn!(error = %m, "storage unavailable");
                        (StatusCode::SERVICE_UNAVAILABLE, "Service indisponible", Some(5))
                    }
                    AppError::Internal(m) => {
                        tracing::error!(error = %m, "internal error");
                        (StatusCode::INTERNAL_SERVER_ERROR, "Erreur", None)
                    }
                };
                error_page(status, e.code(), title, &e.message_fr(), retry)
            }
        }
    }
}

/// Percent-encodes a path for a query parameter.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub type WebResult<T> = Result<T, WebError>;

impl From<cartable_store::StoreError> for WebError {
    fn from(e: cartable_store::StoreError) -> Self {
        WebError::App(AppError::from(e))
    }
}
