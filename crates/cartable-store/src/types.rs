//! Rows as the layers above see them.

use cartable_domain::{ClassId, Role, SchoolId, UserId};

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
