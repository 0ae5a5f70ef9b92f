package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// Users, sessions and API tokens. Every change takes the audit head's
// lock first (authTx), so that the checks it makes (the last admin, a
// disabled user) see every change committed before it, and so that it
// locks in the same order as every other audited write: no deadlocks.
// Audit entries carry names, roles, flags, ids and times: never a
// password, a secret or a hash.

const (
	userCols    = `name, role, password_hash, disabled, must_change_password, created_at, updated_at`
	sessionCols = `id, hash, user_name, created_at, last_seen, expires_at`
	tokenCols   = `id, hash, user_name, name, role, created_at, expires_at, last_used, revoked_at`
)

// The audit renderings: what may be recorded.
type (
	userEntry struct {
		Name               string    `json:"name"`
		Role               auth.Role `json:"role"`
		Disabled           bool      `json:"disabled"`
		MustChangePassword bool      `json:"must_change_password"`
	}
	sessionEntry struct {
		User      string    `json:"user"`
		CreatedAt time.Time `json:"created_at"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	tokenEntry struct {
		User      string     `json:"user"`
		Name      string     `json:"name"`
		Role      auth.Role  `json:"role"`
		ExpiresAt time.Time  `json:"expires_at"`
		RevokedAt *time.Time `json:"revoked_at,omitempty"`
	}
)

// micro is a time as both databases keep it: UTC, to the microsecond.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func userAudit(u auth.User) userEntry {
	return userEntry{u.Name, u.Role, u.Disabled, u.MustChangePassword}
}

func tokenAudit(t auth.Token) tokenEntry {
	return tokenEntry{t.User, t.Name, t.Role, t.ExpiresAt, t.RevokedAt}
}

func (s *DB) authTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.inTx(ctx, nil, func(tx *sql.Tx) error {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`+s.d.LockRow).Scan(&seq); err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		return fn(tx)
	})
}

func scanUser(r scanner) (auth.User, error) {
	var u auth.User
	var role string
	err := r.Scan(&u.Name, &role, &u.PasswordHash, &u.Disabled, &u.MustChangePassword, timeDest{&u.CreatedAt}, timeDest{&u.UpdatedAt})
	u.Role = auth.Role(role)
	return u, err
}

func (s *DB) getUser(ctx context.Context, q querier, name string) (auth.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, s.q(`SELECT `+userCols+` FROM users WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", name)
	}
	return u, err
}

// CreateUser stores a new user.
func (s *DB) CreateUser(ctx context.Context, u auth.User) (auth.User, error) {
	if !u.Role.Valid() {
		return auth.User{}, fmt.Errorf("user %s: unknown role %q", u.Name, u.Role)
	}
	now := micro(s.now())
	u.CreatedAt, u.UpdatedAt = now, now
	err := s.authTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			u.Name, string(u.Role), u.PasswordHash, u.Disabled, u.MustChangePassword, s.timeArg(u.CreatedAt), s.timeArg(u.UpdatedAt)); err != nil {
			if s.d.Conflict != nil && s.d.Conflict(err) {
				return fmt.Errorf("user %s exists: %w", u.Name, store.ErrConflict)
			}
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "create", Object: "user:" + u.Name, After: auditJSON(userAudit(u))}})
	})
	if err != nil {
		return auth.User{}, err
	}
	return u, nil
}

// GetUser reads one user.
func (s *DB) GetUser(ctx context.Context, name string) (auth.User, error) {
	return s.getUser(ctx, s.db, name)
}

// ListUsers returns every user in name order.
func (s *DB) ListUsers(ctx context.Context) ([]auth.User, error) {
	return list(ctx, s.db, scanUser, `SELECT `+userCols+` FROM users ORDER BY name`)
}

func enabledAdmin(u auth.User) bool { return u.Role == auth.RoleAdmin && !u.Disabled }

// keepAnAdmin refuses a change that takes away the last enabled admin.
func (s *DB) keepAnAdmin(ctx context.Context, tx *sql.Tx, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM users WHERE role = ? AND disabled = ? AND name <> ?`),
		string(auth.RoleAdmin), false, name).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("user %s is the last enabled admin: make another admin first: %w", name, store.ErrConflict)
	}
	return nil
}

