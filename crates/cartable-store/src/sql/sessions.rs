use std::sync::LazyLock;

use async_trait::async_trait;
use cartable_domain::UserId;
use sqlx::Row;

use super::{audit, rows};
use super::{bool_int, Backend, SqlStore};
use crate::{AuditEvent, SessionRepo, SessionRow, SessionTouch, StoreResult};

const INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, school_id, persistent, created_at, last_seen_at, expires_at, user_agent, ip) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// The session's insert and the login's audit event in one round trip to
/// SQLite's worker thread (SQLite runs the statements of one query in turn
/// and numbers `$N` across them); PostgreSQL prepares one statement per query.
static INSERT_SESSION_AND_EVENT: LazyLock<String> =
    LazyLock::new(|| format!("{INSERT_SESSION}; {}", audit::insert_event_sql(10)));

/// Touches per statement: 3 parameters each, within the 200 that sqlx's
/// SQLite driver binds quickly (see `bulk::MAX_PARAMS`).
const TOUCHES_PER_STATEMENT: usize = 64;

/// `UPDATE … FROM (VALUES …)` for `n` touches, in the SQL both SQLite
/// (3.33 and later) and PostgreSQL accept: a `VALUES` list's columns are
/// `column1`, `column2`… in both. The statements for each `n` are built once
/// (and so prepared once per connection, like any other).
fn touch_sessions_sql(n: usize) -> &'static str {
    static SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
        (0..=TOUCHES_PER_STATEMENT)
            .map(|n| {
                let values: Vec<String> = (0..n)
                    .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                    .collect();
                format!(
                    "UPDATE sessions SET last_seen_at = v.column2, expires_at = v.column3 \
                     FROM (VALUES {}) AS v \
                     WHERE sessions.token_hash = v.column1 AND sessions.last_seen_at < v.column2",
                    values.join(", ")
                )
            })
            .collect()
    });
    &SQL[n.min(TOUCHES_PER_STATEMENT)]
}

fn bind_session<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    s: &'q SessionRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&s.token_hash)
        .bind(s.user_id.0)
        .bind(s.school_id.map(|x| x.0))
        .bind(bool_int(s.persistent))
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(s.user_agent.as_deref())
        .bind(s.ip.as_deref())
}

async fn insert_session_row(conn: &mut sqlx::AnyConnection, s: &SessionRow) -> StoreResult<()> {
    bind_session(sqlx::query(INSERT_SESSION), s)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait]
impl SessionRepo for SqlStore {
    async fn insert_session(&self, s: &SessionRow) -> StoreResult<()> {
        let mut conn = self.writer.acquire().await?;
        insert_session_row(&mut conn, s).await
    }

    async fn record_login(
        &self,
        s: &SessionRow,
        event: &AuditEvent,
        reset_failures: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        if reset_failures {
            sqlx::query(
                "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1 AND (failed_logins <> 0 OR locked_until <> 0)",
            )
            .bind(s.user_id.0)
            .execute(&mut *tx)
            .await?;
        }
        // A login at 8:00 shares the one SQLite writer with every hand-in:
        // one hand-off fewer to its worker thread is that much less queue.
        match self.backend {
            Backend::Sqlite => {
                audit::bind_event(
                    bind_session(sqlx::query(&INSERT_SESSION_AND_EVENT), s),
                    event,
                )
                .execute(&mut *tx)
                .await?;
            }
            Backend::Postgres => {
                insert_session_row(&mut tx, s).await?;
                audit::insert_event(&mut tx, event).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, school_id, persistent, created_at, last_seen_at, expires_at, user_agent, ip \
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(SessionRow {
            token_hash: r.try_get("token_hash")?,
            user_id: UserId(r.try_get("user_id")?),
            school_id: rows::opt_school(&r, "school_id")?,
            persistent: rows::flag(&r, "persistent")?,
            created_at: r.try_get("created_at")?,
            last_seen_at: r.try_get("last_seen_at")?,
            expires_at: r.try_get("expires_at")?,
            user_agent: r.try_get("user_agent")?,
            ip: r.try_get("ip")?,
        }))
    }

    async fn touch_sessions(&self, touches: &[SessionTouch]) -> StoreResult<()> {
        if touches.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in touches.chunks(TOUCHES_PER_STATEMENT) {
            let mut q = sqlx::query(touch_sessions_sql(chunk.len()));
            for t in chunk {
                q = q
                    .bind(&t.token_hash)
                    .bind(t.last_seen_at)
                    .bind(t.expires_at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId, keep: Option<&str>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user.0)
            .bind(keep.unwrap_or(""))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
