use std::sync::LazyLock;

use async_trait::async_trait;
use cartable_domain::{SchoolId, UserId};
use sqlx::Row;

use super::rows;
use super::SqlStore;
use crate::{AuditEvent, AuditRepo, StoreResult};

/// The insert of one event, its parameters numbered from `$first`.
pub(super) fn insert_event_sql(first: usize) -> String {
    let params: Vec<String> = (first..first + 7).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO audit_log (school_id, actor_id, action, target, ip, detail, at) VALUES ({})",
        params.join(", ")
    )
}

/// Binds an event's values, in the order of [`insert_event_sql`].
pub(super) fn bind_event<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    e: &'q AuditEvent,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(e.school_id.map(|s| s.0))
        .bind(e.actor_id.map(|u| u.0))
        .bind(&e.action)
        .bind(e.target.as_deref())
        .bind(e.ip.as_deref())
        .bind(e.detail.as_deref())
        .bind(e.at)
}

/// Appends one event (also inside another write's transaction).
pub(super) async fn insert_event(
    conn: &mut sqlx::AnyConnection,
    e: &AuditEvent,
) -> StoreResult<()> {
    static INSERT_EVENT: LazyLock<String> = LazyLock::new(|| insert_event_sql(1));
    bind_event(sqlx::query(&INSERT_EVENT), e)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait]
impl AuditRepo for SqlStore {
    async fn audit(&self, e: &AuditEvent) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        insert_event(&mut conn, e).await
    }

    async fn audit_log(&self, school: SchoolId, limit: i64) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT school_id, actor_id, action, target, ip, detail, at FROM audit_log \
             WHERE school_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(school.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event).collect()
    }

    async fn platform_audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT school_id, actor_id, action, target, ip, detail, at FROM audit_log \
             WHERE school_id IS NULL ORDER BY at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event).collect()
    }
}

fn event(r: &sqlx::any::AnyRow) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        school_id: rows::opt_school(r, "school_id")?,
        actor_id: r.try_get::<Option<i64>, _>("actor_id")?.map(UserId),
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        ip: r.try_get("ip")?,
        detail: r.try_get("detail")?,
        at: r.try_get("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::insert_event_sql;

    /// After a session's nine values (`$1`..`$9`), the event takes `$10`..`$16`,
    /// one per value `bind_event` binds (SQLite reads a missing one as NULL).
    #[test]
    fn the_event_insert_numbers_its_seven_values_from_the_first_given() {
        let sql = insert_event_sql(10);
        assert!(
            sql.ends_with("VALUES ($10, $11, $12, $13, $14, $15, $16)"),
            "{sql}"
        );
        assert!(insert_event_sql(1).ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7)"));
    }
}
