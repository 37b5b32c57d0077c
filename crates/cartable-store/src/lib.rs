//! The storage port of Cartable: one trait per aggregate, the row types they
//! return, and [`StoreError`]. [`sql::SqlStore`] implements every trait for both
//! SQLite and PostgreSQL; the conformance suite in `tests/` runs against both.
//!
//! Every method that reads or writes tenant data takes the `SchoolId` it is
//! scoped to: a query for another school's row finds nothing.

mod bulk;
mod error;
pub mod sql;
pub mod testing;
mod types;

use async_trait::async_trait;
use cartable_domain::messaging::MessagingRules;
use cartable_domain::policy::{Actor, PersonFacts};
use cartable_domain::roster::{RosterApplied, RosterOp, RosterSnapshot};
use cartable_domain::{ClassId, GroupId, Role, SchoolId, Target, UserId};

pub use bulk::{BulkCreated, BulkPerson, BulkRepo, BulkSchool};
pub use error::StoreError;
pub use types::*;

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait SchoolRepo {
    async fn create_school(&self, name: &str, uai: &str, now: i64) -> StoreResult<SchoolId>;
    async fn school(&self, id: SchoolId) -> StoreResult<Option<School>>;
    async fn school_by_uai(&self, uai: &str) -> StoreResult<Option<School>>;
    async fn schools_with_counts(&self) -> StoreResult<Vec<SchoolSummary>>;
}

