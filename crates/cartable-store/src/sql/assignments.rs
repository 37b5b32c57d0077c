//! Devoirs à rendre: assignments, hand-ins with their files, feedback.

use std::collections::HashMap;

use async_trait::async_trait;
use cartable_domain::{SchoolId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::groups::{cohort_condition, columns_of, ensure_target, pupil_of, pupils_of, target_of};
use super::rows::{self, SUMMARY_COLUMNS};
use super::{attachments, bool_int, SqlStore};
use crate::{
    AssignmentRepo, AssignmentRow, Cohorts, FeedbackRow, NewAssignment, NewFeedback, NewSubmission,
    PupilWork, StoreError, StoreResult, SubmissionRow, SubmitOutcome,
};

const ASSIGNMENT_COLUMNS: &str =
    "a.id, a.class_id, a.group_id, COALESCE(c.name, g.name) AS target_name, a.author_id, u.first_name, u.last_name, \
     a.subject, a.title, a.instructions_html, a.due_at, a.accepts_files, a.accepts_text";
const ASSIGNMENT_FROM: &str = "assignments a LEFT JOIN classes c ON c.id = a.class_id \
     LEFT JOIN pupil_groups g ON g.id = a.group_id JOIN users u ON u.id = a.author_id";
const SUBMISSION_COLUMNS: &str =
    "s.id, s.assignment_id, s.pupil_id, s.text_md, s.text_html, s.text_sha256, s.submitted_at, s.late";

fn assignment_row(r: &AnyRow) -> StoreResult<AssignmentRow> {
    Ok(AssignmentRow {
        id: r.try_get("id")?,
        target: target_of(r)?,
        target_name: r.try_get("target_name")?,
        author_id: UserId(r.try_get("author_id")?),
        author_name: format!(
            "{} {}",
            r.try_get::<String, _>("first_name")?,
            r.try_get::<String, _>("last_name")?
        ),
        subject: r.try_get("subject")?,
        title: r.try_get("title")?,
        instructions_html: r.try_get("instructions_html")?,
        due_at: r.try_get("due_at")?,
        accepts_files: rows::flag(r, "accepts_files")?,
        accepts_text: rows::flag(r, "accepts_text")?,
        attachments: Vec::new(),
    })
}

fn submission_row(r: &AnyRow) -> StoreResult<SubmissionRow> {
    let md: String = r.try_get("text_md")?;
    Ok(SubmissionRow {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        pupil_id: UserId(r.try_get("pupil_id")?),
        text_html: r.try_get("text_html")?,
        text_chars: md.chars().count() as i64,
        text_sha256: r.try_get("text_sha256")?,
        submitted_at: r.try_get("submitted_at")?,
        late: rows::flag(r, "late")?,
        files: Vec::new(),
    })
}

#[async_trait]
impl AssignmentRepo for SqlStore {
    async fn create_assignment(&self, a: &NewAssignment) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        ensure_target(&mut tx, a.school_id, a.target).await?;
        let (class_id, group_id) = columns_of(a.target);
        let id: i64 = sqlx::query(
            "INSERT INTO assignments (school_id, class_id, group_id, author_id, subject, title, instructions_md, instructions_html, \
               due_at, accepts_files, accepts_text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(a.school_id.0)
        .bind(class_id)
        .bind(group_id)
        .bind(a.author_id.0)
        .bind(&a.subject)
        .bind(&a.title)
        .bind(&a.instructions_md)
        .bind(&a.instructions_html)
        .bind(a.due_at)
        .bind(bool_int(a.accepts_files))
        .bind(bool_int(a.accepts_text))
        .bind(a.now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        attachments::insert(
            &mut tx,
            a.school_id,
            "assignment",
            id,
            &a.attachments,
            a.now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn assignment(&self, school: SchoolId, id: i64) -> StoreResult<Option<AssignmentRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM {ASSIGNMENT_FROM} WHERE a.school_id = $1 AND a.id = $2"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(
                attachments::fill(&self.pool, school, vec![assignment_row(&r)?])
                    .await?
                    .pop(),
            ),
            None => Ok(None),
        }
    }

    async fn cohort_assignments(
        &self,
        school: SchoolId,
        cohorts: &Cohorts,
        since: i64,
    ) -> StoreResult<Vec<AssignmentRow>> {
        if cohorts.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = cohort_condition("a", cohorts);
        let rows = sqlx::query(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM {ASSIGNMENT_FROM} \
             WHERE a.school_id = $1 AND {wanted} AND a.due_at >= $2 ORDER BY a.due_at, a.id"
        ))
        .bind(school.0)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .iter()
            .map(assignment_row)
            .collect::<StoreResult<Vec<_>>>()?;
        attachments::fill(&self.pool, school, items).await
    }

    async fn submit(&self, s: &NewSubmission) -> StoreResult<SubmitOutcome> {
        if let Some(first) = self
            .submission_by_key(s.school_id, s.assignment_id, s.pupil_id, &s.idempotency_key)
            .await?
        {
            return Ok(SubmitOutcome::Replayed(first));
        }
        let mut tx = self.begin_write().await?;
        // Only a pupil of the assignment's class or group, in its school.
        let allowed = sqlx::query(&format!(
            "SELECT 1 AS one FROM assignments a WHERE a.id = $1 AND a.school_id = $3 AND {}",
            pupil_of("a", "$2")
        ))
        .bind(s.assignment_id)
        .bind(s.pupil_id.0)
        .bind(s.school_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        if allowed.is_none() {
            return Err(StoreError::NotFound(format!(
                "assignment #{} for pupil #{}",
                s.assignment_id, s.pupil_id
            )));
        }
        let inserted = sqlx::query(
            "INSERT INTO submissions (school_id, assignment_id, pupil_id, text_md, text_html, text_sha256, submitted_at, late, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(s.school_id.0)
        .bind(s.assignment_id)
        .bind(s.pupil_id.0)
        .bind(&s.text_md)
        .bind(&s.text_html)
        .bind(&s.text_sha256)
        .bind(s.now)
        .bind(bool_int(s.late))
        .bind(&s.idempotency_key)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(row) => row.try_get("id")?,
            // Two copies of the same form raced: the other one won; return its receipt.
            Err(e) => {
                let err = StoreError::from(e);
                if let StoreError::Conflict(_) = err {
                    drop(tx);
                    if let Some(first) = self
                        .submission_by_key(
                            s.school_id,
                            s.assignment_id,
                            s.pupil_id,
                            &s.idempotency_key,
                        )
                        .await?
                    {
                        return Ok(SubmitOutcome::Replayed(first));
                    }
                }
                return Err(err);
            }
        };
        attachments::insert(&mut tx, s.school_id, "submission", id, &s.files, s.now).await?;
        if let Some(e) = &s.audit {
            sqlx::query(
                "INSERT INTO audit_log (school_id, actor_id, action, target, ip, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(e.school_id.map(|x| x.0))
            .bind(e.actor_id.map(|u| u.0))
            .bind(&e.action)
            .bind(e.target.as_deref().map(|t| format!("{t}, rendu {id}")))
            .bind(e.ip.as_deref())
            .bind(e.detail.as_deref())
            .bind(e.at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let row = self
            .submission(s.school_id, id)
            .await?
            .ok_or_else(|| StoreError::Internal("hand-in vanished after commit".into()))?;
        Ok(SubmitOutcome::Recorded(row))
    }

    async fn current_submission(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
    ) -> StoreResult<(Option<SubmissionRow>, i64)> {
        let rows = sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s \
             WHERE s.school_id = $1 AND s.assignment_id = $2 AND s.pupil_id = $3 ORDER BY s.id DESC"
        ))
        .bind(school.0)
        .bind(assignment)
        .bind(pupil.0)
        .fetch_all(&self.pool)
        .await?;
        let versions = rows.len() as i64;
        match rows.first() {
            Some(r) => Ok((
                attachments::fill(&self.pool, school, vec![submission_row(r)?])
                    .await?
                    .pop(),
                versions,
            )),
            None => Ok((None, 0)),
        }
    }

    async fn submission(&self, school: SchoolId, id: i64) -> StoreResult<Option<SubmissionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.school_id = $1 AND s.id = $2"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(
                attachments::fill(&self.pool, school, vec![submission_row(&r)?])
                    .await?
                    .pop(),
            ),
            None => Ok(None),
        }
    }

    async fn assignment_work(
        &self,
        school: SchoolId,
        assignment: i64,
    ) -> StoreResult<Vec<PupilWork>> {
        // A group's members come from several classes: each one's class is shown.
        let pupils = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, CASE WHEN a.group_id IS NULL THEN NULL ELSE c.name END AS detail \
             FROM assignments a JOIN users u ON u.id IN ({}) \
             LEFT JOIN enrolments en ON en.pupil_id = u.id LEFT JOIN classes c ON c.id = en.class_id \
             WHERE a.id = $1 AND a.school_id = $2 ORDER BY u.last_name, u.first_name, u.id",
            pupils_of("a")
        ))
        .bind(assignment)
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?;
        let subs = sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s WHERE s.school_id = $1 AND s.assignment_id = $2 ORDER BY s.id"
        ))
        .bind(school.0)
        .bind(assignment)
        .fetch_all(&self.pool)
        .await?;
        let mut latest: HashMap<i64, SubmissionRow> = HashMap::new();
        let mut versions: HashMap<i64, i64> = HashMap::new();
        for r in &subs {
            let s = submission_row(r)?;
            *versions.entry(s.pupil_id.0).or_default() += 1;
            latest.insert(s.pupil_id.0, s);
        }
        let current: Vec<SubmissionRow> = latest.into_values().collect();
        let current = attachments::fill(&self.pool, school, current).await?;
        let mut by_pupil: HashMap<i64, SubmissionRow> =
            current.into_iter().map(|s| (s.pupil_id.0, s)).collect();
        let feedback_rows = sqlx::query(
            "SELECT pupil_id, feedback_md, feedback_html, mark, returned_at FROM assignment_feedback \
             WHERE school_id = $1 AND assignment_id = $2",
        )
        .bind(school.0)
        .bind(assignment)
        .fetch_all(&self.pool)
        .await?;
        let mut feedback: HashMap<i64, FeedbackRow> = HashMap::new();
        for r in &feedback_rows {
            feedback.insert(
                r.try_get("pupil_id")?,
                FeedbackRow {
                    feedback_md: r.try_get("feedback_md")?,
                    feedback_html: r.try_get("feedback_html")?,
                    mark: r.try_get("mark")?,
                    returned_at: r.try_get("returned_at")?,
                },
            );
        }
        pupils
            .iter()
            .map(|r| {
                let pupil = rows::summary(r)?;
                Ok(PupilWork {
                    submission: by_pupil.remove(&pupil.id.0),
                    versions: versions.get(&pupil.id.0).copied().unwrap_or(0),
                    feedback: feedback.remove(&pupil.id.0),
                    pupil,
                })
            })
            .collect()
    }

    async fn feedback(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
    ) -> StoreResult<Option<FeedbackRow>> {
        let row = sqlx::query(
            "SELECT feedback_md, feedback_html, mark, returned_at FROM assignment_feedback \
             WHERE school_id = $1 AND assignment_id = $2 AND pupil_id = $3",
        )
        .bind(school.0)
        .bind(assignment)
        .bind(pupil.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(FeedbackRow {
            feedback_md: r.try_get("feedback_md")?,
            feedback_html: r.try_get("feedback_html")?,
            mark: r.try_get("mark")?,
            returned_at: r.try_get("returned_at")?,
        }))
    }

    async fn set_feedback(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
        feedback: &NewFeedback,
        now: i64,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            &format!(
                "INSERT INTO assignment_feedback (assignment_id, pupil_id, school_id, feedback_md, feedback_html, mark, returned_at) \
                 SELECT a.id, u.id, a.school_id, $4, $5, $6, $7 FROM assignments a JOIN users u ON u.id = $2 \
                 WHERE a.id = $1 AND a.school_id = $3 AND {} \
                 ON CONFLICT (assignment_id, pupil_id) DO UPDATE SET feedback_md = excluded.feedback_md, \
                   feedback_html = excluded.feedback_html, mark = excluded.mark, returned_at = excluded.returned_at",
                pupil_of("a", "u.id")
            ),
        )
        .bind(assignment)
        .bind(pupil.0)
        .bind(school.0)
        .bind(&feedback.feedback_md)
        .bind(&feedback.feedback_html)
        .bind(feedback.mark.as_deref())
        .bind(now)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "assignment #{assignment} for pupil #{pupil}"
            )));
        }
        Ok(())
    }

    async fn submission_by_key(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
        key: &str,
    ) -> StoreResult<Option<SubmissionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions s \
             WHERE s.assignment_id = $1 AND s.pupil_id = $2 AND s.idempotency_key = $3 AND s.school_id = $4"
        ))
        .bind(assignment)
        .bind(pupil.0)
        .bind(key)
        .bind(school.0)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(
                attachments::fill(&self.pool, school, vec![submission_row(&r)?])
                    .await?
                    .pop(),
            ),
            None => Ok(None),
        }
    }

    async fn handin_usage(&self, school: SchoolId, pupil: UserId) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(a.size), 0) AS BIGINT) AS used FROM attachments a \
             JOIN submissions s ON s.id = a.owner_id WHERE a.owner_kind = 'submission' AND s.school_id = $1 AND s.pupil_id = $2",
        )
        .bind(school.0)
        .bind(pupil.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("used")?)
    }
}
