//! A small migration runner: SQL files embedded in the binary, applied in
//! order, each in its own transaction, recorded in `schema_migrations` with a
//! checksum so that an edited, already-applied migration is detected.

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Backend, SqlStore};
use crate::{StoreError, StoreResult};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../../migrations/sqlite/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "messaging",
        sql: include_str!("../../migrations/sqlite/0002_messaging.sql"),
    },
    Migration {
        version: 3,
        name: "lessons",
        sql: include_str!("../../migrations/sqlite/0003_lessons.sql"),
    },
    Migration {
        version: 4,
        name: "assignments",
        sql: include_str!("../../migrations/sqlite/0004_assignments.sql"),
    },
    Migration {
        version: 5,
        name: "calendar",
        sql: include_str!("../../migrations/sqlite/0005_calendar.sql"),
    },
    Migration {
        version: 6,
        name: "documents",
        sql: include_str!("../../migrations/sqlite/0006_documents.sql"),
    },
    Migration {
        version: 7,
        name: "groups",
        sql: include_str!("../../migrations/sqlite/0007_groups.sql"),
    },
    Migration {
        version: 8,
        name: "blob_key_index",
        sql: include_str!("../../migrations/sqlite/0008_blob_key_index.sql"),
    },
    Migration {
        version: 9,
        name: "homework_done_pupil",
        sql: include_str!("../../migrations/sqlite/0009_homework_done_pupil.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "messaging",
        sql: include_str!("../../migrations/postgres/0002_messaging.sql"),
    },
    Migration {
        version: 3,
        name: "lessons",
        sql: include_str!("../../migrations/postgres/0003_lessons.sql"),
    },
    Migration {
        version: 4,
        name: "assignments",
        sql: include_str!("../../migrations/postgres/0004_assignments.sql"),
    },
    Migration {
        version: 5,
        name: "calendar",
        sql: include_str!("../../migrations/postgres/0005_calendar.sql"),
    },
    Migration {
        version: 6,
        name: "documents",
        sql: include_str!("../../migrations/postgres/0006_documents.sql"),
    },
    Migration {
        version: 7,
        name: "groups",
        sql: include_str!("../../migrations/postgres/0007_groups.sql"),
    },
    Migration {
        version: 8,
        name: "blob_key_index",
        sql: include_str!("../../migrations/postgres/0008_blob_key_index.sql"),
    },
    Migration {
        version: 9,
        name: "homework_done_pupil",
        sql: include_str!("../../migrations/postgres/0009_homework_done_pupil.sql"),
    },
];

