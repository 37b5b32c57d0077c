-- Devoirs à rendre: assignments, hand-ins (every version kept), feedback (SQLite).

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    subject TEXT NOT NULL,
    title TEXT NOT NULL,
    instructions_md TEXT NOT NULL,
    instructions_html TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    accepts_files INTEGER NOT NULL,
    accepts_text INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX assignments_class ON assignments (school_id, class_id, due_at);

-- One row per hand-in; a pupil's latest row is their current work, the
-- earlier ones are kept (a receipt once shown stays true).
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    assignment_id INTEGER NOT NULL REFERENCES assignments(id),
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
CREATE INDEX submissions_pupil ON submissions (assignment_id, pupil_id, id);

CREATE TABLE assignment_feedback (
    assignment_id INTEGER NOT NULL REFERENCES assignments(id),
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    feedback_md TEXT NOT NULL,
    feedback_html TEXT NOT NULL,
    mark TEXT,
    returned_at INTEGER NOT NULL,
    PRIMARY KEY (assignment_id, pupil_id)
);
