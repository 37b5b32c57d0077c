//! Bulk writes for synthetic districts: multi-row INSERTs inside one
//! transaction per school, so that a hundred thousand accounts take seconds,
//! not the hours of one statement (and, on SQLite, one fsync) per row.

use std::collections::HashMap;

use async_trait::async_trait;
use cartable_domain::names::fold_key;
use cartable_domain::{ClassId, GroupId, Role, SchoolId, UserId};
use sqlx::{Any, Row, Transaction};

use super::{bool_int, SqlStore};
use crate::{BulkCreated, BulkRepo, BulkSchool, SessionRow, StoreError, StoreResult};

type Tx = Transaction<'static, Any>;

/// Parameters per statement. Far under SQLite's 32,766 and PostgreSQL's
/// 65,535 limits on purpose: binding through sqlx's SQLite driver grows
/// faster than the parameter count (measured: 5,000 accounts took 7 s in
/// statements of 12,000 parameters, 0.3 s in statements of 200).
const MAX_PARAMS: usize = 200;

/// A value of a row to insert (the types the tables use).
enum Value {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

/// Inserts `rows` into `table` with as few statements as the parameter
/// limit allows.
async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> StoreResult<()> {
    let per_statement = (MAX_PARAMS / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(StoreError::Internal(format!(
                    "bulk insert into {table}: {} values for {} columns",
                    row.len(),
                    columns.len()
                )));
            }
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                n += 1;
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        let mut query = sqlx::query(&sql);
        for value in chunk.into_iter().flatten() {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::OptInt(v) => query.bind(v),
                Value::OptText(v) => query.bind(v),
            };
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

fn bad_batch(why: String) -> StoreError {
    StoreError::Internal(format!("bulk batch: {why}"))
}

/// Checks every index and that each relation suits the person's role, before
/// anything is written.
fn check_batch(batch: &BulkSchool) -> StoreResult<()> {
    let (classes, groups, people) = (batch.classes.len(), batch.groups.len(), batch.people.len());
    for (i, p) in batch.people.iter().enumerate() {
        let pupil = p.role == Role::Pupil;
        if (p.class.is_some() || !p.groups.is_empty()) && !pupil {
            return Err(bad_batch(format!(
                "person #{i} is not a pupil but has a class"
            )));
        }
        if !p.children.is_empty() && p.role != Role::Parent {
            return Err(bad_batch(format!(
                "person #{i} is not a parent but has children"
            )));
        }
        if !p.teaches.is_empty() && p.role != Role::Teacher {
            return Err(bad_batch(format!(
                "person #{i} is not a teacher but teaches"
            )));
        }
        if p.class.is_some_and(|c| c >= classes)
            || p.groups.iter().any(|&g| g >= groups)
            || p.teaches.iter().any(|&(c, _)| c >= classes)
        {
            return Err(bad_batch(format!(
                "person #{i} refers to a missing class or group"
            )));
        }
        for &c in &p.children {
            if c >= people || batch.people[c].role != Role::Pupil {
                return Err(bad_batch(format!(
                    "person #{i} has a child #{c} who is no pupil"
                )));
            }
        }
    }
    Ok(())
}

/// `name_key -> id` of a school's classes or groups.
async fn ids_by_key(
    tx: &mut Tx,
    table: &str,
    school: SchoolId,
) -> StoreResult<HashMap<String, i64>> {
    let rows = sqlx::query(&format!(
        "SELECT id, name_key FROM {table} WHERE school_id = $1"
    ))
    .bind(school.0)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("name_key")?, r.try_get("id")?)))
        .collect()
}

/// Creates named rows (classes or groups) and returns their ids in order.
async fn create_named(
    tx: &mut Tx,
    table: &str,
    school: SchoolId,
    names: &[cartable_domain::names::ClassName],
) -> StoreResult<Vec<i64>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = names.iter().map(|n| fold_key(n.as_str())).collect();
    let rows = names
        .iter()
        .zip(&keys)
        .map(|(n, k)| {
            vec![
                Value::Int(school.0),
                Value::Text(n.as_str().to_string()),
                Value::Text(k.clone()),
            ]
        })
        .collect();
    insert_rows(tx, table, &["school_id", "name", "name_key"], rows).await?;
    let ids = ids_by_key(tx, table, school).await?;
    keys.iter()
        .map(|k| {
            ids.get(k)
                .copied()
                .ok_or_else(|| StoreError::Internal(format!("{table} {k} vanished")))
        })
        .collect()
}

