-- The cahier de textes: what was done in each lesson and the homework given (SQLite).

CREATE TABLE lessons (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
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
    updated_at INTEGER NOT NULL
);
CREATE INDEX lessons_class_date ON lessons (school_id, class_id, lesson_date);
CREATE INDEX lessons_class_due ON lessons (school_id, class_id, due_date);

CREATE TABLE homework_done (
    lesson_id INTEGER NOT NULL REFERENCES lessons(id),
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    done_at INTEGER NOT NULL,
    PRIMARY KEY (lesson_id, pupil_id)
);
