//! A small migration runner: SQL files embedded in the binary, applied in
//! order, each in its own transaction, recorded in `schema_migrations` with a
//! checksum so that an edited, already-applied migration is detected.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Backend, SqlStore};
use crate::{StoreError, StoreResult};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../../migrations/sqlite/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "messaging",
        sql: include_str!("../../migrations/sqlite/0002_messaging.sql"),
    },
    Migration {
        version: 3,
        name: "lessons",
        sql: include_str!("../../migrations/sqlite/0003_lessons.sql"),
    },
    Migration {
        version: 4,
        name: "assignments",
        sql: include_str!("../../migrations/sqlite/0004_assignments.sql"),
    },
    Migration {
        version: 5,
        name: "calendar",
        sql: include_str!("../../migrations/sqlite/0005_calendar.sql"),
    },
    Migration {
        version: 6,
        name: "documents",
        sql: include_str!("../../migrations/sqlite/0006_documents.sql"),
    },
    Migration {
        version: 7,
        name: "groups",
        sql: include_str!("../../migrations/sqlite/0007_groups.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "messaging",
        sql: include_str!("../../migrations/postgres/0002_messaging.sql"),
    },
    Migration {
        version: 3,
        name: "lessons",
        sql: include_str!("../../migrations/postgres/0003_lessons.sql"),
    },
    Migration {
        version: 4,
        name: "assignments",
        sql: include_str!("../../migrations/postgres/0004_assignments.sql"),
    },
    Migration {
        version: 5,
        name: "calendar",
        sql: include_str!("../../migrations/postgres/0005_calendar.sql"),
    },
    Migration {
        version: 6,
        name: "documents",
        sql: include_str!("../../migrations/postgres/0006_documents.sql"),
    },
    Migration {
        version: 7,
        name: "groups",
        sql: include_str!("../../migrations/postgres/0007_groups.sql"),
    },
];

pub(super) async fn run(store: &SqlStore) -> StoreResult<()> {
    let migrations = match store.backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&store.pool)
    .await?;
    for m in migrations {
        let checksum = hex::encode(Sha256::digest(m.sql.as_bytes()));
        let mut tx = store.begin_write().await?;
        let applied = sqlx::query("SELECT checksum FROM schema_migrations WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await?;
        match applied {
            Some(row) => {
                let existing: String = row.try_get("checksum")?;
                if existing != checksum {
                    return Err(StoreError::Config(format!(
                        "migration {} ({}) was changed after it was applied",
                        m.version, m.name
                    )));
                }
            }
            None => {
                sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(checksum)
                    .bind(now_secs())
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(version = m.version, name = m.name, "migration applied");
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
