-- Private calendar feeds (iCalendar) of homework due dates; only the token's hash is kept (SQLite).
CREATE TABLE calendar_feeds (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    school_id INTEGER NOT NULL REFERENCES schools(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
