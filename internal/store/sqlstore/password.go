package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// ChangePassword is a user's own password change as one transaction: a
// compare-and-swap on the password hash, the one-time flag cleared, every
// session ended and the new one created. An admin's reset that lands
// between the check of the current password and this write makes it fail
// with ErrConflict rather than be overwritten.
func (s *DB) ChangePassword(ctx context.Context, name, oldHash, newHash string, x auth.Session) (auth.User, error) {
	if oldHash == "" || newHash == "" {
		return auth.User{}, fmt.Errorf("user %s: a password change needs the current and the new hash", name)
	}
	if x.CreatedAt.IsZero() {
		x.CreatedAt = s.now()
	}
	if x.LastSeen.IsZero() {
		x.LastSeen = x.CreatedAt
	}
	x.User = name
	x.CreatedAt, x.ExpiresAt = micro(x.CreatedAt), micro(x.ExpiresAt)
	var after auth.User
	err := s.authTx(ctx, func(tx *sql.Tx) error {
		before, err := s.getUser(ctx, tx, name)
		if err != nil {
			return err
		}
		if before.Disabled {
			return fmt.Errorf("user %s is disabled: %w", name, store.ErrConflict)
		}
		if before.PasswordHash != oldHash {
			return fmt.Errorf("the password of user %s changed since it was checked: %w", name, store.ErrConflict)
		}
		after = before
		after.PasswordHash, after.MustChangePassword, after.UpdatedAt = newHash, false, micro(s.now())
		res, err := tx.ExecContext(ctx, s.q(`UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE name = ? AND password_hash = ?`),
			after.PasswordHash, false, s.timeArg(after.UpdatedAt), name, oldHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("the password of user %s changed since it was checked: %w", name, store.ErrConflict)
		}
		old, changed := map[string]any{}, map[string]any{"password": "changed"}
		if before.MustChangePassword {
			old["must_change_password"], changed["must_change_password"] = true, false
		}
		entries := []audit.Entry{{Action: "update", Object: "user:" + name, Before: auditJSON(old), After: auditJSON(changed)}}
		ended, err := s.deleteSessions(ctx, tx, "delete", `user_name = ?`, name)
		if err != nil {
			return err
		}
		entries = append(entries, ended...)
		created, err := s.insertSession(ctx, tx, x)
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, append(entries, created))
	})
	if err != nil {
		return auth.User{}, err
	}
	return after, nil
}

// insertSession stores a session in a change's transaction and returns
// its audit entry.
func (s *DB) insertSession(ctx context.Context, tx *sql.Tx, x auth.Session) (audit.Entry, error) {
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		x.ID, x.Hash, x.User, s.timeArg(x.CreatedAt), s.timeArg(x.LastSeen), s.timeArg(x.ExpiresAt)); err != nil {
		if s.d.Conflict != nil && s.d.Conflict(err) {
			return audit.Entry{}, fmt.Errorf("session %s exists: %w", x.ID, store.ErrConflict)
		}
		return audit.Entry{}, err
	}
	return audit.Entry{Action: "create", Object: "session:" + x.ID, After: auditJSON(sessionEntry{x.User, x.CreatedAt, x.ExpiresAt})}, nil
}
