//! Roster import storage: the snapshot a plan is made against, and applying
//! a plan in one transaction (all of it or none of it).

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use cartable_domain::names::{fold_key, Login, PersonName};
use cartable_domain::roster::{
    ClassRef, GroupRef, PersonRecord, PersonRef, RosterApplied, RosterOp, RosterSnapshot,
    SnapshotPerson,
};
use cartable_domain::{ClassId, GroupId, SchoolId, UserId};
use sqlx::{Any, Row, Transaction};

use super::rows;
use super::{bool_int, SqlStore};
use crate::{ImportDraft, RosterRepo, StoreError, StoreResult};

type Tx = Transaction<'static, Any>;

#[async_trait]
impl RosterRepo for SqlStore {
    async fn roster_snapshot(&self, school: SchoolId) -> StoreResult<RosterSnapshot> {
        let s = school.0;
        let classes = sqlx::query("SELECT id, name FROM classes WHERE school_id = $1 ORDER BY id")
            .bind(s)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((ClassId(r.try_get("id")?), r.try_get("name")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let groups =
            sqlx::query("SELECT id, name FROM pupil_groups WHERE school_id = $1 ORDER BY id")
                .bind(s)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| Ok((GroupId(r.try_get("id")?), r.try_get("name")?)))
                .collect::<StoreResult<Vec<_>>>()?;
        let mut people = Vec::new();
        let mut index = HashMap::new();
        let rows = sqlx::query(
            "SELECT id, role, login, external_id, last_name, first_name, birth_date, email, subject \
             FROM users WHERE school_id = $1 ORDER BY id",
        )
        .bind(s)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let id = UserId(r.try_get("id")?);
            index.insert(id, people.len());
            people.push(SnapshotPerson {
                id,
                role: rows::role(r, "role")?,
                login: r.try_get("login")?,
                external_id: r.try_get("external_id")?,
                last_name: r.try_get("last_name")?,
                first_name: r.try_get("first_name")?,
                birth_date: r.try_get("birth_date")?,
                email: r.try_get("email")?,
                subject: r.try_get("subject")?,
                class: None,
                groups: BTreeSet::new(),
                children: BTreeSet::new(),
                teaches: BTreeSet::new(),
                teaches_groups: BTreeSet::new(),
            });
        }
        let person = |id: i64| index.get(&UserId(id)).copied();
        for r in sqlx::query("SELECT pupil_id, class_id FROM enrolments WHERE school_id = $1")
            .bind(s)
            .fetch_all(&self.pool)
            .await?
        {
            if let Some(i) = person(r.try_get("pupil_id")?) {
                people[i].class = Some(ClassId(r.try_get("class_id")?));
            }
        }
        for r in sqlx::query("SELECT pupil_id, group_id FROM group_members WHERE school_id = $1")
            .bind(s)
            .fetch_all(&self.pool)
            .await?
        {
            if let Some(i) = person(r.try_get("pupil_id")?) {
                people[i].groups.insert(GroupId(r.try_get("group_id")?));
            }
        }
        for r in sqlx::query("SELECT parent_id, child_id FROM parent_links WHERE school_id = $1")
            .bind(s)
            .fetch_all(&self.pool)
            .await?
        {
            if let Some(i) = person(r.try_get("parent_id")?) {
                people[i].children.insert(UserId(r.try_get("child_id")?));
            }
        }
        for r in
            sqlx::query("SELECT teacher_id, class_id, head FROM teachings WHERE school_id = $1")
                .bind(s)
                .fetch_all(&self.pool)
                .await?
        {
            if let Some(i) = person(r.try_get("teacher_id")?) {
                people[i]
                    .teaches
                    .insert((ClassId(r.try_get("class_id")?), rows::flag(&r, "head")?));
            }
        }
        for r in sqlx::query("SELECT teacher_id, group_id FROM teacher_groups WHERE school_id = $1")
            .bind(s)
            .fetch_all(&self.pool)
            .await?
        {
            if let Some(i) = person(r.try_get("teacher_id")?) {
                people[i]
                    .teaches_groups
                    .insert(GroupId(r.try_get("group_id")?));
            }
        }
        Ok(RosterSnapshot {
            classes,
            groups,
            people,
        })
    }

    async fn apply_roster(
        &self,
        school: SchoolId,
        ops: &[RosterOp],
        now: i64,
    ) -> StoreResult<RosterApplied> {
        let mut tx = self.begin_write().await?;
        let mut applier = Applier {
            school,
            now,
            classes: Vec::new(),
            groups: Vec::new(),
            people: Vec::new(),
            result: RosterApplied::default(),
        };
        for op in ops {
            applier.apply(&mut tx, op).await?;
        }
        tx.commit().await?;
        Ok(applier.result)
    }

