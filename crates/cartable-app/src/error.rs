use cartable_store::StoreError;
use thiserror::Error;

/// What a use case can answer besides success. Each variant has a stable code
/// for programs; `message_fr` is what a person reads.
#[derive(Debug, Error)]
pub enum AppError {
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Bad input: a stable code and a French message that says what to fix.
    #[error("{code}: {message}")]
    Invalid { code: &'static str, message: String },
    #[error("wrong login or password")]
    BadCredentials,
    #[error("account disabled")]
    AccountDisabled,
    #[error("account paused for {retry_after_secs} s")]
    AccountLocked { retry_after_secs: i64 },
    /// One account did too much of something (sending messages): a French
    /// sentence that says how much and when to try again.
    #[error("rate limited: {message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// Too much work queued: try again shortly.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid { code, .. } => code,
            AppError::BadCredentials => "auth.bad_credentials",
            AppError::AccountDisabled => "auth.disabled",
            AppError::AccountLocked { .. } => "auth.locked",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Busy { .. } => "busy",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn message_fr(&self) -> String {
        match self {
            AppError::Forbidden => "Vous n'avez pas accès à cette page.".into(),
            AppError::NotFound => "Cette page n'existe pas ou n'est plus disponible.".into(),
            AppError::Invalid { message, .. } => message.clone(),
            AppError::BadCredentials => "Identifiant ou mot de passe incorrect.".into(),
            AppError::AccountDisabled => {
                "Ce compte est désactivé. Adressez-vous à l'établissement.".into()
            }
            AppError::AccountLocked { retry_after_secs } => format!(
                "Trop d'essais pour ce compte : réessayez dans {}.",
                human_duration(*retry_after_secs)
            ),
            AppError::RateLimited { message, .. } => message.clone(),
            AppError::Busy { retry_after_secs } => format!(
                "Le service est très demandé : réessayez dans {retry_after_secs} secondes, rien n'est perdu."
            ),
            AppError::Unavailable(_) => {
                "Le service est momentanément indisponible : réessayez dans quelques instants, rien n'est perdu."
                    .into()
            }
            AppError::Internal(_) => "Une erreur inattendue s'est produite. Réessayez, rien n'a été enregistré à moitié.".into(),
        }
    }
}

/// "45 secondes", "2 minutes".
pub fn human_duration(secs: i64) -> String {
    if secs < 60 {
        format!("{} seconde{}", secs.max(1), if secs > 1 { "s" } else { "" })
    } else {
        let m = (secs + 59) / 60;
        format!("{m} minute{}", if m > 1 { "s" } else { "" })
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => AppError::Unavailable(m),
            StoreError::NotFound(_) => AppError::NotFound,
            StoreError::Conflict(m) => AppError::invalid(
                "conflict",
                format!("Conflit avec une donnée existante ({m})."),
            ),
            StoreError::Config(m) | StoreError::Internal(m) => AppError::Internal(m),
        }
    }
}
