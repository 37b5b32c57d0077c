//! Devoirs à rendre: a teacher asks for work by a deadline; a pupil hands it
//! in (files and/or text) and gets a receipt; the teacher sees who has, who
//! has not, who was late, and returns feedback that the pupil and their
//! parents see.
//!
//! An acknowledged hand-in is never lost: the files are durable (fsync'd,
//! renamed, directory fsync'd) before the row is committed, and the row is
//! committed before the receipt is shown. A retried form (no answer came
//! back, the pupil pressed again) carries the same idempotency key and gets
//! the first receipt back instead of a second copy.

use cartable_domain::calendar::Day;
use cartable_domain::policy::{can, Action, Actor, Resource};
use cartable_domain::{Role, Target, UserId};
use cartable_store::{
    AssignmentRow, ChildSummary, Cohorts, FeedbackRow, NewAssignment, NewAttachment, NewFeedback,
    NewSubmission, PupilWork, SubmissionRow, SubmitOutcome,
};
use sha2::{Digest, Sha256};

use crate::auth::ClientInfo;
use crate::cohorts::pupil_cohorts;
use crate::markdown;
use crate::messaging::clean_title;
use crate::{App, AppError};

#[derive(Debug, Clone, Default)]
pub struct AssignmentDraft {
    pub title: String,
    pub subject: String,
    pub instructions: String,
    /// `YYYY-MM-DD` or `jj/mm/aaaa`.
    pub due_date: String,
    /// `HH:MM`, Paris time; empty means 23:59.
    pub due_time: String,
    pub accepts_files: bool,
    pub accepts_text: bool,
    pub attachments: Vec<NewAttachment>,
}

/// What a pupil (or a parent, for a child) sees of an assignment.
#[derive(Debug, Clone)]
pub struct PupilAssignment {
    pub assignment: AssignmentRow,
    pub submission: Option<SubmissionRow>,
    pub versions: i64,
    pub feedback: Option<FeedbackRow>,
}

/// The result of handing in: the receipt, and whether it was a replay.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub submission: SubmissionRow,
    pub replayed: bool,
}

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::invalid(code, message)
}

