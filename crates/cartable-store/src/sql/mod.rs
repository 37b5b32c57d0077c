//! The SQL implementation of the storage port, for SQLite and PostgreSQL.
//!
//! One implementation serves both through sqlx's `Any` driver: the queries are
//! written once in the SQL both understand (`$1` parameters, `RETURNING`,
//! `ON CONFLICT`), and what differs — the schema, connection settings, how a
//! write transaction starts — is chosen per [`Backend`]. Each backend has its own
//! migrations folder.

mod activation;
mod assignments;
mod attachments;
mod audit;
mod blob_refs;
mod bulk;
mod calendar;
mod classes;
mod documents;
mod groups;
mod lessons;
mod messaging;
mod migrate;
mod news;
mod notes;
mod roster;
mod rows;
mod schools;
mod sessions;
mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> StoreResult<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL (expected sqlite:… or postgres://…): {url}"
            )))
        }
    }
}

/// Tuning of the connection pool. The defaults answer fast when the database
/// is gone (2 s, not sqlx's 30 s), so that requests fail with 503 instead of piling up.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// How long a SQLite write waits for its turn (the connections' busy timeout too).
const SQLITE_WRITE_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct SqlStore {
    /// Reads (and PostgreSQL writes).
    pool: AnyPool,
    /// Writes. On SQLite one connection: its writers take turns in this
    /// pool's queue, first come first served, instead of in SQLite's busy
    /// handler, which sleeps up to 100 ms between tries and lets a newcomer
    /// overtake a writer that has waited long (the drill's tail latencies of
    /// logins and hand-ins). On PostgreSQL, the same pool as reads.
    writer: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Connects and applies the migrations of the backend named by `url`
    /// (`sqlite:///path/to/file.db` or `postgres://…`).
    pub async fn connect(url: &str, settings: &PoolSettings) -> StoreResult<SqlStore> {
        let store = Self::open(url, settings).await?;
        migrate::run(&store, i64::MAX).await?;
        Ok(store)
    }

    /// Connects without migrating (the migration tests step through versions).
    async fn open(url: &str, settings: &PoolSettings) -> StoreResult<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            // Create the file if missing.
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Config(e.to_string()))?;
        let pool = Self::pool_options(backend, settings)
            .max_connections(match backend {
                // A few readers in WAL mode.
                Backend::Sqlite => settings.max_connections.min(8),
                Backend::Postgres => settings.max_connections,
            })
            .connect_with(options.clone())
            .await?;
        let writer = match backend {
            Backend::Sqlite => {
                Self::pool_options(backend, settings)
                    .max_connections(1)
                    // Writers queue here as long as they used to in SQLite's
                    // busy handler (5 s): an embedded file is never "gone",
                    // only busy, and a hand-in should wait rather than fail.
                    .acquire_timeout(settings.acquire_timeout.max(SQLITE_WRITE_WAIT))
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(SqlStore {
            pool,
            writer,
            backend,
        })
    }

    /// Pool options shared by the readers' and the writer's pools: timeouts
    /// and, on each new connection, the backend's settings.
    fn pool_options(backend: Backend, settings: &PoolSettings) -> AnyPoolOptions {
        let statement_timeout_ms = settings.statement_timeout.as_millis();
        AnyPoolOptions::new()
            .acquire_timeout(settings.acquire_timeout)
            // An embedded SQLite connection cannot go stale; pinging it
            // before each use is one more hand-off to its worker thread per
            // query. A PostgreSQL connection can (a restart, a proxy), so
            // there the check stays.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            // WAL for concurrent readers; FULL so that an acknowledged
                            // write survives a power loss, not only a crash.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .await?;
                        }
                        Backend::Postgres => {
                            conn.execute(
                                format!("SET statement_timeout = {statement_timeout_ms}; SET synchronous_commit = on")
                                    .as_str(),
                            )
                            .await?;
                        }
                    }
                    Ok(())
                })
            })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock
    /// at once (BEGIN IMMEDIATE): a deferred transaction that reads and then
    /// writes can fail with "database is locked" whatever the busy timeout.
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(tx)
    }
}

pub(crate) fn bool_int(b: bool) -> i64 {
    i64::from(b)
}
