-- Users, their browser sessions and their API tokens. Secrets are never
-- stored: sessions and tokens keep the SHA-256 of theirs, users the
-- argon2id hash of their password.

CREATE TABLE users (
    name          TEXT COLLATE "C" PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- A session goes with its user.
CREATE TABLE sessions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    hash       TEXT COLLATE "C" NOT NULL UNIQUE,
    user_name  TEXT COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- A token outlives its user, revoked, as a record of what it was: no
-- foreign key.
CREATE TABLE api_tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    hash       TEXT COLLATE "C" NOT NULL UNIQUE,
    user_name  TEXT COLLATE "C" NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    last_used  TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_name, created_at);
