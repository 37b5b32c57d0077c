use async_trait::async_trait;
use cartable_domain::{ClassId, SchoolId, UserId};
use sqlx::Row;

use super::rows::{self, SUMMARY_COLUMNS};
use super::SqlStore;
use crate::{ChildSummary, ClassRepo, ClassSummary, StoreResult, TeacherOfClass, UserSummary};

const CLASS_COLUMNS: &str =
    "c.id, c.name, (SELECT COUNT(*) FROM enrolments e WHERE e.school_id = c.school_id AND e.class_id = c.id) AS pupils";

#[async_trait]
impl ClassRepo for SqlStore {
    async fn classes(&self, school: SchoolId) -> StoreResult<Vec<ClassSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.school_id = $1 ORDER BY c.name"
        ))
        .bind(school.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::class_summary).collect()
    }

    async fn class(&self, school: SchoolId, id: ClassId) -> StoreResult<Option<ClassSummary>> {
        let row = sqlx::query(&format!(
            "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.school_id = $1 AND c.id = $2"
        ))
        .bind(school.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rows::class_summary).transpose()
    }

    async fn class_pupils(&self, school: SchoolId, id: ClassId) -> StoreResult<Vec<UserSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, NULL AS detail FROM enrolments e JOIN users u ON u.id = e.pupil_id \
             WHERE e.school_id = $1 AND e.class_id = $2 ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(school.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::summary).collect()
    }

    async fn class_teachers(
        &self,
        school: SchoolId,
        id: ClassId,
    ) -> StoreResult<Vec<TeacherOfClass>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, u.subject AS detail, t.head FROM teachings t JOIN users u ON u.id = t.teacher_id \
             WHERE t.school_id = $1 AND t.class_id = $2 ORDER BY t.head DESC, u.subject, u.last_name, u.id"
        ))
        .bind(school.0)
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let teacher = rows::summary(r)?;
                Ok(TeacherOfClass {
                    subject: teacher.detail.clone(),
                    head: rows::flag(r, "head")?,
                    teacher,
                })
            })
            .collect()
    }

    async fn classes_of(&self, school: SchoolId, user: UserId) -> StoreResult<Vec<ClassSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {CLASS_COLUMNS} FROM classes c WHERE c.school_id = $1 AND c.id IN ( \
               SELECT class_id FROM enrolments WHERE pupil_id = $2 \
               UNION SELECT class_id FROM teachings WHERE teacher_id = $2 \
               UNION SELECT e.class_id FROM parent_links l JOIN enrolments e ON e.pupil_id = l.child_id WHERE l.parent_id = $2) \
             ORDER BY c.name"
        ))
        .bind(school.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::class_summary).collect()
    }

    async fn children_of(
        &self,
        school: SchoolId,
        parent: UserId,
    ) -> StoreResult<Vec<ChildSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, c.name AS detail, c.id AS class_id, c.name AS class_name, \
               (SELECT COUNT(*) FROM enrolments e2 WHERE e2.class_id = c.id) AS class_pupils \
             FROM parent_links l JOIN users u ON u.id = l.child_id \
             LEFT JOIN enrolments e ON e.pupil_id = u.id LEFT JOIN classes c ON c.id = e.class_id \
             WHERE l.school_id = $1 AND l.parent_id = $2 ORDER BY u.first_name, u.id"
        ))
        .bind(school.0)
        .bind(parent.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let class = match r.try_get::<Option<i64>, _>("class_id")? {
                    Some(id) => Some(ClassSummary {
                        id: ClassId(id),
                        name: r.try_get("class_name")?,
                        pupils: r.try_get("class_pupils")?,
                    }),
                    None => None,
                };
                Ok(ChildSummary {
                    child: rows::summary(r)?,
                    class,
                })
            })
            .collect()
    }

    async fn parents_of(&self, school: SchoolId, child: UserId) -> StoreResult<Vec<UserSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, NULL AS detail FROM parent_links l JOIN users u ON u.id = l.parent_id \
             WHERE l.school_id = $1 AND l.child_id = $2 ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(school.0)
        .bind(child.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::summary).collect()
    }

    async fn class_parents(
        &self,
        school: SchoolId,
        class: ClassId,
    ) -> StoreResult<Vec<UserSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT {SUMMARY_COLUMNS}, NULL AS detail FROM enrolments e \
             JOIN parent_links l ON l.child_id = e.pupil_id JOIN users u ON u.id = l.parent_id \
             WHERE e.school_id = $1 AND e.class_id = $2 ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(school.0)
        .bind(class.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::summary).collect()
    }
}
