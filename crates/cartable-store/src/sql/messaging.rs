use async_trait::async_trait;
use cartable_domain::messaging::MessagingRules;
use cartable_domain::names::search_key;
use cartable_domain::{SchoolId, UserId};
use sqlx::Row;

use super::rows::{self, SUMMARY_COLUMNS};
use super::{attachments, bool_int, SqlStore};
use crate::{
    AttachmentRow, MessageView, MessagingRepo, NewAttachment, NewThread, SenderActivity,
    StoreError, StoreResult, ThreadSummary, ThreadView,
};

/// Rows per multi-row INSERT (4 parameters each). Kept small on purpose: sqlx
/// looks each numbered parameter up by name and SQLite scans for it, so the
/// cost of one statement grows with the square of its parameters (measured
/// by bench/messaging-fanout: 500 rows per statement took 3x longer than 100).
const MEMBER_CHUNK: usize = 100;

fn distinct_members(members: &[UserId]) -> usize {
    members
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// `%` and `_` typed by a person are literal characters, not wildcards.
fn like_pattern(search: &str) -> String {
    let escaped = search_key(search)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[async_trait]
impl MessagingRepo for SqlStore {
    async fn messaging_rules(&self, school: SchoolId) -> StoreResult<MessagingRules> {
        let row = sqlx::query(
            "SELECT pupils_to_teachers, pupils_to_staff, pupils_to_classmates, parents_to_teachers, parents_to_staff, parents_to_parents \
             FROM messaging_rules WHERE school_id = $1",
        )
        .bind(school.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(MessagingRules::default());
        };
        Ok(MessagingRules {
            pupils_to_teachers: rows::flag(&r, "pupils_to_teachers")?,
            pupils_to_staff: rows::flag(&r, "pupils_to_staff")?,
            pupils_to_classmates: rows::flag(&r, "pupils_to_classmates")?,
            parents_to_teachers: rows::flag(&r, "parents_to_teachers")?,
            parents_to_staff: rows::flag(&r, "parents_to_staff")?,
            parents_to_parents: rows::flag(&r, "parents_to_parents")?,
        })
    }

    async fn set_messaging_rules(
        &self,
        school: SchoolId,
        r: &MessagingRules,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO messaging_rules (school_id, pupils_to_teachers, pupils_to_staff, pupils_to_classmates, parents_to_teachers, parents_to_staff, parents_to_parents, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (school_id) DO UPDATE SET pupils_to_teachers = excluded.pupils_to_teachers, \
               pupils_to_staff = excluded.pupils_to_staff, pupils_to_classmates = excluded.pupils_to_classmates, \
               parents_to_teachers = excluded.parents_to_teachers, parents_to_staff = excluded.parents_to_staff, \
               parents_to_parents = excluded.parents_to_parents, updated_at = excluded.updated_at",
        )
        .bind(school.0)
        .bind(bool_int(r.pupils_to_teachers))
        .bind(bool_int(r.pupils_to_staff))
        .bind(bool_int(r.pupils_to_classmates))
        .bind(bool_int(r.parents_to_teachers))
        .bind(bool_int(r.parents_to_staff))
        .bind(bool_int(r.parents_to_parents))
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn create_thread(&self, t: &NewThread) -> StoreResult<(i64, i64)> {
        let mut tx = self.begin_write().await?;
        if let Some(parent) = t.reply_to_thread_id {
            let found =
                sqlx::query("SELECT 1 AS one FROM threads WHERE id = $1 AND school_id = $2")
                    .bind(parent)
                    .bind(t.school_id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::NotFound(format!(
                    "thread #{parent} in school {}",
                    t.school_id
                )));
            }
        }
        let thread_id: i64 = sqlx::query(
            "INSERT INTO threads (school_id, subject, subject_search, author_id, created_at, last_message_at, private_replies, reply_to_thread_id, member_count) \
             VALUES ($1, $2, $7, $3, $4, $4, $5, $6, $8) RETURNING id",
        )
        .bind(t.school_id.0)
        .bind(&t.subject)
        .bind(t.author_id.0)
        .bind(t.now)
        .bind(bool_int(t.private_replies))
        .bind(t.reply_to_thread_id)
        .bind(search_key(&t.subject))
        .bind(distinct_members(&t.members) as i64)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let message_id: i64 = sqlx::query(
            "INSERT INTO messages (thread_id, school_id, author_id, body_md, body_html, body_search, created_at) \
             VALUES ($1, $2, $3, $4, $5, $7, $6) RETURNING id",
        )
        .bind(thread_id)
        .bind(t.school_id.0)
        .bind(t.author_id.0)
        .bind(&t.body_md)
        .bind(&t.body_html)
        .bind(t.now)
        .bind(search_key(&t.body_md))
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query("UPDATE threads SET last_message_id = $1 WHERE id = $2")
            .bind(message_id)
            .bind(thread_id)
            .execute(&mut *tx)
            .await?;
        let mut members = t.members.clone();
        members.sort();
        members.dedup();
        for chunk in members.chunks(MEMBER_CHUNK) {
            let values = (0..chunk.len())
                .map(|i| {
                    format!(
                        "(${}, ${}, ${}, ${})",
                        4 * i + 1,
                        4 * i + 2,
                        4 * i + 3,
                        4 * i + 4
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO thread_members (thread_id, user_id, school_id, last_read_message_id) VALUES {values}"
            );
            let mut q = sqlx::query(&sql);
            for user in chunk {
                // The author has read their own message.
                let read = if *user == t.author_id { message_id } else { 0 };
                q = q
                    .bind(thread_id)
                    .bind(user.0)
                    .bind(t.school_id.0)
                    .bind(read);
            }
            q.execute(&mut *tx).await?;
        }
        // Every member must belong to the thread's school: a thread never
        // crosses schools, whatever the caller checked.
        let in_school: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM thread_members m JOIN users u ON u.id = m.user_id \
             WHERE m.thread_id = $1 AND u.school_id = $2",
        )
        .bind(thread_id)
        .bind(t.school_id.0)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if in_school != members.len() as i64 {
            return Err(StoreError::NotFound(format!(
                "{} member(s) of this thread are not in school {}",
                members.len() as i64 - in_school,
                t.school_id
            )));
        }
        attachments::insert(
            &mut tx,
            t.school_id,
            "message",
            message_id,
            &t.attachments,
            t.now,
        )
        .await?;
        tx.commit().await?;
        Ok((thread_id, message_id))
    }

    async fn add_message(
        &self,
        school: SchoolId,
        thread: i64,
        author: UserId,
        body_md: &str,
        body_html: &str,
        files: &[NewAttachment],
        now: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let member = sqlx::query("SELECT 1 AS one FROM thread_members WHERE thread_id = $1 AND user_id = $2 AND school_id = $3")
            .bind(thread)
            .bind(author.0)
            .bind(school.0)
            .fetch_optional(&mut *tx)
            .await?;
        if member.is_none() {
            return Err(StoreError::NotFound(format!(
                "thread #{thread} for user #{author}"
            )));
        }
        let message_id: i64 = sqlx::query(
            "INSERT INTO messages (thread_id, school_id, author_id, body_md, body_html, body_search, created_at) \
             VALUES ($1, $2, $3, $4, $5, $7, $6) RETURNING id",
        )
        .bind(thread)
        .bind(school.0)
        .bind(author.0)
        .bind(body_md)
        .bind(body_html)
        .bind(now)
        .bind(search_key(body_md))
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query("UPDATE threads SET last_message_id = $1, last_message_at = $2 WHERE id = $3")
            .bind(message_id)
            .bind(now)
            .bind(thread)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE thread_members SET last_read_message_id = $1 WHERE thread_id = $2 AND user_id = $3")
            .bind(message_id)
            .bind(thread)
            .bind(author.0)
            .execute(&mut *tx)
            .await?;
        attachments::insert(&mut tx, school, "message", message_id, files, now).await?;
        tx.commit().await?;
        Ok(message_id)
    }

    async fn private_reply_thread(
        &self,
        school: SchoolId,
        broadcast: i64,
        user: UserId,
    ) -> StoreResult<Option<i64>> {
        let row = sqlx::query(
            "SELECT t.id FROM threads t JOIN thread_members m ON m.thread_id = t.id AND m.user_id = $3 \
             WHERE t.school_id = $1 AND t.reply_to_thread_id = $2 AND t.author_id = $3 ORDER BY t.id LIMIT 1",
        )
        .bind(school.0)
        .bind(broadcast)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    async fn threads_of(
        &self,
        school: SchoolId,
        user: UserId,
        search: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<ThreadSummary>> {
        let filter = match search {
            Some(_) => {
                " AND (t.subject_search LIKE $4 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages s \
                   WHERE s.thread_id = t.id AND s.body_search LIKE $4 ESCAPE '\\'))"
            }
            None => "",
        };
        let sql = format!(
            "SELECT t.id, t.subject, t.last_message_at, \
               CASE WHEN t.last_message_id > m.last_read_message_id THEN 1 ELSE 0 END AS unread, \
               t.member_count AS members, \
               a.first_name AS author_first, a.last_name AS author_last \
             FROM thread_members m JOIN threads t ON t.id = m.thread_id JOIN users a ON a.id = t.author_id \
             WHERE m.user_id = $1 AND m.school_id = $2{filter} \
             ORDER BY t.last_message_at DESC, t.id DESC LIMIT $3"
        );
        let mut q = sqlx::query(&sql).bind(user.0).bind(school.0).bind(limit);
        if let Some(s) = search {
            q = q.bind(like_pattern(s));
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ThreadSummary {
                    id: r.try_get("id")?,
                    subject: r.try_get("subject")?,
                    last_message_at: r.try_get("last_message_at")?,
                    unread: rows::flag(r, "unread")?,
                    members: r.try_get("members")?,
                    author_name: format!(
                        "{} {}",
                        r.try_get::<String, _>("author_first")?,
                        r.try_get::<String, _>("author_last")?
                    ),
                })
            })
            .collect()
    }

    async fn thread_for_member(
        &self,
        school: SchoolId,
        thread: i64,
        user: UserId,
    ) -> StoreResult<Option<ThreadView>> {
        let head = sqlx::query(
            "SELECT t.id, t.subject, t.author_id, t.private_replies, t.reply_to_thread_id FROM threads t \
             JOIN thread_members m ON m.thread_id = t.id AND m.user_id = $3 WHERE t.id = $1 AND t.school_id = $2",
        )
        .bind(thread)
        .bind(school.0)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(h) = head else { return Ok(None) };
        let members = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, NULL AS detail FROM thread_members m JOIN users u ON u.id = m.user_id \
             WHERE m.thread_id = $1 ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(thread)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(rows::summary)
        .collect::<StoreResult<Vec<_>>>()?;
        let message_rows = sqlx::query(
            "SELECT m.id, m.author_id, m.body_html, m.created_at, u.first_name, u.last_name FROM messages m \
             JOIN users u ON u.id = m.author_id WHERE m.thread_id = $1 ORDER BY m.id",
        )
        .bind(thread)
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<i64> = message_rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        let mut files = attachments::for_owners(&self.pool, school, "message", &ids).await?;
        let messages = message_rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                Ok(MessageView {
                    id,
                    author_id: UserId(r.try_get("author_id")?),
                    author_name: format!(
                        "{} {}",
                        r.try_get::<String, _>("first_name")?,
                        r.try_get::<String, _>("last_name")?
                    ),
                    body_html: r.try_get("body_html")?,
                    created_at: r.try_get("created_at")?,
                    attachments: files.remove(&id).unwrap_or_default(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(ThreadView {
            id: h.try_get("id")?,
            subject: h.try_get("subject")?,
            author_id: UserId(h.try_get("author_id")?),
            private_replies: rows::flag(&h, "private_replies")?,
            reply_to_thread_id: h.try_get("reply_to_thread_id")?,
            members,
            messages,
        }))
    }

    async fn mark_read(&self, thread: i64, user: UserId, message: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE thread_members SET last_read_message_id = $1 WHERE thread_id = $2 AND user_id = $3 AND last_read_message_id < $1",
        )
        .bind(message)
        .bind(thread)
        .bind(user.0)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn unread_threads(&self, school: SchoolId, user: UserId) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM thread_members m JOIN threads t ON t.id = m.thread_id \
             WHERE m.user_id = $1 AND m.school_id = $2 AND t.last_message_id > m.last_read_message_id",
        )
        .bind(user.0)
        .bind(school.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    async fn messages_sent_since(&self, author: UserId, since: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM messages WHERE author_id = $1 AND created_at >= $2",
        )
        .bind(author.0)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    async fn top_senders(
        &self,
        school: SchoolId,
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<SenderActivity>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, NULL AS detail, s.n AS messages, \
               (SELECT COUNT(*) FROM messages m2 JOIN thread_members tm ON tm.thread_id = m2.thread_id \
                 WHERE m2.author_id = u.id AND m2.created_at >= $2 AND tm.user_id <> u.id) AS recipients \
             FROM (SELECT author_id, COUNT(*) AS n FROM messages WHERE school_id = $1 AND created_at >= $2 GROUP BY author_id) s \
             JOIN users u ON u.id = s.author_id ORDER BY s.n DESC, u.id LIMIT $3"
        ))
        .bind(school.0)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SenderActivity {
                    sender: rows::summary(r)?,
                    messages: r.try_get("messages")?,
                    recipients: r.try_get("recipients")?,
                })
            })
            .collect()
    }

    async fn attachment(&self, school: SchoolId, id: i64) -> StoreResult<Option<AttachmentRow>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM attachments WHERE school_id = $1 AND id = $2",
            attachments::COLUMNS
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attachments::row).transpose()
    }

    async fn is_thread_member(&self, thread: i64, user: UserId) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM thread_members WHERE thread_id = $1 AND user_id = $2",
        )
        .bind(thread)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn message_thread(&self, school: SchoolId, message: i64) -> StoreResult<Option<i64>> {
        let row = sqlx::query("SELECT thread_id FROM messages WHERE id = $1 AND school_id = $2")
            .bind(message)
            .bind(school.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("thread_id")).transpose()?)
    }
}
