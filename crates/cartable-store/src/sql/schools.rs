use async_trait::async_trait;
use cartable_domain::SchoolId;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::SqlStore;
use crate::{School, SchoolRepo, SchoolSummary, StoreResult};

fn school(row: &AnyRow) -> StoreResult<School> {
    Ok(School {
        id: SchoolId(row.try_get("id")?),
        name: row.try_get("name")?,
        uai: row.try_get("uai")?,
    })
}

#[async_trait]
impl SchoolRepo for SqlStore {
    async fn create_school(&self, name: &str, uai: &str, now: i64) -> StoreResult<SchoolId> {
        let row = sqlx::query(
            "INSERT INTO schools (name, uai, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(uai)
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(SchoolId(row.try_get("id")?))
    }

    async fn school(&self, id: SchoolId) -> StoreResult<Option<School>> {
        let row = sqlx::query("SELECT id, name, uai FROM schools WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(school).transpose()
    }

    async fn school_by_uai(&self, uai: &str) -> StoreResult<Option<School>> {
        let row = sqlx::query("SELECT id, name, uai FROM schools WHERE uai = $1")
            .bind(uai)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(school).transpose()
    }

    async fn schools_with_counts(&self) -> StoreResult<Vec<SchoolSummary>> {
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.uai, \
               (SELECT COUNT(*) FROM users u WHERE u.school_id = s.id) AS people, \
               (SELECT COUNT(*) FROM classes c WHERE c.school_id = s.id) AS classes \
             FROM schools s ORDER BY s.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SchoolSummary {
                    school: school(r)?,
                    people: r.try_get("people")?,
                    classes: r.try_get("classes")?,
                })
            })
            .collect()
    }
}
