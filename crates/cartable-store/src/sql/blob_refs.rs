//! Which blob keys rows still point to (see [`BlobRefRepo`]).
//!
//! Every stored file is a row of `attachments` (messages, news, notes,
//! lessons, assignments, hand-ins, and documents as `owner_kind = 'folder'`):
//! `attachments.blob_key` is the only column that names a blob. A table that
//! stores a key elsewhere must be added to [`REFERENCING`], or the sweep would
//! delete its files.

use std::collections::HashSet;

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::{BlobRefRepo, StoreResult};

/// (table, column) pairs that hold a blob key.
const REFERENCING: &[(&str, &str)] = &[("attachments", "blob_key")];

/// Keys per query: well under SQLite's and PostgreSQL's parameter limits, and
/// a statement small enough for the planner.
const KEY_CHUNK: usize = 200;

#[async_trait]
impl BlobRefRepo for SqlStore {
    async fn referenced_blob_keys(&self, keys: &[String]) -> StoreResult<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in keys.chunks(KEY_CHUNK) {
            let params = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            for (table, column) in REFERENCING {
                let sql = format!(
                    "SELECT DISTINCT {column} AS k FROM {table} WHERE {column} IN ({params})"
                );
                let mut q = sqlx::query(&sql);
                for key in chunk {
                    q = q.bind(key.as_str());
                }
                for r in q.fetch_all(&self.pool).await? {
                    found.insert(r.try_get::<String, _>("k")?);
                }
            }
        }
        Ok(found)
    }
}