/// Applies every migration up to version `last` (all of them with `i64::MAX`).
pub(super) async fn run(store: &SqlStore, last: i64) -> StoreResult<()> {
    let migrations = match store.backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&store.pool)
    .await?;
    for m in migrations.iter().filter(|m| m.version <= last) {
        let checksum = hex::encode(Sha256::digest(m.sql.as_bytes()));
        let mut tx = store.begin_write().await?;
        let applied = sqlx::query("SELECT checksum FROM schema_migrations WHERE version = $1")
            .bind(m.version)
            .fetch_optional(&mut *tx)
            .await?;
        match applied {
            Some(row) => {
                let existing: String = row.try_get("checksum")?;
                if existing != checksum {
                    return Err(StoreError::Config(format!(
                        "migration {} ({}) was changed after it was applied",
                        m.version, m.name
                    )));
                }
            }
            None => {
                sqlx::raw_sql(m.sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(checksum)
                    .bind(now_secs())
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(version = m.version, name = m.name, "migration applied");
            }
        }
        tx.commit().await?;
    }
    Ok(())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    //! Migration 7 rebuilds the lessons and assignments tables on SQLite (to
    //! relax NOT NULL on class_id) together with the tables that point at
    //! them: every row written under version 6 must read the same after it.

    use cartable_domain::{ClassId, SchoolId, Target, UserId};

    use super::super::{PoolSettings, SqlStore};
    use super::run;
    use crate::{AssignmentRepo, Cohorts, LessonRepo};

    /// Rows as version 6 stored them: a lesson with a file and a done mark,
    /// an assignment with a hand-in (with a file) and feedback.
    const AT_VERSION_6: &[&str] = &[
        "INSERT INTO schools (id, name, uai, created_at) VALUES (1, 'Collège', '0750001A', 1)",
        "INSERT INTO users (id, school_id, role, login, last_name, first_name, created_at, updated_at) \
           VALUES (10, 1, 'teacher', 'paul.durand', 'Durand', 'Paul', 1, 1)",
        "INSERT INTO users (id, school_id, role, login, last_name, first_name, created_at, updated_at) \
           VALUES (11, 1, 'pupil', 'zoe.martin', 'Martin', 'Zoé', 1, 1)",
        "INSERT INTO classes (id, school_id, name, name_key) VALUES (5, 1, '6e A', '6e a')",
        "INSERT INTO enrolments (pupil_id, school_id, class_id) VALUES (11, 1, 5)",
        "INSERT INTO lessons (id, school_id, class_id, author_id, subject, lesson_date, content_md, content_html, \
           homework_md, homework_html, due_date, workload_minutes, is_test, publish_at, created_at, updated_at) \
           VALUES (40, 1, 5, 10, 'Maths', '2026-09-01', 'c', '<p>c</p>', 'h', '<p>h</p>', '2026-09-03', 20, 1, 2, 2, 2)",
        "INSERT INTO homework_done (lesson_id, pupil_id, school_id, done_at) VALUES (40, 11, 1, 3)",
        "INSERT INTO attachments (id, school_id, owner_kind, owner_id, blob_key, file_name, content_type, size, sha256, created_at) \
           VALUES (70, 1, 'lesson', 40, 'k1', 'cours.pdf', 'application/pdf', 9, 's1', 2)",
        "INSERT INTO assignments (id, school_id, class_id, author_id, subject, title, instructions_md, instructions_html, \
           due_at, accepts_files, accepts_text, created_at) VALUES (50, 1, 5, 10, 'Maths', 'DM 1', 'i', '<p>i</p>', 100, 1, 1, 2)",
        "INSERT INTO submissions (id, school_id, assignment_id, pupil_id, text_md, text_html, text_sha256, submitted_at, late, idempotency_key) \
           VALUES (60, 1, 50, 11, 't', '<p>t</p>', 'sha', 5, 0, 'key-1')",
        "INSERT INTO attachments (id, school_id, owner_kind, owner_id, blob_key, file_name, content_type, size, sha256, created_at) \
           VALUES (71, 1, 'submission', 60, 'k2', 'copie.pdf', 'application/pdf', 7, 's2', 5)",
        "INSERT INTO assignment_feedback (assignment_id, pupil_id, school_id, feedback_md, feedback_html, mark, returned_at) \
           VALUES (50, 11, 1, 'Bien', '<p>Bien</p>', '15/20', 6)",
    ];

    async fn check_rows_survive(store: &SqlStore) {
        run(store, 6).await.unwrap();
        for sql in AT_VERSION_6 {
            sqlx::query(sql).execute(&store.pool).await.unwrap();
        }
        run(store, i64::MAX).await.unwrap();

        let school = SchoolId(1);
        let lesson = store
            .lesson(school, 40)
            .await
            .unwrap()
            .expect("lesson kept");
        assert_eq!(lesson.target, Target::Class(ClassId(5)));
        assert_eq!(lesson.target_name, "6e A");
        assert_eq!(
            (lesson.fields.workload_minutes, lesson.fields.is_test),
            (Some(20), true)
        );
        assert_eq!(lesson.attachments[0].file_name, "cours.pdf");
        let due = store
            .homework_due(
                school,
                &Cohorts {
                    classes: vec![ClassId(5)],
                    groups: Vec::new(),
                },
                "2026-09-01",
                "2026-09-30",
                10,
                Some(UserId(11)),
            )
            .await
            .unwrap();
        assert!(due[0].done, "the done mark is kept");
        let a = store
            .assignment(school, 50)
            .await
            .unwrap()
            .expect("assignment kept");
        assert_eq!(
            (a.title.as_str(), a.target),
            ("DM 1", Target::Class(ClassId(5)))
        );
        let (sub, versions) = store
            .current_submission(school, 50, UserId(11))
            .await
            .unwrap();
        let sub = sub.expect("hand-in kept");
        assert_eq!((sub.id, versions), (60, 1));
        assert_eq!(sub.files[0].file_name, "copie.pdf");
        let fb = store
            .feedback(school, 50, UserId(11))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fb.mark.as_deref(), Some("15/20"));
        // New rows continue the ids, and the references still hold.
        let orphan = sqlx::query(
            "INSERT INTO homework_done (lesson_id, pupil_id, school_id, done_at) VALUES (999, 11, 1, 3)",
        )
        .execute(&store.pool)
        .await;
        assert!(orphan.is_err(), "a done mark of no lesson is refused");
        let both = sqlx::query(
            "INSERT INTO lessons (school_id, class_id, group_id, author_id, subject, lesson_date, content_md, content_html, \
               homework_md, homework_html, publish_at, created_at, updated_at) \
             VALUES (1, 5, NULL, 10, 'x', '2026-09-01', '', '', '', '', 1, 1, 1), \
                    (1, NULL, NULL, 10, 'x', '2026-09-01', '', '', '', '', 1, 1, 1)",
        )
        .execute(&store.pool)
        .await;
        assert!(
            both.is_err(),
            "a lesson for neither a class nor a group is refused"
        );
    }

    #[tokio::test]
    async fn sqlite_rows_survive_the_groups_migration() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("m.db").display());
        let store = SqlStore::open(&url, &PoolSettings::default())
            .await
            .unwrap();
        check_rows_survive(&store).await;
        // Nothing dangles, and the indexes were made again.
        let dangling = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert!(dangling.is_empty());
        for index in [
            "lessons_class_date",
            "lessons_class_due",
            "lessons_group_due",
            "assignments_class",
            "assignments_group",
            "submissions_pupil",
        ] {
            let found =
                sqlx::query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = $1")
                    .bind(index)
                    .fetch_optional(&store.pool)
                    .await
                    .unwrap();
            assert!(found.is_some(), "index {index}");
        }
    }

    #[tokio::test]
    async fn postgres_rows_survive_the_groups_migration() {
        let Some(admin) = crate::testing::postgres_for_tests("the migration tests") else {
            return;
        };
        let url = crate::testing::fresh_postgres_database(&admin)
            .await
            .unwrap();
        let store = SqlStore::open(&url, &PoolSettings::default())
            .await
            .unwrap();
        check_rows_survive(&store).await;
        store.close().await;
        crate::testing::drop_postgres_database(&admin, &url)
            .await
            .unwrap();
    }
}
