-- Messaging, school news and the liaison book (SQLite).

CREATE TABLE messaging_rules (
    school_id INTEGER PRIMARY KEY REFERENCES schools(id),
    pupils_to_teachers INTEGER NOT NULL,
    pupils_to_staff INTEGER NOT NULL,
    pupils_to_classmates INTEGER NOT NULL,
    parents_to_teachers INTEGER NOT NULL,
    parents_to_staff INTEGER NOT NULL,
    parents_to_parents INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    subject TEXT NOT NULL,
    -- Folded for search (ASCII, lower case): see names::search_key.
    subject_search TEXT NOT NULL DEFAULT '',
    author_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_message_id INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER NOT NULL,
    -- Broadcasts (to a class, to its parents): replies go to the author only.
    private_replies INTEGER NOT NULL DEFAULT 0,
    -- A private reply to a broadcast lives in its own thread, pointing here.
    reply_to_thread_id INTEGER REFERENCES threads(id),
    -- Stored once: counting the members of every listed thread made the
    -- inbox slow down as school-wide messages piled up.
    member_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX threads_reply_to ON threads (reply_to_thread_id);

CREATE TABLE thread_members (
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    last_read_message_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX thread_members_user ON thread_members (user_id, thread_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    body_search TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_thread ON messages (thread_id, id);
CREATE INDEX messages_author_time ON messages (author_id, created_at);

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    owner_kind TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    blob_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id);

CREATE TABLE news (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    audience TEXT NOT NULL,
    publish_from INTEGER NOT NULL,
    publish_until INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX news_school_from ON news (school_id, publish_from);

CREATE TABLE news_classes (
    news_id INTEGER NOT NULL REFERENCES news(id),
    class_id INTEGER NOT NULL REFERENCES classes(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    PRIMARY KEY (news_id, class_id)
);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    body_md TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reminded_at INTEGER
);
CREATE INDEX notes_school ON notes (school_id, created_at);

CREATE TABLE note_pupils (
    note_id INTEGER NOT NULL REFERENCES notes(id),
    pupil_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    PRIMARY KEY (note_id, pupil_id)
);
CREATE INDEX note_pupils_pupil ON note_pupils (pupil_id);

CREATE TABLE note_acks (
    note_id INTEGER NOT NULL REFERENCES notes(id),
    parent_id INTEGER NOT NULL REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    acked_at INTEGER NOT NULL,
    PRIMARY KEY (note_id, parent_id)
);
