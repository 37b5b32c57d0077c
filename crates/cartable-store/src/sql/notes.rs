use std::collections::BTreeMap;

use async_trait::async_trait;
use cartable_domain::{SchoolId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::rows::{self, SUMMARY_COLUMNS};
use super::{attachments, SqlStore};
use crate::{
    NewNote, NoteFamilyStatus, NoteForFamily, NoteRepo, NoteRow, NoteSummary, StoreResult,
};

const NOTE_COLUMNS: &str =
    "n.id, n.author_id, u.first_name, u.last_name, n.title, n.body_html, n.created_at, n.reminded_at";

fn note_row(r: &AnyRow) -> StoreResult<NoteRow> {
    Ok(NoteRow {
        id: r.try_get("id")?,
        author_id: UserId(r.try_get("author_id")?),
        author_name: format!(
            "{} {}",
            r.try_get::<String, _>("first_name")?,
            r.try_get::<String, _>("last_name")?
        ),
        title: r.try_get("title")?,
        body_html: r.try_get("body_html")?,
        created_at: r.try_get("created_at")?,
        reminded_at: r.try_get("reminded_at")?,
        attachments: Vec::new(),
    })
}

#[async_trait]
impl NoteRepo for SqlStore {
    async fn create_note(&self, n: &NewNote) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO notes (school_id, author_id, title, body_md, body_html, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(n.school_id.0)
        .bind(n.author_id.0)
        .bind(&n.title)
        .bind(&n.body_md)
        .bind(&n.body_html)
        .bind(n.now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        for pupil in &n.pupils {
            // Only pupils of this school: the row is refused otherwise.
            let done = sqlx::query(
                "INSERT INTO note_pupils (note_id, pupil_id, school_id) \
                 SELECT $1, u.id, u.school_id FROM users u WHERE u.id = $2 AND u.school_id = $3 AND u.role = 'pupil' \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(pupil.0)
            .bind(n.school_id.0)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                let dup = sqlx::query(
                    "SELECT 1 AS one FROM note_pupils WHERE note_id = $1 AND pupil_id = $2",
                )
                .bind(id)
                .bind(pupil.0)
                .fetch_optional(&mut *tx)
                .await?;
                if dup.is_none() {
                    return Err(crate::StoreError::NotFound(format!("pupil #{pupil}")));
                }
            }
        }
        attachments::insert(&mut tx, n.school_id, "note", id, &n.attachments, n.now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn note(&self, school: SchoolId, id: i64) -> StoreResult<Option<NoteRow>> {
        let row = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes n JOIN users u ON u.id = n.author_id WHERE n.school_id = $1 AND n.id = $2"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(attachments::fill(&self.pool, school, vec![note_row(&r)?])
                .await?
                .pop()),
            None => Ok(None),
        }
    }

    async fn notes_sent(
        &self,
        school: SchoolId,
        author: Option<UserId>,
        limit: i64,
    ) -> StoreResult<Vec<NoteSummary>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS}, \
               (SELECT COUNT(*) FROM note_pupils p WHERE p.note_id = n.id) AS pupils, \
               (SELECT COUNT(DISTINCT l.parent_id) FROM note_pupils p JOIN parent_links l ON l.child_id = p.pupil_id WHERE p.note_id = n.id) AS parents, \
               (SELECT COUNT(*) FROM note_acks a WHERE a.note_id = n.id) AS acked \
             FROM notes n JOIN users u ON u.id = n.author_id \
             WHERE n.school_id = $1 AND ($2 = 0 OR n.author_id = $2) ORDER BY n.created_at DESC, n.id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(school.0)
            .bind(author.map(|a| a.0).unwrap_or(0))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            out.push(NoteSummary {
                note: note_row(r)?,
                pupils: r.try_get("pupils")?,
                parents: r.try_get("parents")?,
                acked: r.try_get("acked")?,
            });
        }
        Ok(out)
    }

    async fn notes_for_parent(
        &self,
        school: SchoolId,
        parent: UserId,
        limit: i64,
    ) -> StoreResult<Vec<NoteForFamily>> {
        let rows = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS}, c.first_name AS child_first, a.acked_at FROM notes n \
             JOIN users u ON u.id = n.author_id \
             JOIN note_pupils p ON p.note_id = n.id \
             JOIN parent_links l ON l.child_id = p.pupil_id AND l.parent_id = $2 \
             JOIN users c ON c.id = p.pupil_id \
             LEFT JOIN note_acks a ON a.note_id = n.id AND a.parent_id = $2 \
             WHERE n.school_id = $1 ORDER BY n.created_at DESC, n.id DESC, c.first_name"
        ))
        .bind(school.0)
        .bind(parent.0)
        .fetch_all(&self.pool)
        .await?;
        // One row per (note, child): fold the children of each note together.
        let mut by_note: BTreeMap<i64, NoteForFamily> = BTreeMap::new();
        let mut order = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let child: String = r.try_get("child_first")?;
            if let Some(existing) = by_note.get_mut(&id) {
                existing.children.push(child);
                continue;
            }
            order.push(id);
            by_note.insert(
                id,
                NoteForFamily {
                    note: note_row(r)?,
                    children: vec![child],
                    acked_at: r.try_get("acked_at")?,
                },
            );
        }
        order.truncate(limit.max(0) as usize);
        let notes: Vec<NoteRow> = order
            .iter()
            .filter_map(|id| by_note.get(id).map(|f| f.note.clone()))
            .collect();
        let notes = attachments::fill(&self.pool, school, notes).await?;
        Ok(notes
            .into_iter()
            .filter_map(|note| {
                by_note
                    .remove(&note.id)
                    .map(|f| NoteForFamily { note, ..f })
            })
            .collect())
    }

    async fn notes_for_pupil(
        &self,
        school: SchoolId,
        pupil: UserId,
        limit: i64,
    ) -> StoreResult<Vec<NoteRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes n JOIN users u ON u.id = n.author_id \
             JOIN note_pupils p ON p.note_id = n.id AND p.pupil_id = $2 \
             WHERE n.school_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT $3"
        ))
        .bind(school.0)
        .bind(pupil.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let notes = rows.iter().map(note_row).collect::<StoreResult<Vec<_>>>()?;
        attachments::fill(&self.pool, school, notes).await
    }

    async fn note_status(&self, school: SchoolId, note: i64) -> StoreResult<Vec<NoteFamilyStatus>> {
        let pupils = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, c.name AS detail FROM note_pupils p JOIN users u ON u.id = p.pupil_id \
             LEFT JOIN enrolments e ON e.pupil_id = u.id LEFT JOIN classes c ON c.id = e.class_id \
             WHERE p.note_id = $1 AND p.school_id = $2 ORDER BY c.name, u.last_name, u.first_name, u.id"
        ))
        .bind(note)
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?;
        let parents = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, NULL AS detail, l.child_id, a.acked_at FROM note_pupils p \
             JOIN parent_links l ON l.child_id = p.pupil_id JOIN users u ON u.id = l.parent_id \
             LEFT JOIN note_acks a ON a.note_id = p.note_id AND a.parent_id = u.id \
             WHERE p.note_id = $1 AND p.school_id = $2 ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(note)
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?;
        let mut by_child: BTreeMap<i64, Vec<(crate::UserSummary, Option<i64>)>> = BTreeMap::new();
        for r in &parents {
            by_child
                .entry(r.try_get("child_id")?)
                .or_default()
                .push((rows::summary(r)?, r.try_get("acked_at")?));
        }
        pupils
            .iter()
            .map(|r| {
                let pupil = rows::summary(r)?;
                Ok(NoteFamilyStatus {
                    parents: by_child.remove(&pupil.id.0).unwrap_or_default(),
                    pupil,
                })
            })
            .collect()
    }

    async fn note_concerns_parent(&self, note: i64, parent: UserId) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM note_pupils p JOIN parent_links l ON l.child_id = p.pupil_id \
             WHERE p.note_id = $1 AND l.parent_id = $2 LIMIT 1",
        )
        .bind(note)
        .bind(parent.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn note_concerns_pupil(&self, note: i64, pupil: UserId) -> StoreResult<bool> {
        let row =
            sqlx::query("SELECT 1 AS one FROM note_pupils WHERE note_id = $1 AND pupil_id = $2")
                .bind(note)
                .bind(pupil.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    async fn ack_note(
        &self,
        school: SchoolId,
        note: i64,
        parent: UserId,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            // Only a parent of a pupil the note concerns, in the note's school.
            "INSERT INTO note_acks (note_id, parent_id, school_id, acked_at) \
             SELECT n.id, l.parent_id, n.school_id, $4 FROM notes n \
             JOIN note_pupils p ON p.note_id = n.id JOIN parent_links l ON l.child_id = p.pupil_id \
             WHERE n.id = $1 AND l.parent_id = $2 AND n.school_id = $3 LIMIT 1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(note)
        .bind(parent.0)
        .bind(school.0)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn remind_note(&self, school: SchoolId, note: i64, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE notes SET reminded_at = $1 WHERE id = $2 AND school_id = $3")
            .bind(now)
            .bind(note)
            .bind(school.0)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
