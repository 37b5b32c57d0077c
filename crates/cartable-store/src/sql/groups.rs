//! Groups of pupils across classes, and the SQL pieces that let a lesson or
//! an assignment be for a class or for a group.

use async_trait::async_trait;
use cartable_domain::{ClassId, GroupId, SchoolId, Target, UserId};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::SqlStore;
use crate::{Cohorts, GroupRepo, GroupSummary, StoreError, StoreResult};

const GROUP_COLUMNS: &str =
    "g.id, g.name, (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS pupils";

fn group_summary(r: &AnyRow) -> StoreResult<GroupSummary> {
    Ok(GroupSummary {
        id: GroupId(r.try_get("id")?),
        name: r.try_get("name")?,
        pupils: r.try_get("pupils")?,
    })
}

/// The target of a row that has nullable `class_id` and `group_id` columns
/// (the schema's CHECK makes exactly one of them set).
pub(super) fn target_of(r: &AnyRow) -> StoreResult<Target> {
    let class: Option<i64> = r.try_get("class_id")?;
    let group: Option<i64> = r.try_get("group_id")?;
    match (class, group) {
        (Some(c), None) => Ok(Target::Class(ClassId(c))),
        (None, Some(g)) => Ok(Target::Group(GroupId(g))),
        _ => Err(StoreError::Internal(
            "a row is for both or neither of a class and a group".into(),
        )),
    }
}

/// The values of the `class_id` and `group_id` columns for a target.
pub(super) fn columns_of(target: Target) -> (Option<i64>, Option<i64>) {
    match target {
        Target::Class(c) => (Some(c.0), None),
        Target::Group(g) => (None, Some(g.0)),
    }
}

/// Fails with `NotFound` unless the class or group belongs to the school.
pub(super) async fn ensure_target(
    tx: &mut Transaction<'static, Any>,
    school: SchoolId,
    target: Target,
) -> StoreResult<()> {
    let (table, id, what) = match target {
        Target::Class(c) => ("classes", c.0, "class"),
        Target::Group(g) => ("pupil_groups", g.0, "group"),
    };
    let found = sqlx::query(&format!(
        "SELECT 1 AS one FROM {table} WHERE id = $1 AND school_id = $2"
    ))
    .bind(id)
    .bind(school.0)
    .fetch_optional(&mut **tx)
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound(format!(
            "{what} #{id} in school {school}"
        ))),
    }
}

/// `(x.class_id IN (…) OR x.group_id IN (…))` for the row alias `x`, or a
/// condition that is never true when there is nothing to look for. Ids are
/// integers from our own rows: safe to inline.
pub(super) fn cohort_condition(alias: &str, cohorts: &Cohorts) -> String {
    let list = |ids: Vec<i64>| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut parts = Vec::new();
    if !cohorts.classes.is_empty() {
        let ids = list(cohorts.classes.iter().map(|c| c.0).collect());
        parts.push(format!("{alias}.class_id IN ({ids})"));
    }
    if !cohorts.groups.is_empty() {
        let ids = list(cohorts.groups.iter().map(|g| g.0).collect());
        parts.push(format!("{alias}.group_id IN ({ids})"));
    }
    if parts.is_empty() {
        "1 = 0".into()
    } else {
        format!("({})", parts.join(" OR "))
    }
}

/// True when the pupil bound as `pupil` (e.g. `$2`) is one of the row
/// `alias`'s pupils: enrolled in its class, or a member of its group.
pub(super) fn pupil_of(alias: &str, pupil: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM enrolments e WHERE e.class_id = {alias}.class_id AND e.pupil_id = {pupil}) \
          OR EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = {alias}.group_id AND gm.pupil_id = {pupil}))"
    )
}

/// The ids of the pupils of the row `alias` (a class's pupils or a group's members).
pub(super) fn pupils_of(alias: &str) -> String {
    format!(
        "SELECT e.pupil_id FROM enrolments e WHERE e.class_id = {alias}.class_id \
         UNION SELECT gm.pupil_id FROM group_members gm WHERE gm.group_id = {alias}.group_id"
    )
}

#[async_trait]
impl GroupRepo for SqlStore {
    async fn groups(&self, school: SchoolId) -> StoreResult<Vec<GroupSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM pupil_groups g WHERE g.school_id = $1 ORDER BY g.name, g.id"
        ))
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(group_summary).collect()
    }

    async fn group(&self, school: SchoolId, id: GroupId) -> StoreResult<Option<GroupSummary>> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM pupil_groups g WHERE g.school_id = $1 AND g.id = $2"
        ))
        .bind(school.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(group_summary).transpose()
    }

    async fn groups_of(&self, school: SchoolId, user: UserId) -> StoreResult<Vec<GroupSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM pupil_groups g WHERE g.school_id = $1 AND g.id IN ( \
               SELECT group_id FROM group_members WHERE pupil_id = $2 \
               UNION SELECT group_id FROM teacher_groups WHERE teacher_id = $2 \
               UNION SELECT m.group_id FROM parent_links l JOIN group_members m ON m.pupil_id = l.child_id WHERE l.parent_id = $2) \
             ORDER BY g.name, g.id"
        ))
        .bind(school.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(group_summary).collect()
    }

    async fn pupil_cohorts(&self, school: SchoolId, pupil: UserId) -> StoreResult<Cohorts> {
        let rows = sqlx::query(
            "SELECT class_id, CAST(NULL AS BIGINT) AS group_id FROM enrolments WHERE school_id = $1 AND pupil_id = $2 \
             UNION SELECT CAST(NULL AS BIGINT) AS class_id, group_id FROM group_members WHERE school_id = $1 AND pupil_id = $2",
        )
        .bind(school.0)
        .bind(pupil.0)
        .fetch_all(&self.pool)
        .await?;
        cohorts_from(&rows, Cohorts::default())
    }

    async fn cohorts_sharing_pupils(
        &self,
        school: SchoolId,
        target: Target,
    ) -> StoreResult<Cohorts> {
        let pupils = match target {
            Target::Class(_) => {
                "SELECT pupil_id FROM enrolments WHERE school_id = $1 AND class_id = $2"
            }
            Target::Group(_) => {
                "SELECT pupil_id FROM group_members WHERE school_id = $1 AND group_id = $2"
            }
        };
        let id = match target {
            Target::Class(c) => c.0,
            Target::Group(g) => g.0,
        };
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT class_id, CAST(NULL AS BIGINT) AS group_id FROM enrolments WHERE school_id = $1 AND pupil_id IN ({pupils}) \
             UNION SELECT DISTINCT CAST(NULL AS BIGINT) AS class_id, group_id FROM group_members WHERE school_id = $1 AND pupil_id IN ({pupils})"
        ))
        .bind(school.0)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        // The target itself counts even with no pupil yet.
        let mut start = Cohorts::default();
        match target {
            Target::Class(c) => start.classes.push(c),
            Target::Group(g) => start.groups.push(g),
        }
        cohorts_from(&rows, start)
    }
}

fn cohorts_from(rows: &[AnyRow], mut cohorts: Cohorts) -> StoreResult<Cohorts> {
    for r in rows {
        if let Some(c) = r.try_get::<Option<i64>, _>("class_id")? {
            if !cohorts.classes.contains(&ClassId(c)) {
                cohorts.classes.push(ClassId(c));
            }
        }
        if let Some(g) = r.try_get::<Option<i64>, _>("group_id")? {
            if !cohorts.groups.contains(&GroupId(g)) {
                cohorts.groups.push(GroupId(g));
            }
        }
    }
    cohorts.classes.sort();
    cohorts.groups.sort();
    Ok(cohorts)
}
