-- Single sign-on identities (docs/auth.md, "Single sign-on (OIDC)"): an
-- account at an identity provider, named by the provider's issuer and its
-- subject (the sub claim, which the provider never reassigns), bound to
-- the local user it signs in as. One user per identity, and one identity
-- per user at each issuer.

CREATE TABLE user_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (issuer, subject),
    UNIQUE (issuer, user_name)
);
CREATE INDEX user_identities_user ON user_identities (user_name);
