-- A password that weaklink generated, or that an admin set for someone
-- else, works once: its user must choose their own before doing anything
-- else (docs/auth.md, "One-time passwords").

ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
