use std::collections::BTreeSet;

use async_trait::async_trait;
use cartable_domain::policy::{Actor, PersonFacts};
use cartable_domain::{ClassId, GroupId, Role, SchoolId, UserId};
use sqlx::Row;

use super::rows::{self, SUMMARY_COLUMNS, USER_COLUMNS};
use super::{bool_int, SqlStore};
use crate::{Credentials, NewUser, StoreResult, User, UserRepo, UserSummary};

/// The classes a person is connected to, as the policy means it: enrolled in
/// (pupil), taught (teacher), their children's (parent). One query per role.
const CLASSES_OF_SQL: &str = "SELECT class_id FROM enrolments WHERE pupil_id = $1 \
     UNION SELECT class_id FROM teachings WHERE teacher_id = $1 \
     UNION SELECT e.class_id FROM parent_links l JOIN enrolments e ON e.pupil_id = l.child_id WHERE l.parent_id = $1";

/// Pupil: groups belonged to; teacher: groups taught; parent: the children's groups.
const GROUPS_OF_SQL: &str = "SELECT group_id FROM group_members WHERE pupil_id = $1 \
     UNION SELECT group_id FROM teacher_groups WHERE teacher_id = $1 \
     UNION SELECT m.group_id FROM parent_links l JOIN group_members m ON m.pupil_id = l.child_id WHERE l.parent_id = $1";

impl SqlStore {
    async fn connected_groups(&self, user: UserId) -> StoreResult<BTreeSet<GroupId>> {
        let rows = sqlx::query(GROUPS_OF_SQL)
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(GroupId(r.try_get("group_id")?)))
            .collect()
    }

    async fn connected_classes(&self, user: UserId) -> StoreResult<BTreeSet<ClassId>> {
        let rows = sqlx::query(CLASSES_OF_SQL)
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(ClassId(r.try_get("class_id")?)))
            .collect()
    }
}

#[async_trait]
impl UserRepo for SqlStore {
    async fn create_user(&self, u: &NewUser, now: i64) -> StoreResult<UserId> {
        let row = sqlx::query(
            "INSERT INTO users (school_id, role, login, last_name, first_name, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(u.school_id.map(|s| s.0))
        .bind(u.role.code())
        .bind(&u.login)
        .bind(&u.last_name)
        .bind(&u.first_name)
        .bind(u.password_hash.as_deref())
        .bind(now)
        .fetch_one(&self.writer)
        .await?;
        Ok(UserId(row.try_get("id")?))
    }

    async fn credentials(&self, login: &str) -> StoreResult<Option<Credentials>> {
        let row = sqlx::query(
            "SELECT id, school_id, role, login, password_hash, disabled, failed_logins, locked_until \
             FROM users WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(Credentials {
            user_id: UserId(r.try_get("id")?),
            school_id: rows::opt_school(&r, "school_id")?,
            role: rows::role(&r, "role")?,
            login: r.try_get("login")?,
            password_hash: r.try_get("password_hash")?,
            disabled: rows::flag(&r, "disabled")?,
            failed_logins: r.try_get("failed_logins")?,
            locked_until: r.try_get("locked_until")?,
        }))
    }

    async fn record_login_failure(
        &self,
        user: UserId,
        failed_logins: i64,
        locked_until: i64,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(failed_logins)
            .bind(locked_until)
            .bind(user.0)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = 0, updated_at = $2 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
        if password_hash.is_some() {
            sqlx::query("DELETE FROM activation_codes WHERE user_id = $1")
                .bind(user.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_disabled(
        &self,
        school: SchoolId,
        user: UserId,
        disabled: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3 AND school_id = $4",
        )
        .bind(bool_int(disabled))
        .bind(now)
        .bind(user.0)
        .bind(school.0)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn user(&self, school: Option<SchoolId>, id: UserId) -> StoreResult<Option<User>> {
        let sql = match school {
            Some(_) => {
                format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.school_id = $2")
            }
            None => format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1 AND u.school_id IS NULL"
            ),
        };
        let mut q = sqlx::query(&sql).bind(id.0);
        if let Some(s) = school {
            q = q.bind(s.0);
        }
        let row = q.fetch_optional(&self.pool).await?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn people(&self, school: SchoolId, role: Option<Role>) -> StoreResult<Vec<UserSummary>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, \
               CASE WHEN u.role = 'pupil' THEN c.name ELSE u.subject END AS detail \
             FROM users u \
             LEFT JOIN enrolments e ON e.pupil_id = u.id \
             LEFT JOIN classes c ON c.id = e.class_id \
             WHERE u.school_id = $1 AND ($2 = '' OR u.role = $2) \
             ORDER BY u.last_name, u.first_name, u.id"
        );
        let rows = sqlx::query(&sql)
            .bind(school.0)
            .bind(role.map(|r| r.code()).unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::summary).collect()
    }

    async fn actor(&self, id: UserId) -> StoreResult<Option<Actor>> {
        let row = sqlx::query("SELECT id, school_id, role, disabled FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        if rows::flag(&r, "disabled")? {
            return Ok(None);
        }
        let role = rows::role(&r, "role")?;
        let children = if role == Role::Parent {
            let rows = sqlx::query("SELECT child_id FROM parent_links WHERE parent_id = $1")
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
            rows.iter()
                .map(|r| Ok(UserId(r.try_get("child_id")?)))
                .collect::<StoreResult<_>>()?
        } else {
            BTreeSet::new()
        };
        let (classes, groups) = if matches!(role, Role::Pupil | Role::Teacher | Role::Parent) {
            (
                self.connected_classes(id).await?,
                self.connected_groups(id).await?,
            )
        } else {
            (BTreeSet::new(), BTreeSet::new())
        };
        Ok(Some(Actor {
            user_id: id,
            school_id: rows::opt_school(&r, "school_id")?,
            role,
            classes,
            groups,
            children,
        }))
    }

    async fn person_facts(&self, school: SchoolId, id: UserId) -> StoreResult<Option<PersonFacts>> {
        let row =
            sqlx::query("SELECT id, school_id, role FROM users WHERE id = $1 AND school_id = $2")
                .bind(id.0)
                .bind(school.0)
                .fetch_optional(&self.pool)
                .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(PersonFacts {
            school_id: rows::opt_school(&r, "school_id")?,
            user_id: id,
            role: rows::role(&r, "role")?,
            classes: self.connected_classes(id).await?,
        }))
    }

    async fn school_people_facts(
        &self,
        school: SchoolId,
    ) -> StoreResult<Vec<(UserSummary, PersonFacts)>> {
        let people = self.people(school, None).await?;
        let mut classes: std::collections::HashMap<i64, BTreeSet<ClassId>> =
            std::collections::HashMap::new();
        // Same meaning as CLASSES_OF_SQL, for the whole school at once.
        let rows = sqlx::query(
            "SELECT pupil_id AS user_id, class_id FROM enrolments WHERE school_id = $1 \
             UNION SELECT teacher_id AS user_id, class_id FROM teachings WHERE school_id = $1 \
             UNION SELECT l.parent_id AS user_id, e.class_id FROM parent_links l \
               JOIN enrolments e ON e.pupil_id = l.child_id WHERE l.school_id = $1",
        )
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            classes
                .entry(r.try_get("user_id")?)
                .or_default()
                .insert(ClassId(r.try_get("class_id")?));
        }
        Ok(people
            .into_iter()
            .map(|p| {
                let facts = PersonFacts {
                    school_id: Some(school),
                    user_id: p.id,
                    role: p.role,
                    classes: classes.remove(&p.id.0).unwrap_or_default(),
                };
                (p, facts)
            })
            .collect())
    }
}
