//! The cahier de textes: lessons, homework due, done marks.

use std::collections::HashSet;

use async_trait::async_trait;
use cartable_domain::{SchoolId, Target, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::groups::{cohort_condition, columns_of, ensure_target, pupil_of, target_of};
use super::{attachments, bool_int, rows, SqlStore};
use crate::{
    AttachmentRow, Cohorts, DueHomework, LessonFields, LessonRepo, LessonRow, NewAttachment,
    NewLesson, PupilGlance, StoreResult,
};

const LESSON_COLUMNS: &str = "l.id, l.class_id, l.group_id, COALESCE(c.name, g.name) AS target_name, \
     l.author_id, u.first_name, u.last_name, \
     l.subject, l.lesson_date, l.content_md, l.content_html, l.homework_md, l.homework_html, l.due_date, \
     l.workload_minutes, l.is_test, l.publish_at";

const LESSON_FROM: &str = "lessons l LEFT JOIN classes c ON c.id = l.class_id \
     LEFT JOIN pupil_groups g ON g.id = l.group_id JOIN users u ON u.id = l.author_id";

fn lesson_row(r: &AnyRow) -> StoreResult<LessonRow> {
    Ok(LessonRow {
        id: r.try_get("id")?,
        target: target_of(r)?,
        target_name: r.try_get("target_name")?,
        author_id: UserId(r.try_get("author_id")?),
        author_name: format!(
            "{} {}",
            r.try_get::<String, _>("first_name")?,
            r.try_get::<String, _>("last_name")?
        ),
        fields: LessonFields {
            subject: r.try_get("subject")?,
            lesson_date: r.try_get("lesson_date")?,
            content_md: r.try_get("content_md")?,
            content_html: r.try_get("content_html")?,
            homework_md: r.try_get("homework_md")?,
            homework_html: r.try_get("homework_html")?,
            due_date: r.try_get("due_date")?,
            workload_minutes: r.try_get("workload_minutes")?,
            is_test: rows::flag(r, "is_test")?,
            publish_at: r.try_get("publish_at")?,
        },
        attachments: Vec::new(),
    })
}

#[async_trait]
impl LessonRepo for SqlStore {
    async fn create_lesson(&self, l: &NewLesson) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        ensure_target(&mut tx, l.school_id, l.target).await?;
        let (class_id, group_id) = columns_of(l.target);
        let f = &l.fields;
        let id: i64 = sqlx::query(
            "INSERT INTO lessons (school_id, class_id, group_id, author_id, subject, lesson_date, content_md, content_html, \
               homework_md, homework_html, due_date, workload_minutes, is_test, publish_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
        )
        .bind(l.school_id.0)
        .bind(class_id)
        .bind(group_id)
        .bind(l.author_id.0)
        .bind(&f.subject)
        .bind(&f.lesson_date)
        .bind(&f.content_md)
        .bind(&f.content_html)
        .bind(&f.homework_md)
        .bind(&f.homework_html)
        .bind(f.due_date.as_deref())
        .bind(f.workload_minutes)
        .bind(bool_int(f.is_test))
        .bind(f.publish_at)
        .bind(l.now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        attachments::insert(&mut tx, l.school_id, "lesson", id, &l.attachments, l.now).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_lesson(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
        f: &LessonFields,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE lessons SET subject = $1, lesson_date = $2, content_md = $3, content_html = $4, homework_md = $5, \
               homework_html = $6, due_date = $7, workload_minutes = $8, is_test = $9, publish_at = $10, updated_at = $11 \
             WHERE id = $12 AND school_id = $13 AND author_id = $14",
        )
        .bind(&f.subject)
        .bind(&f.lesson_date)
        .bind(&f.content_md)
        .bind(&f.content_html)
        .bind(&f.homework_md)
        .bind(&f.homework_html)
        .bind(f.due_date.as_deref())
        .bind(f.workload_minutes)
        .bind(bool_int(f.is_test))
        .bind(f.publish_at)
        .bind(now)
        .bind(id)
        .bind(school.0)
        .bind(author.0)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_lesson(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut tx = self.begin_write().await?;
        let mine = sqlx::query(
            "SELECT 1 AS one FROM lessons WHERE id = $1 AND school_id = $2 AND author_id = $3",
        )
        .bind(id)
        .bind(school.0)
        .bind(author.0)
        .fetch_optional(&mut *tx)
        .await?;
        if mine.is_none() {
            return Ok(None);
        }
        let keys = sqlx::query("SELECT blob_key FROM attachments WHERE owner_kind = 'lesson' AND owner_id = $1 AND school_id = $2")
            .bind(id)
            .bind(school.0)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("blob_key"))
            .collect::<Result<Vec<_>, _>>()?;
        for sql in [
            "DELETE FROM homework_done WHERE lesson_id = $1 AND school_id = $2",
            "DELETE FROM attachments WHERE owner_kind = 'lesson' AND owner_id = $1 AND school_id = $2",
            "DELETE FROM lessons WHERE id = $1 AND school_id = $2",
        ] {
            sqlx::query(sql).bind(id).bind(school.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Some(keys))
    }

    async fn add_lesson_attachments(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
        files: &[NewAttachment],
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let mine = sqlx::query(
            "SELECT 1 AS one FROM lessons WHERE id = $1 AND school_id = $2 AND author_id = $3",
        )
        .bind(id)
        .bind(school.0)
        .bind(author.0)
        .fetch_optional(&mut *tx)
        .await?;
        if mine.is_none() {
            return Ok(false);
        }
        attachments::insert(&mut tx, school, "lesson", id, files, now).await?;
        sqlx::query("UPDATE lessons SET updated_at = $1 WHERE id = $2 AND school_id = $3")
            .bind(now)
            .bind(id)
            .bind(school.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn remove_lesson_attachment(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
        attachment: i64,
    ) -> StoreResult<Option<AttachmentRow>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {} FROM attachments a WHERE a.id = $1 AND a.school_id = $2 AND a.owner_kind = 'lesson' \
               AND a.owner_id = $3 AND EXISTS (SELECT 1 FROM lessons l WHERE l.id = $3 AND l.school_id = $2 AND l.author_id = $4)",
            attachments::COLUMNS
                .split(", ")
                .map(|c| format!("a.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(attachment)
        .bind(school.0)
        .bind(id)
        .bind(author.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let removed = attachments::row(&row)?;
        sqlx::query("DELETE FROM attachments WHERE id = $1 AND school_id = $2")
            .bind(attachment)
            .bind(school.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(removed))
    }

    async fn lesson(&self, school: SchoolId, id: i64) -> StoreResult<Option<LessonRow>> {
        let row = sqlx::query(&format!(
            "SELECT {LESSON_COLUMNS} FROM {LESSON_FROM} WHERE l.school_id = $1 AND l.id = $2"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(attachments::fill(&self.pool, school, vec![lesson_row(&r)?])
                .await?
                .pop()),
            None => Ok(None),
        }
    }

    async fn target_lessons(
        &self,
        school: SchoolId,
        target: Target,
        from: &str,
        to: &str,
        now: i64,
        include_unpublished: bool,
    ) -> StoreResult<Vec<LessonRow>> {
        let (column, id) = match target {
            Target::Class(c) => ("class_id", c.0),
            Target::Group(g) => ("group_id", g.0),
        };
        let rows = sqlx::query(&format!(
            "SELECT {LESSON_COLUMNS} FROM {LESSON_FROM} \
             WHERE l.school_id = $1 AND l.{column} = $2 AND l.lesson_date >= $3 AND l.lesson_date <= $4 \
               AND ($5 = 1 OR l.publish_at <= $6) \
             ORDER BY l.lesson_date, l.subject, l.id"
        ))
        .bind(school.0)
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(bool_int(include_unpublished))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let lessons = rows
            .iter()
            .map(lesson_row)
            .collect::<StoreResult<Vec<_>>>()?;
        attachments::fill(&self.pool, school, lessons).await
    }

    async fn homework_due(
        &self,
        school: SchoolId,
        cohorts: &Cohorts,
        from: &str,
        to: &str,
        now: i64,
        pupil: Option<UserId>,
    ) -> StoreResult<Vec<DueHomework>> {
        if cohorts.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = cohort_condition("l", cohorts);
        let rows = sqlx::query(&format!(
            "SELECT {LESSON_COLUMNS} FROM {LESSON_FROM} \
             WHERE l.school_id = $1 AND {wanted} AND l.due_date IS NOT NULL \
               AND l.due_date >= $2 AND l.due_date <= $3 AND l.publish_at <= $4 \
             ORDER BY l.due_date, l.subject, l.id"
        ))
        .bind(school.0)
        .bind(from)
        .bind(to)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let lessons = rows
            .iter()
            .map(lesson_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let lessons = attachments::fill(&self.pool, school, lessons).await?;
        let done: HashSet<i64> = match pupil {
            Some(p) if !lessons.is_empty() => {
                let ids = lessons
                    .iter()
                    .map(|l| l.id.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                sqlx::query(&format!(
                    "SELECT lesson_id FROM homework_done WHERE pupil_id = $1 AND lesson_id IN ({ids})"
                ))
                .bind(p.0)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("lesson_id"))
                .collect::<Result<_, _>>()?
            }
            _ => HashSet::new(),
        };
        Ok(lessons
            .into_iter()
            .map(|lesson| DueHomework {
                done: done.contains(&lesson.id),
                lesson,
            })
            .collect())
    }

    async fn set_homework_done(
        &self,
        school: SchoolId,
        lesson: i64,
        pupil: UserId,
        done: bool,
        now: i64,
    ) -> StoreResult<()> {
        if done {
            // Only a pupil of the lesson's class or group, in its school.
            sqlx::query(&format!(
                "INSERT INTO homework_done (lesson_id, pupil_id, school_id, done_at) \
                 SELECT l.id, u.id, l.school_id, $4 FROM lessons l JOIN users u ON u.id = $2 \
                 WHERE l.id = $1 AND l.school_id = $3 AND {} ON CONFLICT DO NOTHING",
                pupil_of("l", "u.id")
            ))
            .bind(lesson)
            .bind(pupil.0)
            .bind(school.0)
            .bind(now)
            .execute(&self.writer)
            .await?;
        } else {
            sqlx::query("DELETE FROM homework_done WHERE lesson_id = $1 AND pupil_id = $2 AND school_id = $3")
                .bind(lesson)
                .bind(pupil.0)
                .bind(school.0)
                .execute(&self.writer)
                .await?;
        }
        Ok(())
    }

    async fn pupil_glance(
        &self,
        school: SchoolId,
        pupil: UserId,
        since_lesson: i64,
    ) -> StoreResult<PupilGlance> {
        // One statement, the same text for every pupil (so it is prepared
        // once per connection): the unread count first, then one row per
        // done mark. Both parts use an index led by the pupil.
        let rows = sqlx::query(
            "SELECT CAST(0 AS BIGINT) AS kind, COUNT(*) AS v FROM thread_members m JOIN threads t ON t.id = m.thread_id \
             WHERE m.user_id = $1 AND m.school_id = $2 AND t.last_message_id > m.last_read_message_id \
             UNION ALL \
             SELECT CAST(1 AS BIGINT) AS kind, d.lesson_id AS v FROM homework_done d \
             WHERE d.pupil_id = $1 AND d.school_id = $2 AND d.lesson_id >= $3",
        )
        .bind(pupil.0)
        .bind(school.0)
        .bind(since_lesson)
        .fetch_all(&self.pool)
        .await?;
        let mut glance = PupilGlance::default();
        for r in &rows {
            let (kind, v): (i64, i64) = (r.try_get("kind")?, r.try_get("v")?);
            if kind == 0 {
                glance.unread_threads = v;
            } else {
                glance.done.push(v);
            }
        }
        Ok(glance)
    }
}
