-- Private calendar feeds (iCalendar) of homework due dates; only the token's hash is kept (PostgreSQL).
CREATE TABLE calendar_feeds (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    school_id BIGINT NOT NULL REFERENCES schools(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
