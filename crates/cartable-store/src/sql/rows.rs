//! Decoding rows into the port's types. Columns are read by name so that the
//! same code serves SQLite and PostgreSQL.

use cartable_domain::{ClassId, Role, SchoolId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{ClassSummary, StoreError, StoreResult, User, UserSummary};

pub(super) fn role(row: &AnyRow, col: &str) -> StoreResult<Role> {
    let code: String = row.try_get(col)?;
    Role::from_code(&code)
        .ok_or_else(|| StoreError::Internal(format!("unknown role in database: {code}")))
}

pub(super) fn opt_school(row: &AnyRow, col: &str) -> StoreResult<Option<SchoolId>> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(SchoolId))
}

pub(super) fn flag(row: &AnyRow, col: &str) -> StoreResult<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

/// Columns: id, school_id, role, login, last_name, first_name, birth_date, email,
/// subject, external_id, disabled, activated.
pub(super) const USER_COLUMNS: &str =
    "u.id, u.school_id, u.role, u.login, u.last_name, u.first_name, u.birth_date, \
     u.email, u.subject, u.external_id, u.disabled, \
     CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS activated";

pub(super) fn user(row: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        school_id: opt_school(row, "school_id")?,
        role: role(row, "role")?,
        login: row.try_get("login")?,
        last_name: row.try_get("last_name")?,
        first_name: row.try_get("first_name")?,
        birth_date: row.try_get("birth_date")?,
        email: row.try_get("email")?,
        subject: row.try_get("subject")?,
        external_id: row.try_get("external_id")?,
        disabled: flag(row, "disabled")?,
        activated: flag(row, "activated")?,
    })
}

/// Columns: id, role, login, last_name, first_name, disabled, activated, detail.
pub(super) const SUMMARY_COLUMNS: &str =
    "u.id, u.role, u.login, u.last_name, u.first_name, u.disabled, \
     CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS activated";

pub(super) fn summary(row: &AnyRow) -> StoreResult<UserSummary> {
    Ok(UserSummary {
        id: UserId(row.try_get("id")?),
        role: role(row, "role")?,
        login: row.try_get("login")?,
        last_name: row.try_get("last_name")?,
        first_name: row.try_get("first_name")?,
        disabled: flag(row, "disabled")?,
        activated: flag(row, "activated")?,
        detail: row.try_get("detail")?,
    })
}

pub(super) fn class_summary(row: &AnyRow) -> StoreResult<ClassSummary> {
    Ok(ClassSummary {
        id: ClassId(row.try_get("id")?),
        name: row.try_get("name")?,
        pupils: row.try_get("pupils")?,
    })
}