/// "HH:MM" to seconds after midnight.
fn parse_time(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(23 * 3600 + 59 * 60);
    }
    let (h, m) = raw.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 3600 + m * 60)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl App {
    pub async fn create_assignment(
        &self,
        actor: &Actor,
        target: Target,
        draft: AssignmentDraft,
        client: &ClientInfo,
    ) -> Result<i64, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        self.target_summary(school, target).await?;
        if !can(
            actor,
            Action::WriteLessons,
            Resource::target(school, target),
        ) {
            return Err(AppError::Forbidden);
        }
        let title = clean_title(&draft.title, "le titre", 150)?;
        let teacher = self
            .store
            .user(Some(school), actor.user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let subject_raw = if draft.subject.trim().is_empty() {
            teacher.subject.unwrap_or_default()
        } else {
            draft.subject.clone()
        };
        let subject = clean_title(&subject_raw, "la matière", 80)?;
        let instructions = draft.instructions.trim();
        markdown::check_length(instructions, "la consigne")
            .map_err(|m| invalid("text.too_long", m))?;
        let day = Day::parse(&draft.due_date).ok_or_else(|| {
            invalid(
                "assignment.due_date",
                "Indiquez la date limite (jj/mm/aaaa).",
            )
        })?;
        let time = parse_time(&draft.due_time)
            .ok_or_else(|| invalid("assignment.due_time", "Heure limite invalide (hh:mm)."))?;
        let due_at = day.at_paris(time);
        if due_at <= self.now() {
            return Err(invalid(
                "assignment.due_past",
                "La date limite doit être dans le futur.",
            ));
        }
        if !draft.accepts_files && !draft.accepts_text {
            return Err(invalid(
                "assignment.nothing",
                "Choisissez ce que les élèves rendent : des fichiers, un texte, ou les deux.",
            ));
        }
        let id = self
            .store
            .create_assignment(&NewAssignment {
                school_id: school,
                target,
                author_id: actor.user_id,
                subject,
                title: title.clone(),
                instructions_md: instructions.to_string(),
                instructions_html: markdown::render(instructions),
                due_at,
                accepts_files: draft.accepts_files,
                accepts_text: draft.accepts_text,
                attachments: draft.attachments,
                now: self.now(),
            })
            .await?;
        self.audit(
            Some(school),
            "assignment.created",
            Some(title),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(id)
    }

    /// An assignment the actor may see (the class's or group's cahier readers).
    pub async fn assignment_for(&self, actor: &Actor, id: i64) -> Result<AssignmentRow, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let a = self
            .store
            .assignment(school, id)
            .await?
            .ok_or(AppError::NotFound)?;
        if can(
            actor,
            Action::ViewLessons,
            Resource::target(school, a.target),
        ) {
            Ok(a)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// May the actor see the hand-ins and return feedback? Teachers of the
    /// class or group, staff and admins.
    fn marks_for(&self, actor: &Actor, a: &AssignmentRow) -> bool {
        let Some(school) = actor.school_id else {
            return false;
        };
        match actor.role {
            Role::Teacher => can(
                actor,
                Action::WriteLessons,
                Resource::target(school, a.target),
            ),
            Role::Staff | Role::SchoolAdmin => true,
            _ => false,
        }
    }

    /// Assignments of the pupil's class and groups (due from a week ago on), with their work.
    pub async fn assignments_for_pupil(
        &self,
        actor: &Actor,
        pupil: UserId,
        cohorts: &Cohorts,
    ) -> Result<Vec<PupilAssignment>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        let since = self.now() - 7 * 86_400;
        let mut out = Vec::new();
        for assignment in self
            .store
            .cohort_assignments(school, cohorts, since)
            .await?
        {
            let (submission, versions) = self
                .store
                .current_submission(school, assignment.id, pupil)
                .await?;
            let feedback = self.store.feedback(school, assignment.id, pupil).await?;
            out.push(PupilAssignment {
                assignment,
                submission,
                versions,
                feedback,
            });
        }
        Ok(out)
    }

    /// A pupil's own list, or each child's for a parent, or the classes taught for a teacher.
    pub async fn my_assignments(&self, actor: &Actor) -> Result<Vec<PupilAssignment>, AppError> {
        if actor.role != Role::Pupil {
            return Ok(Vec::new());
        }
        self.assignments_for_pupil(actor, actor.user_id, &pupil_cohorts(actor))
            .await
    }

    pub async fn children_assignments(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(ChildSummary, Vec<PupilAssignment>)>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if actor.role != Role::Parent {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for child in self.store.children_of(school, actor.user_id).await? {
            let cohorts = self.store.pupil_cohorts(school, child.child.id).await?;
            let items = self
                .assignments_for_pupil(actor, child.child.id, &cohorts)
                .await?;
            out.push((child, items));
        }
        Ok(out)
    }

    pub async fn taught_assignments(&self, actor: &Actor) -> Result<Vec<AssignmentRow>, AppError> {
        let school = actor.school_id.ok_or(AppError::Forbidden)?;
        if actor.role != Role::Teacher {
            return Ok(Vec::new());
        }
        let taught = Cohorts {
            classes: actor.classes.iter().copied().collect(),
            groups: actor.groups.iter().copied().collect(),
        };
        Ok(self
            .store
            .cohort_assignments(school, &taught, self.now() - 60 * 86_400)
            .await?)
    }

    /// What the actor sees of one assignment as a pupil or parent: the pupil's
    /// own work, or each of the parent's children in that class or group.
    pub async fn pupil_work(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(AssignmentRow, Vec<(String, PupilAssignment)>), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let a = self.assignment_for(actor, id).await?;
        let pupils: Vec<(UserId, String)> = match actor.role {
            Role::Pupil => vec![(actor.user_id, String::new())],
            Role::Parent => {
                let mut concerned = Vec::new();
                for c in self.store.children_of(school, actor.user_id).await? {
                    let cohorts = self.store.pupil_cohorts(school, c.child.id).await?;
                    if cohorts.contains(a.target) {
                        concerned.push((c.child.id, c.child.display_name()));
                    }
                }
                concerned
            }
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for (pupil, name) in pupils {
            let (submission, versions) = self.store.current_submission(school, id, pupil).await?;
            let feedback = self.store.feedback(school, id, pupil).await?;
            out.push((
                name,
                PupilAssignment {
                    assignment: a.clone(),
                    submission,
                    versions,
                    feedback,
                },
            ));
        }
        Ok((a, out))
    }

    /// The cheap checks of a hand-in, before any byte of it is read: the
    /// actor is a pupil of the class or group, and has room left in their quota.
    pub async fn may_hand_in(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let a = self.assignment_for(actor, id).await?;
        if !pupil_cohorts(actor).contains(a.target) {
            return Err(AppError::Forbidden);
        }
        let used = self.store.handin_usage(school, actor.user_id).await?;
        if used >= self.config.handin_quota_bytes {
            return Err(invalid(
                "handin.quota",
                "Vous avez atteint la place réservée à vos devoirs rendus : demandez à votre professeur.",
            ));
        }
        Ok(())
    }

    /// Hands in work. Replacing is allowed until the deadline; after it, a
    /// first hand-in is still accepted, marked late.
    pub async fn hand_in(
        &self,
        actor: &Actor,
        id: i64,
        text: &str,
        files: Vec<NewAttachment>,
        idempotency_key: &str,
        client: &ClientInfo,
    ) -> Result<Receipt, AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let a = self.assignment_for(actor, id).await?;
        if !pupil_cohorts(actor).contains(a.target) {
            return Err(AppError::Forbidden);
        }
        let key = idempotency_key.trim();
        if key.is_empty()
            || key.len() > 64
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid(
                "handin.key",
                "Formulaire incomplet : rechargez la page et recommencez.",
            ));
        }
        let text = text.trim();
        if !a.accepts_text && !text.is_empty() {
            return Err(invalid(
                "handin.no_text",
                "Ce devoir se rend sous forme de fichiers seulement.",
            ));
        }
        if !a.accepts_files && !files.is_empty() {
            return Err(invalid(
                "handin.no_files",
                "Ce devoir se rend sous forme de texte seulement.",
            ));
        }
        if text.is_empty() && files.is_empty() {
            return Err(invalid(
                "handin.empty",
                "Votre rendu est vide : ajoutez un fichier ou un texte.",
            ));
        }
        markdown::check_length(text, "le texte").map_err(|m| invalid("text.too_long", m))?;
        let adding: i64 = files.iter().map(|f| f.size).sum();
        if self.store.handin_usage(school, actor.user_id).await? + adding
            > self.config.handin_quota_bytes
        {
            return Err(invalid(
                "handin.quota",
                "Ces fichiers dépassent la place réservée à vos devoirs rendus : demandez à votre professeur.",
            ));
        }
        let now = self.now();
        let late = now > a.due_at;
        let (current, _) = self
            .store
            .current_submission(school, id, actor.user_id)
            .await?;
        let submission = NewSubmission {
            school_id: school,
            assignment_id: id,
            pupil_id: actor.user_id,
            text_md: text.to_string(),
            text_html: markdown::render(text),
            text_sha256: sha256_hex(text.as_bytes()),
            late,
            idempotency_key: key.to_string(),
            files,
            now,
            audit: Some(cartable_store::AuditEvent {
                school_id: Some(school),
                actor_id: Some(actor.user_id),
                action: "handin.recorded".into(),
                target: Some(format!("devoir {id}")),
                ip: client.ip.clone(),
                detail: None,
                at: now,
            }),
        };
        if late && current.is_some() {
            // A replay of the form that was accepted in time still gets its receipt.
            if let Some(first) = self
                .store
                .submission_by_key(school, id, actor.user_id, key)
                .await?
            {
                return Ok(Receipt {
                    submission: first,
                    replayed: true,
                });
            }
            return Err(invalid(
                "handin.closed",
                "La date limite est passée : le travail que vous avez déjà rendu reste celui enregistré.",
            ));
        }
        #[cfg(feature = "broken-handin-ack")]
        {
            return Ok(self.broken_ack(submission));
        }
        #[allow(unreachable_code)]
        match self.store.submit(&submission).await? {
            SubmitOutcome::Recorded(row) => Ok(Receipt {
                submission: row,
                replayed: false,
            }),
            SubmitOutcome::Replayed(first) => Ok(Receipt {
                submission: first,
                replayed: true,
            }),
        }
    }

    /// Every pupil of the class or group with their current work: the teacher's table.
    pub async fn assignment_work(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(AssignmentRow, Vec<PupilWork>), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let a = self.assignment_for(actor, id).await?;
        if !self.marks_for(actor, &a) {
            return Err(AppError::Forbidden);
        }
        let work = self.store.assignment_work(school, id).await?;
        Ok((a, work))
    }

    /// Returns work with feedback and an optional mark; the pupil and their parents see it.
    pub async fn return_feedback(
        &self,
        actor: &Actor,
        id: i64,
        pupil: UserId,
        feedback: &str,
        mark: &str,
        client: &ClientInfo,
    ) -> Result<(), AppError> {
        let school = actor.school_id.ok_or(AppError::NotFound)?;
        let a = self.assignment_for(actor, id).await?;
        if !self.marks_for(actor, &a) {
            return Err(AppError::Forbidden);
        }
        let feedback = feedback.trim();
        markdown::check_length(feedback, "le commentaire")
            .map_err(|m| invalid("text.too_long", m))?;
        let mark = mark.trim();
        if mark.chars().count() > 20 {
            return Err(invalid(
                "feedback.mark",
                "La note fait 20 caractères au plus (par exemple 15/20 ou A).",
            ));
        }
        if feedback.is_empty() && mark.is_empty() {
            return Err(invalid(
                "feedback.empty",
                "Écrivez un commentaire ou une note.",
            ));
        }
        let returned = NewFeedback {
            feedback_md: feedback.to_string(),
            feedback_html: markdown::render(feedback),
            mark: (!mark.is_empty()).then(|| mark.to_string()),
        };
        self.store
            .set_feedback(school, id, pupil, &returned, self.now())
            .await?;
        self.audit(
            Some(school),
            "handin.returned",
            Some(format!("devoir {id}, élève {pupil}")),
            client,
            Some(actor.user_id),
        )
        .await;
        Ok(())
    }

    pub(crate) async fn may_read_submission_file(
        &self,
        actor: &Actor,
        submission: i64,
    ) -> Result<bool, AppError> {
        let Some(school) = actor.school_id else {
            return Ok(false);
        };
        let Some(s) = self.store.submission(school, submission).await? else {
            return Ok(false);
        };
        if s.pupil_id == actor.user_id || actor.children.contains(&s.pupil_id) {
            return Ok(true);
        }
        match self.store.assignment(school, s.assignment_id).await? {
            Some(a) => Ok(self.marks_for(actor, &a)),
            None => Ok(false),
        }
    }

    pub(crate) async fn may_read_assignment(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<bool, AppError> {
        match self.assignment_for(actor, id).await {
            Ok(_) => Ok(true),
            Err(AppError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// DELIBERATELY BROKEN (feature `broken-handin-ack`, bench only): answers
/// with a receipt at once and commits the row a moment later, as a careless
/// implementation would. `bench/handin-durability` must catch it.
#[cfg(feature = "broken-handin-ack")]
impl App {
    fn broken_ack(&self, submission: NewSubmission) -> Receipt {
        let store = self.store.clone();
        let receipt = SubmissionRow {
            id: 0,
            assignment_id: submission.assignment_id,
            pupil_id: submission.pupil_id,
            text_html: submission.text_html.clone(),
            text_chars: submission.text_md.chars().count() as i64,
            text_sha256: submission.text_sha256.clone(),
            submitted_at: submission.now,
            late: submission.late,
            files: submission
                .files
                .iter()
                .map(|f| cartable_store::AttachmentRow {
                    id: 0,
                    owner_kind: "submission".into(),
                    owner_id: 0,
                    blob_key: f.blob_key.clone(),
                    file_name: f.file_name.clone(),
                    content_type: f.content_type.clone(),
                    size: f.size,
                    sha256: f.sha256.clone(),
                })
                .collect(),
        };
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let _ = store.submit(&submission).await;
        });
        Receipt {
            submission: receipt,
            replayed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times() {
        assert_eq!(parse_time(""), Some(23 * 3600 + 59 * 60));
        assert_eq!(parse_time("08:30"), Some(8 * 3600 + 30 * 60));
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("8h"), None);
    }
}
