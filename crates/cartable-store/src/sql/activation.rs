use async_trait::async_trait;
use cartable_domain::UserId;
use sqlx::Row;

use super::rows;
use super::SqlStore;
use crate::{ActivationCodeRow, ActivationRepo, StoreResult};

#[async_trait]
impl ActivationRepo for SqlStore {
    async fn put_activation_code(&self, c: &ActivationCodeRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO activation_codes (user_id, school_id, code_hash, created_at, expires_at, issued_by) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at, \
               expires_at = excluded.expires_at, issued_by = excluded.issued_by",
        )
        .bind(c.user_id.0)
        .bind(c.school_id.map(|s| s.0))
        .bind(&c.code_hash)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.issued_by.map(|u| u.0))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn activation_code(&self, user: UserId) -> StoreResult<Option<ActivationCodeRow>> {
        let row = sqlx::query(
            "SELECT user_id, school_id, code_hash, created_at, expires_at, issued_by FROM activation_codes WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(ActivationCodeRow {
            user_id: UserId(r.try_get("user_id")?),
            school_id: rows::opt_school(&r, "school_id")?,
            code_hash: r.try_get("code_hash")?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            issued_by: r.try_get::<Option<i64>, _>("issued_by")?.map(UserId),
        }))
    }
}
