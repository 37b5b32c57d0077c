//! Creating a whole school's people at once, for synthetic districts
//! (`cartable seed`) where a hundred thousand accounts must be written in
//! minutes: the roster import writes one row per statement and looks each
//! login up, which is right for a real file of a few hundred lines and far
//! too slow for a département.
//!
//! The rows are the ones a roster import followed by a password change
//! writes (same tables, same columns, same keys), so that the application
//! cannot tell a seeded account from an imported one.

use async_trait::async_trait;
use cartable_domain::names::{ClassName, Login, PersonName};
use cartable_domain::{ClassId, GroupId, Role, SchoolId, UserId};

use crate::{SessionRow, StoreResult};

/// One person of a [`BulkSchool`]. Relations point at other entries of the
/// same batch by index.
#[derive(Debug, Clone)]
pub struct BulkPerson {
    pub role: Role,
    /// Must be free across the platform (see [`BulkRepo::existing_logins`]).
    pub login: Login,
    pub last_name: PersonName,
    pub first_name: PersonName,
    /// ISO `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// A teacher's subject.
    pub subject: Option<String>,
    /// A pupil's class: index into [`BulkSchool::classes`].
    pub class: Option<usize>,
    /// A pupil's groups: indices into [`BulkSchool::groups`].
    pub groups: Vec<usize>,
    /// A parent's children: indices into [`BulkSchool::people`].
    pub children: Vec<usize>,
    /// A teacher's classes (index into [`BulkSchool::classes`]) and whether
    /// they are its head teacher (professeur principal).
    pub teaches: Vec<(usize, bool)>,
}

/// Everything of one school that [`BulkRepo::bulk_create_people`] writes.
#[derive(Debug, Clone, Default)]
pub struct BulkSchool {
    pub classes: Vec<ClassName>,
    pub groups: Vec<ClassName>,
    pub people: Vec<BulkPerson>,
    /// The PHC string every account gets (active at once, no activation
    /// code); `None` leaves the accounts waiting for activation.
    pub password_hash: Option<String>,
}

/// The ids given to a [`BulkSchool`]'s entries, in the same order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkCreated {
    pub classes: Vec<ClassId>,
    pub groups: Vec<GroupId>,
    pub people: Vec<UserId>,
}

#[async_trait]
pub trait BulkRepo {
    /// Every login in use, for choosing free ones in memory.
    async fn existing_logins(&self) -> StoreResult<Vec<String>>;
    /// Writes a school's classes, groups, people and their relations in one
    /// transaction: all of it or none of it. A login already taken (or a
    /// class name already used in the school) is a `Conflict` and nothing is
    /// written; an index out of range is an `Internal` error.
    async fn bulk_create_people(
        &self,
        school: SchoolId,
        batch: &BulkSchool,
        now: i64,
    ) -> StoreResult<BulkCreated>;
    /// Stores many sessions in one transaction (the rows `insert_session` writes).
    async fn insert_sessions(&self, sessions: &[SessionRow]) -> StoreResult<()>;
}