#[async_trait]
pub trait UserRepo {
    /// Creates an account; the login must be free (else `Conflict`).
    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<UserId>;
    /// Everything needed to check a password or a code, by login. Not scoped:
    /// logins are unique across the platform.
    async fn credentials(&self, login: &str) -> StoreResult<Option<Credentials>>;
    async fn record_login_failure(
        &self,
        user: UserId,
        failed_logins: i64,
        locked_until: i64,
    ) -> StoreResult<()>;
    /// Sets a new password hash, removes any activation code, clears the soft lock.
    async fn set_password(
        &self,
        user: UserId,
        password_hash: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
    async fn set_disabled(
        &self,
        school: SchoolId,
        user: UserId,
        disabled: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// A person of `school` (or, with `None`, a person with no school: an operator).
    async fn user(&self, school: Option<SchoolId>, id: UserId) -> StoreResult<Option<User>>;
    async fn people(&self, school: SchoolId, role: Option<Role>) -> StoreResult<Vec<UserSummary>>;
    /// The acting user with the relations the policy needs. `None` if unknown or disabled.
    async fn actor(&self, id: UserId) -> StoreResult<Option<Actor>>;
    async fn person_facts(&self, school: SchoolId, id: UserId) -> StoreResult<Option<PersonFacts>>;
    /// Every person of a school with their policy facts, in four queries
    /// whatever the school's size (for the "who can I write to" list).
    async fn school_people_facts(
        &self,
        school: SchoolId,
    ) -> StoreResult<Vec<(UserSummary, PersonFacts)>>;
}

#[async_trait]
pub trait ClassRepo {
    async fn classes(&self, school: SchoolId) -> StoreResult<Vec<ClassSummary>>;
    async fn class(&self, school: SchoolId, id: ClassId) -> StoreResult<Option<ClassSummary>>;
    async fn class_pupils(&self, school: SchoolId, id: ClassId) -> StoreResult<Vec<UserSummary>>;
    async fn class_teachers(
        &self,
        school: SchoolId,
        id: ClassId,
    ) -> StoreResult<Vec<TeacherOfClass>>;
    /// Pupil: their class. Teacher: the classes they teach. Parent: their children's.
    async fn classes_of(&self, school: SchoolId, user: UserId) -> StoreResult<Vec<ClassSummary>>;
    async fn children_of(&self, school: SchoolId, parent: UserId)
        -> StoreResult<Vec<ChildSummary>>;
    async fn parents_of(&self, school: SchoolId, child: UserId) -> StoreResult<Vec<UserSummary>>;
    /// The parents of a class's pupils, each once.
    async fn class_parents(
        &self,
        school: SchoolId,
        class: ClassId,
    ) -> StoreResult<Vec<UserSummary>>;
}

/// Groups of pupils across classes (Latin, a language group, a half-class).
#[async_trait]
pub trait GroupRepo {
    async fn groups(&self, school: SchoolId) -> StoreResult<Vec<GroupSummary>>;
    async fn group(&self, school: SchoolId, id: GroupId) -> StoreResult<Option<GroupSummary>>;
    /// Pupil: the groups they belong to. Teacher: the groups they teach.
    /// Parent: their children's.
    async fn groups_of(&self, school: SchoolId, user: UserId) -> StoreResult<Vec<GroupSummary>>;
    /// A pupil's class and groups: whose homework and assignments are theirs.
    async fn pupil_cohorts(&self, school: SchoolId, pupil: UserId) -> StoreResult<Cohorts>;
    /// What weighs on the pupils of a class or group: the target itself, the
    /// classes they are in and every group any of them belongs to.
    async fn cohorts_sharing_pupils(
        &self,
        school: SchoolId,
        target: Target,
    ) -> StoreResult<Cohorts>;
}

#[async_trait]
pub trait SessionRepo {
    async fn insert_session(&self, session: &SessionRow) -> StoreResult<()>;
    /// A successful password login in one write (one commit): the account's
    /// failure count reset (when `reset_failures`: most logins have nothing
    /// to reset, and the statement is skipped), the new session and the audit
    /// event.
    async fn record_login(
        &self,
        session: &SessionRow,
        event: &AuditEvent,
        reset_failures: bool,
    ) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>>;
    /// Slides sessions, in one transaction (one commit, one fsync on SQLite,
    /// however many). A touch older than the row's last use changes nothing
    /// (two nodes, or two flushes, may write in any order), and a session
    /// deleted meanwhile stays deleted.
    async fn touch_sessions(&self, touches: &[SessionTouch]) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Ends all of a user's sessions but `keep`; returns how many ended.
    async fn delete_user_sessions(&self, user: UserId, keep: Option<&str>) -> StoreResult<u64>;
}

#[async_trait]
pub trait ActivationRepo {
    /// Stores (or replaces) a person's activation code hash.
    async fn put_activation_code(&self, code: &ActivationCodeRow) -> StoreResult<()>;
    async fn activation_code(&self, user: UserId) -> StoreResult<Option<ActivationCodeRow>>;
}

#[async_trait]
pub trait AuditRepo {
    async fn audit(&self, event: &AuditEvent) -> StoreResult<()>;
    async fn audit_log(&self, school: SchoolId, limit: i64) -> StoreResult<Vec<AuditEvent>>;
    /// Events of the platform itself (no school: operators, maintenance such
    /// as the file sweep), newest first.
    async fn platform_audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEvent>>;
}

#[async_trait]
pub trait RosterRepo {
    async fn roster_snapshot(&self, school: SchoolId) -> StoreResult<RosterSnapshot>;
    /// Applies an import's changes in one transaction: all or nothing.
    async fn apply_roster(
        &self,
        school: SchoolId,
        ops: &[RosterOp],
        now: i64,
    ) -> StoreResult<RosterApplied>;
    async fn save_import_draft(&self, draft: &ImportDraft) -> StoreResult<i64>;
    async fn import_draft(&self, school: SchoolId, id: i64) -> StoreResult<Option<ImportDraft>>;
    async fn delete_import_draft(&self, school: SchoolId, id: i64) -> StoreResult<()>;
}

/// Everything Cartable stores, behind one object the app layer holds.
pub trait Store:
    SchoolRepo
    + UserRepo
    + ClassRepo
    + GroupRepo
    + SessionRepo
    + ActivationRepo
    + AuditRepo
    + RosterRepo
    + MessagingRepo
    + NewsRepo
    + NoteRepo
    + LessonRepo
    + AssignmentRepo
    + CalendarRepo
    + DocumentRepo
    + BlobRefRepo
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: SchoolRepo
        + UserRepo
        + ClassRepo
        + GroupRepo
        + SessionRepo
        + ActivationRepo
        + AuditRepo
        + RosterRepo
        + MessagingRepo
        + NewsRepo
        + NoteRepo
        + LessonRepo
        + AssignmentRepo
        + CalendarRepo
        + DocumentRepo
        + BlobRefRepo
        + Send
        + Sync
{
}

#[async_trait]
pub trait MessagingRepo {
    async fn messaging_rules(&self, school: SchoolId) -> StoreResult<MessagingRules>;
    async fn set_messaging_rules(
        &self,
        school: SchoolId,
        rules: &MessagingRules,
        now: i64,
    ) -> StoreResult<()>;
    /// Creates the thread, its first message and every membership in one
    /// transaction; returns (thread id, message id).
    async fn create_thread(&self, thread: &NewThread) -> StoreResult<(i64, i64)>;
    /// Appends a message to a thread the author is a member of.
    #[allow(clippy::too_many_arguments)]
    async fn add_message(
        &self,
        school: SchoolId,
        thread: i64,
        author: UserId,
        body_md: &str,
        body_html: &str,
        attachments: &[NewAttachment],
        now: i64,
    ) -> StoreResult<i64>;
    /// The private-reply thread `user` started on a broadcast, if any.
    async fn private_reply_thread(
        &self,
        school: SchoolId,
        broadcast: i64,
        user: UserId,
    ) -> StoreResult<Option<i64>>;
    /// The user's threads, newest first; `search` filters subjects and bodies.
    async fn threads_of(
        &self,
        school: SchoolId,
        user: UserId,
        search: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<ThreadSummary>>;
    /// A thread with its messages, only if `user` is a member.
    async fn thread_for_member(
        &self,
        school: SchoolId,
        thread: i64,
        user: UserId,
    ) -> StoreResult<Option<ThreadView>>;
    async fn mark_read(&self, thread: i64, user: UserId, message: i64) -> StoreResult<()>;
    async fn unread_threads(&self, school: SchoolId, user: UserId) -> StoreResult<i64>;
    async fn messages_sent_since(&self, author: UserId, since: i64) -> StoreResult<i64>;
    async fn top_senders(
        &self,
        school: SchoolId,
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<SenderActivity>>;
    async fn attachment(&self, school: SchoolId, id: i64) -> StoreResult<Option<AttachmentRow>>;
    async fn is_thread_member(&self, thread: i64, user: UserId) -> StoreResult<bool>;
    /// The thread a message belongs to.
    async fn message_thread(&self, school: SchoolId, message: i64) -> StoreResult<Option<i64>>;
}

#[async_trait]
pub trait NewsRepo {
    async fn create_news(&self, news: &NewNews) -> StoreResult<i64>;
    /// The school's news, newest first; only those published at `now` unless `all`.
    async fn school_news(
        &self,
        school: SchoolId,
        now: i64,
        all: bool,
        limit: i64,
    ) -> StoreResult<Vec<NewsRow>>;
    async fn news_item(&self, school: SchoolId, id: i64) -> StoreResult<Option<NewsRow>>;
    async fn delete_news(&self, school: SchoolId, id: i64) -> StoreResult<bool>;
}

#[async_trait]
pub trait NoteRepo {
    async fn create_note(&self, note: &NewNote) -> StoreResult<i64>;
    async fn note(&self, school: SchoolId, id: i64) -> StoreResult<Option<NoteRow>>;
    /// Notes sent by `author` (or all the school's with `None`), newest first, with counts.
    async fn notes_sent(
        &self,
        school: SchoolId,
        author: Option<UserId>,
        limit: i64,
    ) -> StoreResult<Vec<NoteSummary>>;
    /// Notes about a parent's children, newest first.
    async fn notes_for_parent(
        &self,
        school: SchoolId,
        parent: UserId,
        limit: i64,
    ) -> StoreResult<Vec<NoteForFamily>>;
    /// Notes about a pupil (read-only for them).
    async fn notes_for_pupil(
        &self,
        school: SchoolId,
        pupil: UserId,
        limit: i64,
    ) -> StoreResult<Vec<NoteRow>>;
    async fn note_status(&self, school: SchoolId, note: i64) -> StoreResult<Vec<NoteFamilyStatus>>;
    /// True if `parent` is a parent of a pupil the note concerns.
    async fn note_concerns_parent(&self, note: i64, parent: UserId) -> StoreResult<bool>;
    async fn note_concerns_pupil(&self, note: i64, pupil: UserId) -> StoreResult<bool>;
    /// Records a signature; false if the parent had already signed.
    async fn ack_note(
        &self,
        school: SchoolId,
        note: i64,
        parent: UserId,
        now: i64,
    ) -> StoreResult<bool>;
    async fn remind_note(&self, school: SchoolId, note: i64, now: i64) -> StoreResult<()>;
}

#[async_trait]
pub trait LessonRepo {
    async fn create_lesson(&self, lesson: &NewLesson) -> StoreResult<i64>;
    /// Replaces a lesson's fields; only its author may (false otherwise).
    async fn update_lesson(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
        fields: &LessonFields,
        now: i64,
    ) -> StoreResult<bool>;
    /// Deletes a lesson of its author, with its done marks and attachment rows;
    /// returns the blob keys of its attachments (for the caller to delete), or None.
    async fn delete_lesson(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
    ) -> StoreResult<Option<Vec<String>>>;
    /// Adds files to a lesson of its author (false if not theirs).
    async fn add_lesson_attachments(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
        files: &[NewAttachment],
        now: i64,
    ) -> StoreResult<bool>;
    /// Removes one file of a lesson of its author; returns its row (the
    /// caller deletes the blob), or None if there is no such file of theirs.
    async fn remove_lesson_attachment(
        &self,
        school: SchoolId,
        id: i64,
        author: UserId,
        attachment: i64,
    ) -> StoreResult<Option<AttachmentRow>>;
    async fn lesson(&self, school: SchoolId, id: i64) -> StoreResult<Option<LessonRow>>;
    /// Lessons of a class or group held between two ISO dates (inclusive);
    /// unpublished ones only if `include_unpublished`.
    async fn target_lessons(
        &self,
        school: SchoolId,
        target: Target,
        from: &str,
        to: &str,
        now: i64,
        include_unpublished: bool,
    ) -> StoreResult<Vec<LessonRow>>;
    /// Published homework of these classes and groups due between two ISO
    /// dates (inclusive), with `pupil`'s done marks when given.
    async fn homework_due(
        &self,
        school: SchoolId,
        cohorts: &Cohorts,
        from: &str,
        to: &str,
        now: i64,
        pupil: Option<UserId>,
    ) -> StoreResult<Vec<DueHomework>>;
    async fn set_homework_done(
        &self,
        school: SchoolId,
        lesson: i64,
        pupil: UserId,
        done: bool,
        now: i64,
    ) -> StoreResult<()>;
    /// The pupil's done marks on lessons with an id of at least
    /// `since_lesson` (ids grow, so this covers the homework in view), and
    /// their unread thread count: the per-pupil part of a home page in one
    /// query, the rest being the same for the whole class.
    async fn pupil_glance(
        &self,
        school: SchoolId,
        pupil: UserId,
        since_lesson: i64,
    ) -> StoreResult<PupilGlance>;
}

#[async_trait]
pub trait AssignmentRepo {
    async fn create_assignment(&self, a: &NewAssignment) -> StoreResult<i64>;
    async fn assignment(&self, school: SchoolId, id: i64) -> StoreResult<Option<AssignmentRow>>;
    /// Assignments of these classes and groups, soonest due first, due after `since`.
    async fn cohort_assignments(
        &self,
        school: SchoolId,
        cohorts: &Cohorts,
        since: i64,
    ) -> StoreResult<Vec<AssignmentRow>>;
    /// Records a hand-in in one transaction (row and file rows), or returns
    /// the earlier receipt of the same idempotency key.
    async fn submit(&self, s: &NewSubmission) -> StoreResult<SubmitOutcome>;
    /// A pupil's current (latest) hand-in and how many versions they made.
    async fn current_submission(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
    ) -> StoreResult<(Option<SubmissionRow>, i64)>;
    async fn submission(&self, school: SchoolId, id: i64) -> StoreResult<Option<SubmissionRow>>;
    /// Bytes a pupil stored in hand-ins, every version counted.
    async fn handin_usage(&self, school: SchoolId, pupil: UserId) -> StoreResult<i64>;
    /// The hand-in a form with this idempotency key recorded, if any.
    async fn submission_by_key(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
        key: &str,
    ) -> StoreResult<Option<SubmissionRow>>;
    /// Every pupil of the assignment's class or group with their current work.
    async fn assignment_work(
        &self,
        school: SchoolId,
        assignment: i64,
    ) -> StoreResult<Vec<PupilWork>>;
    async fn feedback(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
    ) -> StoreResult<Option<FeedbackRow>>;
    async fn set_feedback(
        &self,
        school: SchoolId,
        assignment: i64,
        pupil: UserId,
        feedback: &NewFeedback,
        now: i64,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait CalendarRepo {
    /// Sets (or replaces: the old URL stops working) a user's feed token hash.
    async fn set_calendar_token(
        &self,
        school: SchoolId,
        user: UserId,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Whose feed a token hash opens.
    async fn calendar_owner(&self, token_hash: &str) -> StoreResult<Option<UserId>>;
    async fn has_calendar(&self, user: UserId) -> StoreResult<bool>;
    async fn delete_calendar_token(&self, user: UserId) -> StoreResult<()>;
}

#[async_trait]
pub trait DocumentRepo {
    /// The top folder of a class's documents, made on first use.
    async fn class_root_folder(
        &self,
        school: SchoolId,
        class: ClassId,
        by: UserId,
        now: i64,
    ) -> StoreResult<FolderRow>;
    /// The top folder of a person's own space, made on first use.
    async fn personal_root_folder(
        &self,
        school: SchoolId,
        owner: UserId,
        now: i64,
    ) -> StoreResult<FolderRow>;
    async fn folder(&self, school: SchoolId, id: i64) -> StoreResult<Option<FolderRow>>;
    async fn subfolders(&self, school: SchoolId, id: i64) -> StoreResult<Vec<FolderRow>>;
    /// A folder inside `parent`, in the same space.
    async fn create_folder(
        &self,
        school: SchoolId,
        parent: i64,
        name: &str,
        by: UserId,
        now: i64,
    ) -> StoreResult<i64>;
    async fn add_folder_files(
        &self,
        school: SchoolId,
        folder: i64,
        files: &[NewAttachment],
        now: i64,
    ) -> StoreResult<()>;
    async fn folder_files(&self, school: SchoolId, folder: i64) -> StoreResult<Vec<AttachmentRow>>;
    /// Removes a file's row; returns its blob key for the caller to delete.
    async fn delete_folder_file(
        &self,
        school: SchoolId,
        folder: i64,
        attachment: i64,
    ) -> StoreResult<Option<String>>;
    /// Bytes used in a person's own space.
    async fn personal_usage(&self, school: SchoolId, owner: UserId) -> StoreResult<i64>;
}

/// Which stored files rows still point to, for the sweep of files left by a
/// crash between writing a file and committing its row. Not scoped to a
/// school: a file is kept if any row of any school names it.
#[async_trait]
pub trait BlobRefRepo {
    /// The keys among `keys` that some row references (every table that
    /// stores a blob key). Any number of keys: asked in small batches.
    async fn referenced_blob_keys(
        &self,
        keys: &[String],
    ) -> StoreResult<std::collections::HashSet<String>>;
}
