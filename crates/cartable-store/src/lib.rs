//! The storage port of Cartable: one trait per aggregate, the row types they
//! return, and [`StoreError`]. [`sql::SqlStore`] implements every trait for both
//! SQLite and PostgreSQL; the conformance suite in `tests/` runs against both.
//!
//! Every method that reads or writes tenant data takes the `SchoolId` it is
//! scoped to: a query for another school's row finds nothing.

mod error;
pub mod sql;
pub mod testing;
mod types;

use async_trait::async_trait;
use cartable_domain::policy::{Actor, PersonFacts};
use cartable_domain::roster::{RosterApplied, RosterOp, RosterSnapshot};
use cartable_domain::{ClassId, Role, SchoolId, UserId};

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
    async fn record_login_success(&self, user: UserId) -> StoreResult<()>;
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
}

#[async_trait]
pub trait SessionRepo {
    async fn insert_session(&self, session: &SessionRow) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRow>>;
    async fn touch_session(&self, token_hash: &str, now: i64, expires_at: i64) -> StoreResult<()>;
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
    + SessionRepo
    + ActivationRepo
    + AuditRepo
    + RosterRepo
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: SchoolRepo
        + UserRepo
        + ClassRepo
        + SessionRepo
        + ActivationRepo
        + AuditRepo
        + RosterRepo
        + Send
        + Sync
{
}
