//! The harness both conformance suites share: a fresh database per check, on
//! SQLite always and on PostgreSQL when CARTABLE_TEST_PG_URL is set.

use cartable_store::sql::{PoolSettings, SqlStore};
use cartable_store::testing::{
    drop_postgres_database, fresh_postgres_database, postgres_for_tests,
};

pub async fn sqlite_store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cartable.db").display());
    let store = SqlStore::connect(&url, &PoolSettings::default())
        .await
        .unwrap();
    (store, dir)
}

/// A store on a fresh PostgreSQL database, with what is needed to drop it after.
pub async fn postgres_store(suite: &str) -> Option<(SqlStore, String, String)> {
    let admin = postgres_for_tests(suite)?;
    let url = fresh_postgres_database(&admin)
        .await
        .expect("create a fresh PostgreSQL database");
    let store = SqlStore::connect(&url, &PoolSettings::default())
        .await
        .expect("connect to PostgreSQL");
    Some((store, admin, url))
}

pub async fn drop_postgres(store: SqlStore, admin: &str, url: &str) {
    store.close().await;
    drop_postgres_database(admin, url)
        .await
        .expect("drop the test database");
}

/// Declares each check twice: `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! conformance {
    ($suite:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, _dir) = $crate::common::sqlite_store().await;
                    super::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some((store, admin, url)) = $crate::common::postgres_store($suite).await {
                        super::$name(&store).await;
                        $crate::common::drop_postgres(store, &admin, &url).await;
                    }
                }
            )*
        }
    };
}