    async fn save_import_draft(&self, d: &ImportDraft) -> StoreResult<i64> {
        // Drafts older than a day were abandoned: clear them while we are here.
        sqlx::query("DELETE FROM import_drafts WHERE school_id = $1 AND created_at < $2")
            .bind(d.school_id.0)
            .bind(d.created_at - 86_400)
            .execute(&self.writer)
            .await?;
        let row = sqlx::query(
            "INSERT INTO import_drafts (school_id, created_by, created_at, kind, file_name, content) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(d.school_id.0)
        .bind(d.created_by.0)
        .bind(d.created_at)
        .bind(d.kind.as_deref())
        .bind(&d.file_name)
        .bind(&d.content)
        .fetch_one(&self.writer)
        .await?;
        Ok(row.try_get("id")?)
    }

    async fn import_draft(&self, school: SchoolId, id: i64) -> StoreResult<Option<ImportDraft>> {
        let row = sqlx::query(
            "SELECT id, school_id, created_by, created_at, kind, file_name, content FROM import_drafts \
             WHERE school_id = $1 AND id = $2",
        )
        .bind(school.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(ImportDraft {
            id: r.try_get("id")?,
            school_id: SchoolId(r.try_get("school_id")?),
            created_by: UserId(r.try_get("created_by")?),
            created_at: r.try_get("created_at")?,
            kind: r.try_get("kind")?,
            file_name: r.try_get("file_name")?,
            content: r.try_get("content")?,
        }))
    }

    async fn delete_import_draft(&self, school: SchoolId, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM import_drafts WHERE school_id = $1 AND id = $2")
            .bind(school.0)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

/// Applies ops in order inside one transaction, resolving `New(n)` references
/// to the ids created earlier in the same run.
struct Applier {
    school: SchoolId,
    now: i64,
    classes: Vec<ClassId>,
    groups: Vec<GroupId>,
    people: Vec<UserId>,
    result: RosterApplied,
}

impl Applier {
    async fn apply(&mut self, tx: &mut Tx, op: &RosterOp) -> StoreResult<()> {
        let s = self.school.0;
        match op {
            RosterOp::CreateClass { name } => {
                let row = sqlx::query("INSERT INTO classes (school_id, name, name_key) VALUES ($1, $2, $3) RETURNING id")
                    .bind(s)
                    .bind(name.as_str())
                    .bind(fold_key(name.as_str()))
                    .fetch_one(&mut **tx)
                    .await?;
                self.classes.push(ClassId(row.try_get("id")?));
                self.result.classes_created += 1;
            }
            RosterOp::CreateGroup { name } => {
                let row =
                    sqlx::query("INSERT INTO pupil_groups (school_id, name, name_key) VALUES ($1, $2, $3) RETURNING id")
                        .bind(s)
                        .bind(name.as_str())
                        .bind(fold_key(name.as_str()))
                        .fetch_one(&mut **tx)
                        .await?;
                self.groups.push(GroupId(row.try_get("id")?));
            }
            RosterOp::CreatePerson {
                role,
                person,
                subject,
            } => {
                let login = free_login(tx, &person.first_name, &person.last_name).await?;
                let row = sqlx::query(
                    "INSERT INTO users (school_id, role, login, last_name, first_name, birth_date, email, subject, external_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                )
                .bind(s)
                .bind(role.code())
                .bind(login.as_str())
                .bind(person.last_name.as_str())
                .bind(person.first_name.as_str())
                .bind(person.birth_date.map(|d| d.iso()))
                .bind(person.email.as_deref())
                .bind(subject.as_deref())
                .bind(person.external_id.as_ref().map(|e| e.as_str().to_string()))
                .bind(self.now)
                .fetch_one(&mut **tx)
                .await?;
                let id = UserId(row.try_get("id")?);
                self.people.push(id);
                self.result.created.push((id, login.as_str().to_string()));
            }
            RosterOp::UpdatePerson {
                id,
                person,
                subject,
            } => {
                update_person(tx, self.school, *id, person, subject.as_deref(), self.now).await?;
                self.result.updated += 1;
            }
            RosterOp::SetClass { pupil, class } => {
                let pupil = self.person(tx, *pupil).await?;
                let class = self.class(tx, *class).await?;
                sqlx::query(
                    "INSERT INTO enrolments (pupil_id, school_id, class_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (pupil_id) DO UPDATE SET class_id = excluded.class_id, school_id = excluded.school_id",
                )
                .bind(pupil.0)
                .bind(s)
                .bind(class.0)
                .execute(&mut **tx)
                .await?;
            }
            RosterOp::SetGroups { pupil, groups } => {
                let pupil = self.person(tx, *pupil).await?;
                sqlx::query("DELETE FROM group_members WHERE pupil_id = $1 AND school_id = $2")
                    .bind(pupil.0)
                    .bind(s)
                    .execute(&mut **tx)
                    .await?;
                for g in groups {
                    let group = self.group(tx, *g).await?;
                    sqlx::query(
                        "INSERT INTO group_members (pupil_id, group_id, school_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(pupil.0)
                    .bind(group.0)
                    .bind(s)
                    .execute(&mut **tx)
                    .await?;
                }
            }
            RosterOp::LinkParent { parent, child } => {
                let parent = self.person(tx, *parent).await?;
                let child = self.person(tx, *child).await?;
                sqlx::query(
                    "INSERT INTO parent_links (parent_id, child_id, school_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(parent.0)
                .bind(child.0)
                .bind(s)
                .execute(&mut **tx)
                .await?;
            }
            RosterOp::SetTeachings { teacher, classes } => {
                let teacher = self.person(tx, *teacher).await?;
                sqlx::query("DELETE FROM teachings WHERE teacher_id = $1 AND school_id = $2")
                    .bind(teacher.0)
                    .bind(s)
                    .execute(&mut **tx)
                    .await?;
                for (c, head) in classes {
                    let class = self.class(tx, *c).await?;
                    sqlx::query(
                        "INSERT INTO teachings (teacher_id, class_id, school_id, head) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (teacher_id, class_id) DO UPDATE SET head = excluded.head",
                    )
                    .bind(teacher.0)
                    .bind(class.0)
                    .bind(s)
                    .bind(bool_int(*head))
                    .execute(&mut **tx)
                    .await?;
                }
            }
            RosterOp::SetTeacherGroups { teacher, groups } => {
                let teacher = self.person(tx, *teacher).await?;
                sqlx::query("DELETE FROM teacher_groups WHERE teacher_id = $1 AND school_id = $2")
                    .bind(teacher.0)
                    .bind(s)
                    .execute(&mut **tx)
                    .await?;
                for g in groups {
                    let group = self.group(tx, *g).await?;
                    sqlx::query(
                        "INSERT INTO teacher_groups (teacher_id, group_id, school_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    )
                    .bind(teacher.0)
                    .bind(group.0)
                    .bind(s)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Resolves a person reference, checking that an existing one belongs to
    /// this school: a plan can never reach into another school.
    async fn person(&self, tx: &mut Tx, r: PersonRef) -> StoreResult<UserId> {
        match r {
            PersonRef::New(i) => self
                .people
                .get(i)
                .copied()
                .ok_or_else(|| bad_ref("person", i)),
            PersonRef::Existing(id) => {
                ensure_in_school(tx, "users", id.0, self.school).await?;
                Ok(id)
            }
        }
    }

    async fn class(&self, tx: &mut Tx, r: ClassRef) -> StoreResult<ClassId> {
        match r {
            ClassRef::New(i) => self
                .classes
                .get(i)
                .copied()
                .ok_or_else(|| bad_ref("class", i)),
            ClassRef::Existing(id) => {
                ensure_in_school(tx, "classes", id.0, self.school).await?;
                Ok(id)
            }
        }
    }

    async fn group(&self, tx: &mut Tx, r: GroupRef) -> StoreResult<GroupId> {
        match r {
            GroupRef::New(i) => self
                .groups
                .get(i)
                .copied()
                .ok_or_else(|| bad_ref("group", i)),
            GroupRef::Existing(id) => {
                ensure_in_school(tx, "pupil_groups", id.0, self.school).await?;
                Ok(id)
            }
        }
    }
}

fn bad_ref(what: &str, i: usize) -> StoreError {
    StoreError::Internal(format!(
        "roster plan refers to new {what} #{i} before creating it"
    ))
}

async fn ensure_in_school(
    tx: &mut Tx,
    table: &'static str,
    id: i64,
    school: SchoolId,
) -> StoreResult<()> {
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
            "{table} #{id} in school {school}"
        ))),
    }
}

async fn update_person(
    tx: &mut Tx,
    school: SchoolId,
    id: UserId,
    p: &PersonRecord,
    subject: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    // A file that lacks a column must not erase what another file filled in.
    let done = sqlx::query(
        "UPDATE users SET last_name = $1, first_name = $2, birth_date = COALESCE($3, birth_date), \
           email = COALESCE($4, email), subject = COALESCE($5, subject), external_id = COALESCE($6, external_id), \
           updated_at = $7 \
         WHERE id = $8 AND school_id = $9",
    )
    .bind(p.last_name.as_str())
    .bind(p.first_name.as_str())
    .bind(p.birth_date.map(|d| d.iso()))
    .bind(p.email.as_deref())
    .bind(subject)
    .bind(p.external_id.as_ref().map(|e| e.as_str().to_string()))
    .bind(now)
    .bind(id.0)
    .bind(school.0)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::NotFound(format!(
            "user #{id} in school {school}"
        )));
    }
    Ok(())
}

/// "prenom.nom", or the first free "prenom.nomN". Logins are unique across the
/// platform; the unique index catches a concurrent import taking the same one.
async fn free_login(tx: &mut Tx, first: &PersonName, last: &PersonName) -> StoreResult<Login> {
    let base = Login::suggest(first, last, 1);
    let rows = sqlx::query("SELECT login FROM users WHERE login = $1 OR login LIKE $2")
        .bind(base.as_str())
        .bind(format!("{}%", base.as_str().replace(['%', '_'], "")))
        .fetch_all(&mut **tx)
        .await?;
    let taken: BTreeSet<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>("login"))
        .collect::<Result<_, _>>()?;
    let mut n = 1;
    loop {
        let candidate = Login::suggest(first, last, n);
        if !taken.contains(candidate.as_str()) {
            return Ok(candidate);
        }
        n += 1;
    }
}
