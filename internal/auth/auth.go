// Package auth is who may use weaklink and what they may do: local users
// and their roles, the authorization table (Role.Can), argon2id password
// hashes, the secrets behind sessions and API tokens (shown once, stored as
// SHA-256 hashes), and the login rate limiter.
//
// It knows neither the database nor HTTP: the store keeps users, sessions
// and tokens; the service and the front doors decide when to check what.
// See docs/auth.md.
package auth

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// User is a person (or a machine, for gateway tokens) who may log in or
// hold API tokens.
type User struct {
	// Name is the login name and the user's id: lowercase, stable.
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Disabled bool   `json:"disabled"`
	// PasswordHash is the PHC string of the password's argon2id hash, ""
	// when the user cannot log in with a password. Never printed,
	// serialized or logged.
	PasswordHash string `json:"-"`
	// MustChangePassword says the password works once: weaklink generated
	// it, or an admin set it for this user. A session of the user may do
	// nothing but change it (and log out); API tokens are not affected.
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Session is a logged-in browser. Its secret (SessionPrefix) lives in the
// browser's cookie; the store keeps its hash.
type Session struct {
	// ID is the secret's first characters: enough to name the session in
	// listings and the audit log, far too few to use it.
	ID        string    `json:"id"`
	Hash      string    `json:"-"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	// LastSeen is the last request's time, for the idle timeout.
	LastSeen time.Time `json:"last_seen"`
	// ExpiresAt is the absolute end, whatever the activity.
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionPolicy bounds a session's life.
type SessionPolicy struct {
	// Idle ends a session this long after its last request (0: never).
	Idle time.Duration
	// Absolute ends it this long after login.
	Absolute time.Duration
}

// DefaultSessionPolicy: a working day of idleness (OWASP suggests short
// idle timeouts for sensitive applications; 30 minutes would make the
// incident room log people out mid-incident) and a week at most.
var DefaultSessionPolicy = SessionPolicy{Idle: 8 * time.Hour, Absolute: 7 * 24 * time.Hour}

// ErrSessionExpired means a session is past its idle or absolute limit.
var ErrSessionExpired = errors.New("session expired")

// Check returns ErrSessionExpired when the session has ended at now.
func (p SessionPolicy) Check(s Session, now time.Time) error {
	if !now.Before(s.ExpiresAt) {
		return ErrSessionExpired
	}
	if p.Idle > 0 && !now.Before(s.LastSeen.Add(p.Idle)) {
		return ErrSessionExpired
	}
	return nil
}

// Token is an API token: a user's credential for scripts, CI and gateways,
// limited to a role within the user's own.
type Token struct {
	// ID is the secret's first characters (TokenPrefix included).
	ID   string `json:"id"`
	Hash string `json:"-"`
	User string `json:"user"`
	// Name says what the token is for ("ci", "gateway eu-1").
	Name string `json:"name"`
	// Role is the token's scope: at most the user's role (Role.Within);
	// Allows takes the narrower of the two at each request.
	Role      Role       `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Active reports whether the token may be used at now.
func (t Token) Active(now time.Time) bool { return t.RevokedAt == nil && now.Before(t.ExpiresAt) }

// Status is "active", "expired" or "revoked".
func (t Token) Status(now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return "revoked"
	case !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "active"
}

// MaxTokenLifetime bounds an API token's life: tokens expire, and are
// rotated at least once a year.
const MaxTokenLifetime = 366 * 24 * time.Hour

// DefaultTokenLifetime is an API token's life when none is asked for.
const DefaultTokenLifetime = 90 * 24 * time.Hour

var userRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9._@+-]{0,62}[a-z0-9])?$`)

// NormalizeUsername lowercases a login name and checks it: 1–64 characters,
// letters, digits and . _ @ + - inside, so an email address is a valid name.
func NormalizeUsername(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !userRe.MatchString(n) {
		return "", fmt.Errorf("user name %q: use 1 to 64 lowercase letters, digits and . _ @ + - (not first or last)", name)
	}
	return n, nil
}