// UpdateUser changes a user's role, password hash, disabled flag or
// one-time password flag.
func (s *DB) UpdateUser(ctx context.Context, name string, up store.UserUpdate) (auth.User, error) {
	var after auth.User
	err := s.authTx(ctx, func(tx *sql.Tx) error {
		before, err := s.getUser(ctx, tx, name)
		if err != nil {
			return err
		}
		after = before
		old, changed := map[string]any{}, map[string]any{}
		if up.Role != nil && *up.Role != before.Role {
			if !up.Role.Valid() {
				return fmt.Errorf("user %s: unknown role %q", name, *up.Role)
			}
			after.Role = *up.Role
			old["role"], changed["role"] = before.Role, after.Role
		}
		if up.Disabled != nil && *up.Disabled != before.Disabled {
			after.Disabled = *up.Disabled
			old["disabled"], changed["disabled"] = before.Disabled, after.Disabled
		}
		if up.PasswordHash != nil {
			after.PasswordHash = *up.PasswordHash
			changed["password"] = "changed"
			if up.Rehash {
				changed["password"] = "rehashed"
			}
		}
		if up.MustChangePassword != nil && *up.MustChangePassword != before.MustChangePassword {
			after.MustChangePassword = *up.MustChangePassword
			old["must_change_password"], changed["must_change_password"] = before.MustChangePassword, after.MustChangePassword
		}
		if len(changed) == 0 {
			return nil
		}
		if enabledAdmin(before) && !enabledAdmin(after) {
			if err := s.keepAnAdmin(ctx, tx, name); err != nil {
				return err
			}
		}
		after.UpdatedAt = micro(s.now())
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE users SET role = ?, password_hash = ?, disabled = ?, must_change_password = ?, updated_at = ? WHERE name = ?`),
			string(after.Role), after.PasswordHash, after.Disabled, after.MustChangePassword, s.timeArg(after.UpdatedAt), name); err != nil {
			return err
		}
		entries := []audit.Entry{{Action: "update", Object: "user:" + name, Before: auditJSON(old), After: auditJSON(changed)}}
		if (after.Disabled && !before.Disabled) || (up.PasswordHash != nil && !up.Rehash) {
			ended, err := s.deleteSessions(ctx, tx, "delete", `user_name = ?`, name)
			if err != nil {
				return err
			}
			entries = append(entries, ended...)
		}
		return s.appendAudit(ctx, tx, entries)
	})
	if err != nil {
		return auth.User{}, err
	}
	return after, nil
}

// DeleteUser deletes a user and its sessions, and revokes its tokens.
func (s *DB) DeleteUser(ctx context.Context, name string) error {
	return s.authTx(ctx, func(tx *sql.Tx) error {
		u, err := s.getUser(ctx, tx, name)
		if err != nil {
			return err
		}
		if enabledAdmin(u) {
			if err := s.keepAnAdmin(ctx, tx, name); err != nil {
				return err
			}
		}
		entries, err := s.deleteSessions(ctx, tx, "delete", `user_name = ?`, name)
		if err != nil {
			return err
		}
		tokens, err := list(ctx, tx, scanToken, s.q(`SELECT `+tokenCols+` FROM api_tokens WHERE user_name = ? AND revoked_at IS NULL ORDER BY created_at, id`), name)
		if err != nil {
			return err
		}
		now := micro(s.now())
		for _, t := range tokens {
			t.RevokedAt = &now
			entries = append(entries, audit.Entry{Action: "revoke", Object: "token:" + t.ID, After: auditJSON(tokenAudit(t))})
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE api_tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL`), s.timeArg(now), name); err != nil {
			return err
		}
		unlinked, err := s.unlinkIdentities(ctx, tx, `user_name = ?`, name) // identity.go
		if err != nil {
			return err
		}
		entries = append(entries, unlinked...)
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM users WHERE name = ?`), name); err != nil {
			return err
		}
		entries = append(entries, audit.Entry{Action: "delete", Object: "user:" + name, Before: auditJSON(userAudit(u))})
		return s.appendAudit(ctx, tx, entries)
	})
}

// ---- sessions

func scanSession(r scanner) (auth.Session, error) {
	var x auth.Session
	err := r.Scan(&x.ID, &x.Hash, &x.User, timeDest{&x.CreatedAt}, timeDest{&x.LastSeen}, timeDest{&x.ExpiresAt})
	return x, err
}

// usable checks, in a change's transaction, that a user exists and is
// enabled, before a session or token is made for it.
func (s *DB) usable(ctx context.Context, tx *sql.Tx, name string) error {
	u, err := s.getUser(ctx, tx, name)
	if err != nil {
		return err
	}
	if u.Disabled {
		return fmt.Errorf("user %s is disabled: %w", name, store.ErrConflict)
	}
	return nil
}

// CreateSession stores a session. A zero CreatedAt is now, a zero
// LastSeen CreatedAt.
func (s *DB) CreateSession(ctx context.Context, x auth.Session) error {
	if x.CreatedAt.IsZero() {
		x.CreatedAt = s.now()
	}
	if x.LastSeen.IsZero() {
		x.LastSeen = x.CreatedAt
	}
	x.CreatedAt, x.ExpiresAt = micro(x.CreatedAt), micro(x.ExpiresAt)
	return s.authTx(ctx, func(tx *sql.Tx) error {
		if err := s.usable(ctx, tx, x.User); err != nil {
			return err
		}
		entry, err := s.insertSession(ctx, tx, x) // password.go
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{entry})
	})
}

// GetSession finds an unexpired session by its secret's hash.
func (s *DB) GetSession(ctx context.Context, hash string) (auth.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, s.q(`SELECT `+sessionCols+` FROM sessions WHERE hash = ? AND expires_at > ?`),
		hash, s.timeArg(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("session: %w", store.ErrNotFound) // the hash is no one's business
	}
	return x, err
}

// TouchSession moves a session's last_seen forward.
func (s *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE sessions SET last_seen = `+s.d.Greatest+`(last_seen, ?) WHERE id = ?`), s.timeArg(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("session", id)
	}
	return nil
}

