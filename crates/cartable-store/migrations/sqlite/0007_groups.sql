-- Groups (Latin, a language group, a half-class): who teaches them, and
-- lessons and assignments for a group instead of a whole class (SQLite).

CREATE TABLE teacher_groups (
    teacher_id INTEGER NOT NULL REFERENCES users(id),
    group_id INTEGER NOT NULL REFERENCES pupil_groups(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    PRIMARY KEY (teacher_id, group_id)
);
CREATE INDEX teacher_groups_group ON teacher_groups (school_id, group_id);
-- A group's members (hand-in lists, workload): the primary key leads with the pupil.
CREATE INDEX group_members_group ON group_members (school_id, group_id);

-- A lesson or an assignment is for exactly one class or one group. SQLite
-- cannot relax NOT NULL in place: the tables are rebuilt, rows and ids kept.
-- The migration runs in one transaction with foreign keys on, so a table
-- still referenced cannot be dropped: each child table is rebuilt too,
-- pointing at the new parent, and dropped before its parent. Renaming the
-- new parent then rewrites the children's references to the usual name.

CREATE TABLE lessons_new (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER REFERENCES classes(id),
    group_id INTEGER REFERENCES pupil_groups(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    subject TEXT NOT NULL,
    -- ISO dates (YYYY-MM-DD), Paris calendar days.
    lesson_date TEXT NOT NULL,
    content_md TEXT NOT NULL,
    content_html TEXT NOT NULL,
    homework_md TEXT NOT NULL,
    homework_html TEXT NOT NULL,
    due_date TEXT,
    workload_minutes INTEGER,
    -- A test (évaluation) announced for the due date: weighs in the workload view.
    is_test INTEGER NOT NULL DEFAULT 0,
    publish_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((class_id IS NULL) <> (group_id IS NULL))
);
INSERT INTO lessons_new (id, school_id, class_id, group_id, author_id, subject, lesson_date, content_md,
    content_html, homework_md, homework_html, due_date, workload_minutes, is_test, publish_at, created_at, updated_at)
SELECT id, school_id, class_id, NULL, author_id, subject, lesson_date, content_md,
    content_html, homework_md, homework_html, due_date, workload_minutes, is_test, publish_at, created_at, updated_at
FROM lessons;

CREATE TABLE homework_done_new (
    lesson_id INTEGER NOT NULL REFERENCES lessons_new(id),
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    done_at INTEGER NOT NULL,
    PRIMARY KEY (lesson_id, pupil_id)
);
INSERT INTO homework_done_new (lesson_id, pupil_id, school_id, done_at)
SELECT lesson_id, pupil_id, school_id, done_at FROM homework_done;

DROP TABLE homework_done;
DROP TABLE lessons;
ALTER TABLE lessons_new RENAME TO lessons;
ALTER TABLE homework_done_new RENAME TO homework_done;
CREATE INDEX lessons_class_date ON lessons (school_id, class_id, lesson_date);
CREATE INDEX lessons_class_due ON lessons (school_id, class_id, due_date);
CREATE INDEX lessons_group_date ON lessons (school_id, group_id, lesson_date);
CREATE INDEX lessons_group_due ON lessons (school_id, group_id, due_date);

CREATE TABLE assignments_new (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER REFERENCES classes(id),
    group_id INTEGER REFERENCES pupil_groups(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    subject TEXT NOT NULL,
    title TEXT NOT NULL,
    instructions_md TEXT NOT NULL,
    instructions_html TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    accepts_files INTEGER NOT NULL,
    accepts_text INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK ((class_id IS NULL) <> (group_id IS NULL))
);
INSERT INTO assignments_new (id, school_id, class_id, group_id, author_id, subject, title, instructions_md,
    instructions_html, due_at, accepts_files, accepts_text, created_at)
SELECT id, school_id, class_id, NULL, author_id, subject, title, instructions_md,
    instructions_html, due_at, accepts_files, accepts_text, created_at
FROM assignments;

-- One row per hand-in; a pupil's latest row is their current work, the
-- earlier ones are kept (a receipt once shown stays true).
CREATE TABLE submissions_new (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    assignment_id INTEGER NOT NULL REFERENCES assignments_new(id),
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    text_md TEXT NOT NULL,
    text_html TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    late INTEGER NOT NULL,
    -- The form's idempotency key: a retried hand-in returns the first receipt.
    idempotency_key TEXT NOT NULL,
    UNIQUE (assignment_id, pupil_id, idempotency_key)
);
INSERT INTO submissions_new (id, school_id, assignment_id, pupil_id, text_md, text_html, text_sha256,
    submitted_at, late, idempotency_key)
SELECT id, school_id, assignment_id, pupil_id, text_md, text_html, text_sha256,
    submitted_at, late, idempotency_key
FROM submissions;

CREATE TABLE assignment_feedback_new (
    assignment_id INTEGER NOT NULL REFERENCES assignments_new(id),
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    feedback_md TEXT NOT NULL,
    feedback_html TEXT NOT NULL,
    mark TEXT,
    returned_at INTEGER NOT NULL,
    PRIMARY KEY (assignment_id, pupil_id)
);
INSERT INTO assignment_feedback_new (assignment_id, pupil_id, school_id, feedback_md, feedback_html, mark, returned_at)
SELECT assignment_id, pupil_id, school_id, feedback_md, feedback_html, mark, returned_at
FROM assignment_feedback;

DROP TABLE assignment_feedback;
DROP TABLE submissions;
DROP TABLE assignments;
ALTER TABLE assignments_new RENAME TO assignments;
ALTER TABLE submissions_new RENAME TO submissions;
ALTER TABLE assignment_feedback_new RENAME TO assignment_feedback;
CREATE INDEX assignments_class ON assignments (school_id, class_id, due_at);
CREATE INDEX assignments_group ON assignments (school_id, group_id, due_at);
CREATE INDEX submissions_pupil ON submissions (assignment_id, pupil_id, id);
