use async_trait::async_trait;
use cartable_domain::{SchoolId, UserId};
use sqlx::Row;

use super::SqlStore;
use crate::{CalendarRepo, StoreResult};

#[async_trait]
impl CalendarRepo for SqlStore {
    async fn set_calendar_token(
        &self,
        school: SchoolId,
        user: UserId,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO calendar_feeds (user_id, school_id, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(user.0)
        .bind(school.0)
        .bind(token_hash)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn calendar_owner(&self, token_hash: &str) -> StoreResult<Option<UserId>> {
        let row = sqlx::query("SELECT user_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("user_id").map(UserId)).transpose()?)
    }

    async fn has_calendar(&self, user: UserId) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM calendar_feeds WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn delete_calendar_token(&self, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
