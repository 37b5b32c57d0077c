-- Cartable foundation schema (SQLite). Every tenant-owned row carries its school_id.
-- Times are Unix seconds (INTEGER); flags are 0/1 INTEGERs.

CREATE TABLE schools (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    uai TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    school_id INTEGER REFERENCES schools(id),
    role TEXT NOT NULL,
    login TEXT NOT NULL UNIQUE,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    birth_date TEXT,
    email TEXT,
    subject TEXT,
    external_id TEXT,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_school_external ON users (school_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_school_role_name ON users (school_id, role, last_name, first_name);

CREATE TABLE classes (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    UNIQUE (school_id, name_key)
);

CREATE TABLE pupil_groups (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    UNIQUE (school_id, name_key)
);

CREATE TABLE enrolments (
    pupil_id INTEGER PRIMARY KEY REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    class_id INTEGER NOT NULL REFERENCES classes(id)
);
CREATE INDEX enrolments_class ON enrolments (school_id, class_id);

CREATE TABLE group_members (
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    group_id INTEGER NOT NULL REFERENCES pupil_groups(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    PRIMARY KEY (pupil_id, group_id)
);

CREATE TABLE parent_links (
    parent_id INTEGER NOT NULL REFERENCES users(id),
    child_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX parent_links_child ON parent_links (child_id);

CREATE TABLE teachings (
    teacher_id INTEGER NOT NULL REFERENCES users(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    head INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (teacher_id, class_id)
);
CREATE INDEX teachings_class ON teachings (school_id, class_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER REFERENCES schools(id),
    persistent INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    user_agent TEXT,
    ip TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE activation_codes (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    school_id INTEGER REFERENCES schools(id),
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    issued_by INTEGER
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    school_id INTEGER,
    actor_id INTEGER,
    action TEXT NOT NULL,
    target TEXT,
    ip TEXT,
    detail TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX audit_log_school_at ON audit_log (school_id, at);

CREATE TABLE import_drafts (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    kind TEXT,
    file_name TEXT NOT NULL,
    content BLOB NOT NULL
);