#[async_trait]
impl BulkRepo for SqlStore {
    async fn existing_logins(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query("SELECT login FROM users")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("login")?)).collect()
    }

    async fn bulk_create_people(
        &self,
        school: SchoolId,
        batch: &BulkSchool,
        now: i64,
    ) -> StoreResult<BulkCreated> {
        check_batch(batch)?;
        let s = school.0;
        let mut tx = self.begin_write().await?;
        let classes = create_named(&mut tx, "classes", school, &batch.classes).await?;
        let groups = create_named(&mut tx, "pupil_groups", school, &batch.groups).await?;

        let rows = batch
            .people
            .iter()
            .map(|p| {
                vec![
                    Value::Int(s),
                    Value::Text(p.role.code().to_string()),
                    Value::Text(p.login.as_str().to_string()),
                    Value::Text(p.last_name.as_str().to_string()),
                    Value::Text(p.first_name.as_str().to_string()),
                    Value::OptText(p.birth_date.clone()),
                    Value::OptText(p.subject.clone()),
                    Value::OptText(batch.password_hash.clone()),
                    Value::Int(now),
                    Value::Int(now),
                ]
            })
            .collect();
        insert_rows(
            &mut tx,
            "users",
            &[
                "school_id",
                "role",
                "login",
                "last_name",
                "first_name",
                "birth_date",
                "subject",
                "password_hash",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        .await?;
        // Ids by login rather than by RETURNING order, which neither
        // database promises for a multi-row INSERT.
        let by_login: HashMap<String, i64> =
            sqlx::query("SELECT id, login FROM users WHERE school_id = $1")
                .bind(s)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("login")?, r.try_get("id")?)))
                .collect::<StoreResult<_>>()?;
        let people = batch
            .people
            .iter()
            .map(|p| {
                by_login
                    .get(p.login.as_str())
                    .copied()
                    .ok_or_else(|| StoreError::Internal(format!("user {} vanished", p.login)))
            })
            .collect::<StoreResult<Vec<i64>>>()?;

        let (mut enrolments, mut members, mut links, mut teachings) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (p, &id) in batch.people.iter().zip(&people) {
            if let Some(c) = p.class {
                enrolments.push(vec![Value::Int(id), Value::Int(s), Value::Int(classes[c])]);
            }
            for &g in &p.groups {
                members.push(vec![Value::Int(id), Value::Int(groups[g]), Value::Int(s)]);
            }
            for &c in &p.children {
                links.push(vec![Value::Int(id), Value::Int(people[c]), Value::Int(s)]);
            }
            for &(c, head) in &p.teaches {
                teachings.push(vec![
                    Value::Int(id),
                    Value::Int(classes[c]),
                    Value::Int(s),
                    Value::Int(bool_int(head)),
                ]);
            }
        }
        insert_rows(
            &mut tx,
            "enrolments",
            &["pupil_id", "school_id", "class_id"],
            enrolments,
        )
        .await?;
        insert_rows(
            &mut tx,
            "group_members",
            &["pupil_id", "group_id", "school_id"],
            members,
        )
        .await?;
        insert_rows(
            &mut tx,
            "parent_links",
            &["parent_id", "child_id", "school_id"],
            links,
        )
        .await?;
        insert_rows(
            &mut tx,
            "teachings",
            &["teacher_id", "class_id", "school_id", "head"],
            teachings,
        )
        .await?;
        tx.commit().await?;
        Ok(BulkCreated {
            classes: classes.into_iter().map(ClassId).collect(),
            groups: groups.into_iter().map(GroupId).collect(),
            people: people.into_iter().map(UserId).collect(),
        })
    }

    async fn insert_sessions(&self, sessions: &[SessionRow]) -> StoreResult<()> {
        if sessions.is_empty() {
            return Ok(());
        }
        let rows = sessions
            .iter()
            .map(|r| {
                vec![
                    Value::Text(r.token_hash.clone()),
                    Value::Int(r.user_id.0),
                    Value::OptInt(r.school_id.map(|x| x.0)),
                    Value::Int(bool_int(r.persistent)),
                    Value::Int(r.created_at),
                    Value::Int(r.last_seen_at),
                    Value::Int(r.expires_at),
                    Value::OptText(r.user_agent.clone()),
                    Value::OptText(r.ip.clone()),
                ]
            })
            .collect();
        let mut tx = self.begin_write().await?;
        insert_rows(
            &mut tx,
            "sessions",
            &[
                "token_hash",
                "user_id",
                "school_id",
                "persistent",
                "created_at",
                "last_seen_at",
                "expires_at",
                "user_agent",
                "ip",
            ],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