// DeleteSession ends one session.
func (s *DB) DeleteSession(ctx context.Context, id string) error {
	return s.authTx(ctx, func(tx *sql.Tx) error {
		entries, err := s.deleteSessions(ctx, tx, "delete", `id = ?`, id)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return notFound("session", id)
		}
		return s.appendAudit(ctx, tx, entries)
	})
}

// DeleteUserSessions ends every session of a user.
func (s *DB) DeleteUserSessions(ctx context.Context, user string) (int, error) {
	var n int
	err := s.authTx(ctx, func(tx *sql.Tx) error {
		entries, err := s.deleteSessions(ctx, tx, "delete", `user_name = ?`, user)
		n = len(entries)
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, entries)
	})
	return n, err
}

// DeleteExpiredSessions removes sessions past their absolute expiry.
func (s *DB) DeleteExpiredSessions(ctx context.Context) (int, error) {
	var n int
	err := s.authTx(ctx, func(tx *sql.Tx) error {
		entries, err := s.deleteSessions(ctx, tx, "expire", `expires_at <= ?`, s.timeArg(s.now()))
		n = len(entries)
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, entries)
	})
	return n, err
}

// deleteSessions deletes the sessions matching cond and returns one audit
// entry for each.
func (s *DB) deleteSessions(ctx context.Context, tx *sql.Tx, action, cond string, args ...any) ([]audit.Entry, error) {
	gone, err := list(ctx, tx, scanSession, s.q(`SELECT `+sessionCols+` FROM sessions WHERE `+cond+` ORDER BY id`), args...)
	if err != nil || len(gone) == 0 {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE `+cond), args...); err != nil {
		return nil, err
	}
	entries := make([]audit.Entry, len(gone))
	for i, x := range gone {
		entries[i] = audit.Entry{Action: action, Object: "session:" + x.ID, Before: auditJSON(sessionEntry{x.User, x.CreatedAt, x.ExpiresAt})}
	}
	return entries, nil
}

// ---- API tokens

func scanToken(r scanner) (auth.Token, error) {
	var t auth.Token
	var role string
	err := r.Scan(&t.ID, &t.Hash, &t.User, &t.Name, &role, timeDest{&t.CreatedAt}, timeDest{&t.ExpiresAt},
		nullTimeDest{&t.LastUsed}, nullTimeDest{&t.RevokedAt})
	t.Role = auth.Role(role)
	return t, err
}

// CreateToken stores an API token. A zero CreatedAt is now.
func (s *DB) CreateToken(ctx context.Context, t auth.Token) error {
	if !t.Role.Valid() {
		return fmt.Errorf("token %s: unknown role %q", t.ID, t.Role)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt, t.ExpiresAt = micro(t.CreatedAt), micro(t.ExpiresAt)
	return s.authTx(ctx, func(tx *sql.Tx) error {
		if err := s.usable(ctx, tx, t.User); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO api_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.Hash, t.User, t.Name, string(t.Role), s.timeArg(t.CreatedAt), s.timeArg(t.ExpiresAt),
			s.nullTimeArg(t.LastUsed), s.nullTimeArg(t.RevokedAt)); err != nil {
			if s.d.Conflict != nil && s.d.Conflict(err) {
				return fmt.Errorf("token %s exists: %w", t.ID, store.ErrConflict)
			}
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "create", Object: "token:" + t.ID, After: auditJSON(tokenAudit(t))}})
	})
}

// GetToken finds an active token by its secret's hash.
func (s *DB) GetToken(ctx context.Context, hash string) (auth.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenCols+` FROM api_tokens
		WHERE hash = ? AND revoked_at IS NULL AND expires_at > ?`), hash, s.timeArg(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("API token: %w", store.ErrNotFound)
	}
	return t, err
}

// ListTokens returns the tokens of one user, or all, oldest first.
func (s *DB) ListTokens(ctx context.Context, user string) ([]auth.Token, error) {
	if user == "" {
		return list(ctx, s.db, scanToken, `SELECT `+tokenCols+` FROM api_tokens ORDER BY created_at, id`)
	}
	return list(ctx, s.db, scanToken, s.q(`SELECT `+tokenCols+` FROM api_tokens WHERE user_name = ? ORDER BY created_at, id`), user)
}

// RevokeToken revokes a token by id.
func (s *DB) RevokeToken(ctx context.Context, id string) error {
	return s.authTx(ctx, func(tx *sql.Tx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, s.q(`SELECT `+tokenCols+` FROM api_tokens WHERE id = ? AND revoked_at IS NULL`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("active API token", id)
		}
		if err != nil {
			return err
		}
		now := micro(s.now())
		t.RevokedAt = &now
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`), s.timeArg(now), id); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "revoke", Object: "token:" + id, After: auditJSON(tokenAudit(t))}})
	})
}

// TouchToken moves a token's last_used forward.
func (s *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE api_tokens SET last_used = `+s.d.Greatest+`(COALESCE(last_used, ?), ?) WHERE id = ?`),
		s.timeArg(at), s.timeArg(at), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("API token", id)
	}
	return nil
}
