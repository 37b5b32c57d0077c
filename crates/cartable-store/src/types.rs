//! Rows as the layers above see them.

use cartable_domain::{ClassId, GroupId, Role, SchoolId, Target, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct School {
    pub id: SchoolId,
    pub name: String,
    pub uai: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolSummary {
    pub school: School,
    pub people: i64,
    pub classes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub school_id: Option<SchoolId>,
    pub role: Role,
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user_id: UserId,
    pub school_id: Option<SchoolId>,
    pub role: Role,
    pub login: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub school_id: Option<SchoolId>,
    pub role: Role,
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: Option<String>,
    pub email: Option<String>,
    pub subject: Option<String>,
    pub external_id: Option<String>,
    pub disabled: bool,
    /// False until the person has chosen a password.
    pub activated: bool,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub id: UserId,
    pub role: Role,
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    pub disabled: bool,
    pub activated: bool,
    /// Pupil: class name; teacher: subject; otherwise empty.
    pub detail: Option<String>,
}

impl UserSummary {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassSummary {
    pub id: ClassId,
    pub name: String,
    pub pupils: i64,
}

/// A group of pupils across classes, with its number of members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub id: GroupId,
    pub name: String,
    pub pupils: i64,
}

/// The classes and groups whose homework and assignments someone sees: a
/// pupil's class and groups, or what weighs on a class's pupils.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cohorts {
    pub classes: Vec<ClassId>,
    pub groups: Vec<GroupId>,
}

impl Cohorts {
    /// Just this class or group.
    pub fn of(target: Target) -> Self {
        match target {
            Target::Class(c) => Cohorts {
                classes: vec![c],
                groups: Vec::new(),
            },
            Target::Group(g) => Cohorts {
                classes: Vec::new(),
                groups: vec![g],
            },
        }
    }

    /// Each class, then each group, as a target.
    pub fn targets(&self) -> impl Iterator<Item = Target> + '_ {
        let classes = self.classes.iter().map(|c| Target::Class(*c));
        classes.chain(self.groups.iter().map(|g| Target::Group(*g)))
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.groups.is_empty()
    }

    pub fn contains(&self, target: Target) -> bool {
        match target {
            Target::Class(c) => self.classes.contains(&c),
            Target::Group(g) => self.groups.contains(&g),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherOfClass {
    pub teacher: UserSummary,
    pub subject: Option<String>,
    pub head: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSummary {
    pub child: UserSummary,
    pub class: Option<ClassSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: UserId,
    pub school_id: Option<SchoolId>,
    pub persistent: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A session used again: its new last use and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTouch {
    pub token_hash: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationCodeRow {
    pub user_id: UserId,
    pub school_id: Option<SchoolId>,
    pub code_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub issued_by: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub school_id: Option<SchoolId>,
    pub actor_id: Option<UserId>,
    /// Stable code: "login.ok", "login.failed", "account.disabled", ...
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDraft {
    pub id: i64,
    pub school_id: SchoolId,
    pub created_by: UserId,
    pub created_at: i64,
    /// Roster kind code chosen by the admin, or None for detection.
    pub kind: Option<String>,
    pub file_name: String,
    pub content: Vec<u8>,
}

/// A file attached to a message, a news item or a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: i64,
    pub owner_kind: String,
    pub owner_id: i64,
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// A conversation to start: its first message goes to every member at once.
#[derive(Debug, Clone)]
pub struct NewThread {
    pub school_id: SchoolId,
    pub subject: String,
    pub author_id: UserId,
    /// Every member, the author included.
    pub members: Vec<UserId>,
    pub private_replies: bool,
    pub reply_to_thread_id: Option<i64>,
    pub body_md: String,
    pub body_html: String,
    pub attachments: Vec<NewAttachment>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadSummary {
    pub id: i64,
    pub subject: String,
    pub last_message_at: i64,
    pub unread: bool,
    pub members: i64,
    pub author_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    pub id: i64,
    pub author_id: UserId,
    pub author_name: String,
    pub body_html: String,
    pub created_at: i64,
    pub attachments: Vec<AttachmentRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadView {
    pub id: i64,
    pub subject: String,
    pub author_id: UserId,
    pub private_replies: bool,
    pub reply_to_thread_id: Option<i64>,
    pub members: Vec<UserSummary>,
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderActivity {
    pub sender: UserSummary,
    pub messages: i64,
    pub recipients: i64,
}

#[derive(Debug, Clone)]
pub struct NewNews {
    pub school_id: SchoolId,
    pub author_id: UserId,
    pub title: String,
    pub body_md: String,
    pub body_html: String,
    /// `NewsAudience::code()`.
    pub audience: String,
    pub classes: Vec<ClassId>,
    pub publish_from: i64,
    pub publish_until: Option<i64>,
    pub attachments: Vec<NewAttachment>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewsRow {
    pub id: i64,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub body_html: String,
    pub audience: String,
    pub classes: Vec<ClassId>,
    pub publish_from: i64,
    pub publish_until: Option<i64>,
    pub attachments: Vec<AttachmentRow>,
}

#[derive(Debug, Clone)]
pub struct NewNote {
    pub school_id: SchoolId,
    pub author_id: UserId,
    pub title: String,
    pub body_md: String,
    pub body_html: String,
    pub pupils: Vec<UserId>,
    pub attachments: Vec<NewAttachment>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    pub id: i64,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub body_html: String,
    pub created_at: i64,
    pub reminded_at: Option<i64>,
    pub attachments: Vec<AttachmentRow>,
}

/// A note as a sender or the office sees it in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSummary {
    pub note: NoteRow,
    pub pupils: i64,
    pub parents: i64,
    pub acked: i64,
}

/// A note as a parent sees it: which of their children it concerns, and
/// whether they signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteForFamily {
    pub note: NoteRow,
    pub children: Vec<String>,
    pub acked_at: Option<i64>,
}

/// One pupil's family and who signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteFamilyStatus {
    pub pupil: UserSummary,
    pub parents: Vec<(UserSummary, Option<i64>)>,
}

/// A lesson of the cahier de textes, as a teacher writes it.
#[derive(Debug, Clone)]
pub struct NewLesson {
    pub school_id: SchoolId,
    pub target: Target,
    pub author_id: UserId,
    pub fields: LessonFields,
    pub attachments: Vec<NewAttachment>,
    pub now: i64,
}

/// What a teacher fills in (and can edit later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonFields {
    pub subject: String,
    /// ISO date of the lesson.
    pub lesson_date: String,
    pub content_md: String,
    pub content_html: String,
    pub homework_md: String,
    pub homework_html: String,
    /// ISO date the homework is due, if any.
    pub due_date: Option<String>,
    pub workload_minutes: Option<i64>,
    pub is_test: bool,
    /// Unix seconds from which pupils and parents see it.
    pub publish_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonRow {
    pub id: i64,
    /// The class or group it is for, and that class's or group's name.
    pub target: Target,
    pub target_name: String,
    pub author_id: UserId,
    pub author_name: String,
    pub fields: LessonFields,
    pub attachments: Vec<AttachmentRow>,
}

/// Homework due, for one pupil (with whether they marked it done) or for a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueHomework {
    pub lesson: LessonRow,
    pub done: bool,
}

/// What only this pupil's home page needs, read in one round trip: how many
/// message threads they have not read, and which recent lessons they ticked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PupilGlance {
    pub unread_threads: i64,
    /// Ids of lessons (from `since_lesson` on) the pupil marked done.
    pub done: Vec<i64>,
}

/// A piece of work to hand in, as a teacher sets it.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub school_id: SchoolId,
    pub target: Target,
    pub author_id: UserId,
    pub subject: String,
    pub title: String,
    pub instructions_md: String,
    pub instructions_html: String,
    pub due_at: i64,
    pub accepts_files: bool,
    pub accepts_text: bool,
    pub attachments: Vec<NewAttachment>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRow {
    pub id: i64,
    /// The class or group it is for, and that class's or group's name.
    pub target: Target,
    pub target_name: String,
    pub author_id: UserId,
    pub author_name: String,
    pub subject: String,
    pub title: String,
    pub instructions_html: String,
    pub due_at: i64,
    pub accepts_files: bool,
    pub accepts_text: bool,
    pub attachments: Vec<AttachmentRow>,
}

/// A hand-in to record.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub school_id: SchoolId,
    pub assignment_id: i64,
    pub pupil_id: UserId,
    pub text_md: String,
    pub text_html: String,
    pub text_sha256: String,
    pub late: bool,
    pub idempotency_key: String,
    pub files: Vec<NewAttachment>,
    pub now: i64,
    /// Written in the same transaction: a crash cannot leave a stored hand-in
    /// without its audit line (and it saves a commit).
    pub audit: Option<AuditEvent>,
}

/// A recorded hand-in: what the pupil's receipt shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    pub id: i64,
    pub assignment_id: i64,
    pub pupil_id: UserId,
    pub text_html: String,
    pub text_chars: i64,
    pub text_sha256: String,
    pub submitted_at: i64,
    pub late: bool,
    pub files: Vec<AttachmentRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRow {
    pub feedback_html: String,
    pub feedback_md: String,
    pub mark: Option<String>,
    pub returned_at: i64,
}

/// One pupil of the class, for the teacher's table: their current hand-in and feedback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PupilWork {
    pub pupil: UserSummary,
    pub submission: Option<SubmissionRow>,
    pub versions: i64,
    pub feedback: Option<FeedbackRow>,
}

/// How recording a hand-in went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    Recorded(SubmissionRow),
    /// The same form was sent again: the first receipt, nothing new written.
    Replayed(SubmissionRow),
}

/// A teacher's return on a hand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback {
    pub feedback_md: String,
    pub feedback_html: String,
    pub mark: Option<String>,
}

/// A folder of a class's space or of a person's own space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRow {
    pub id: i64,
    pub class_id: Option<ClassId>,
    pub owner_id: Option<UserId>,
    pub parent_id: Option<i64>,
    pub name: String,
}
