-- Documents: a class's shared folders and each person's own space (SQLite).
-- Files are rows of `attachments` with owner_kind = 'folder'.
CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    -- Exactly one of class_id (a class's space) and owner_id (a personal space).
    class_id INTEGER REFERENCES classes(id),
    owner_id INTEGER REFERENCES users(id),
    parent_id INTEGER REFERENCES folders(id),
    name TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX folders_class ON folders (school_id, class_id, parent_id);
CREATE INDEX folders_owner ON folders (owner_id, parent_id);
