//! Use cases of Cartable: authentication and sessions, activation codes,
//! accounts, roster import, the demo school. Handlers in `cartable-web` call
//! these; they call the store port and never see SQL or HTTP.

pub mod accounts;
pub mod assignments;
pub mod auth;
pub mod blobs;
pub mod calendar;
pub mod clock;
pub mod cohorts;
pub mod demo;
pub mod documents;
pub mod error;
pub mod hashing;
pub mod import;
pub mod lessons;
pub mod markdown;
pub mod messaging;
pub mod news;
pub mod notes;
pub mod school_facts;
pub mod session_cache;
pub mod session_touches;
pub mod sweep;
pub mod tokens;

use std::sync::Arc;

use cartable_store::Store;

pub use error::AppError;

/// Settings of the use cases, with defaults that suit a school.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Lifetime of a "rester connecté" session, renewed as it is used.
    pub persistent_session_secs: i64,
    /// Lifetime of a session on a shared computer, renewed as it is used.
    pub browser_session_secs: i64,
    /// How long a printed activation code stays valid.
    pub activation_code_secs: i64,
    /// Failed attempts before an account is paused, and the first pause.
    pub lock_after_failures: i64,
    pub first_lock_secs: i64,
    pub max_lock_secs: i64,
    /// Size of each person's own document space.
    pub personal_quota_bytes: i64,
    /// What one pupil may store in hand-ins in all (every version counts).
    pub handin_quota_bytes: i64,
    /// Largest uploaded file, and largest form of files (attachments, hand-ins, documents).
    pub max_file_bytes: u64,
    pub max_form_bytes: u64,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            persistent_session_secs: 30 * 24 * 3600,
            browser_session_secs: 12 * 3600,
            activation_code_secs: 90 * 24 * 3600,
            lock_after_failures: 5,
            first_lock_secs: 30,
            max_lock_secs: 15 * 60,
            personal_quota_bytes: 100 * 1024 * 1024,
            handin_quota_bytes: 500 * 1024 * 1024,
            max_file_bytes: 10 * 1024 * 1024,
            max_form_bytes: 25 * 1024 * 1024,
        }
    }
}

/// Everything the use cases need, shared by all requests.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub hasher: hashing::HashPool,
    /// Where uploaded files live (attachments, hand-ins).
    pub blobs: Arc<dyn blobs::BlobStore>,
    pub clock: Arc<dyn clock::Clock>,
    pub config: AppConfig,
    /// Failed attempts on logins that do not exist, so that they pause like
    /// real accounts do and the soft lock does not reveal who exists.
    pub(crate) unknown_failures:
        Arc<std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>>,
    /// Sessions checked in the last seconds (see `session_cache`).
    pub(crate) sessions: Arc<session_cache::SessionCache>,
    /// Session slides not yet written (see `session_touches`).
    pub(crate) touches: Arc<session_touches::SessionTouches>,
    /// What every pupil's pages show and is the same for a school or class
    /// (see `school_facts`).
    pub(crate) facts: Arc<school_facts::SchoolFacts>,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: hashing::HashPool,
        blobs: Arc<dyn blobs::BlobStore>,
        clock: Arc<dyn clock::Clock>,
        config: AppConfig,
    ) -> App {
        App {
            store,
            hasher,
            blobs,
            clock,
            config,
            unknown_failures: Arc::default(),
            sessions: Arc::default(),
            touches: Arc::default(),
            facts: Arc::default(),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}
