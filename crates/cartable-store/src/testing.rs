//! Helpers for tests that need a real database: a fresh SQLite file or a fresh
//! PostgreSQL database per test run, so that runs never see each other's rows.

use rand::Rng;
use sqlx::any::AnyPoolOptions;

use crate::{StoreError, StoreResult};

/// The environment variable naming a PostgreSQL server for tests
/// (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
pub const PG_URL_VAR: &str = "CARTABLE_TEST_PG_URL";

/// Creates a new, empty database on the server `admin_url` points at and
/// returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> StoreResult<String> {
    sqlx::any::install_default_drivers();
    let name = format!("cartable_test_{:016x}", rand::thread_rng().gen::<u64>());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let Some(slash) = base.rfind('/').filter(|i| *i > "postgres://".len()) else {
        return Err(StoreError::Config(format!(
            "{PG_URL_VAR} must end with a database name: {admin_url}"
        )));
    };
    Ok(format!("{}/{name}{query}", &base[..slash]))
}

/// The PostgreSQL server for tests, if any. Says so loudly when there is none,
/// and fails under CI, where PostgreSQL must be tested.
pub fn postgres_for_tests(what: &str) -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{PG_URL_VAR} is not set under CI: the PostgreSQL half of {what} must run");
            }
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !!! SKIPPED on PostgreSQL: {what}\n\
                 !!! set {PG_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres to run it\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            None
        }
    }
}

/// Drops a database made by [`fresh_postgres_database`] (tests call it at the
/// end; CI also drops every `cartable_test_*` database when it finishes).
pub async fn drop_postgres_database(admin_url: &str, url: &str) -> StoreResult<()> {
    let Some(name) = url
        .rsplit('/')
        .next()
        .map(|n| n.split('?').next().unwrap_or(n))
    else {
        return Ok(());
    };
    if !name.starts_with("cartable_test_")
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(StoreError::Config(format!(
            "refusing to drop {name}: not a test database"
        )));
    }
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}
