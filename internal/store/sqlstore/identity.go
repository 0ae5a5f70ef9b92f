package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/store"
)

// Single sign-on identities: an account at a provider (issuer, subject)
// bound to a local user. Links and unlinks are audited on the user, with
// the issuer and subject: identifiers, never a token.

const identityCols = `issuer, subject, user_name, created_at`

type identityEntry struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

func scanIdentity(r scanner) (store.Identity, error) {
	var id store.Identity
	err := r.Scan(&id.Issuer, &id.Subject, &id.User, timeDest{&id.CreatedAt})
	return id, err
}

func (s *DB) getIdentity(ctx context.Context, q querier, issuer, subject string) (store.Identity, error) {
	id, err := scanIdentity(q.QueryRowContext(ctx, s.q(`SELECT `+identityCols+` FROM user_identities WHERE issuer = ? AND subject = ?`), issuer, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return id, fmt.Errorf("identity %q at %q: %w", subject, issuer, store.ErrNotFound)
	}
	return id, err
}

// LinkIdentity binds an identity to its user. A zero CreatedAt is now.
func (s *DB) LinkIdentity(ctx context.Context, id store.Identity) (store.Identity, error) {
	if id.Issuer == "" || id.Subject == "" {
		return store.Identity{}, errors.New("identity: issuer and subject are required")
	}
	if id.CreatedAt.IsZero() {
		id.CreatedAt = s.now()
	}
	id.CreatedAt = micro(id.CreatedAt)
	err := s.authTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getUser(ctx, tx, id.User); err != nil {
			return err
		}
		if other, err := s.getIdentity(ctx, tx, id.Issuer, id.Subject); err == nil {
			return fmt.Errorf("identity %q at %q is linked to user %s already: %w", id.Subject, id.Issuer, other.User, store.ErrConflict)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM user_identities WHERE issuer = ? AND user_name = ?`), id.Issuer, id.User).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("user %s is linked to another identity at %q: %w", id.User, id.Issuer, store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO user_identities (`+identityCols+`) VALUES (?, ?, ?, ?)`),
			id.Issuer, id.Subject, id.User, s.timeArg(id.CreatedAt)); err != nil {
			if s.d.Conflict != nil && s.d.Conflict(err) {
				return fmt.Errorf("identity %q at %q: %w", id.Subject, id.Issuer, store.ErrConflict)
			}
			return err
		}
		return s.appendAudit(ctx, tx, []audit.Entry{{Action: "link", Object: "user:" + id.User, After: auditJSON(identityEntry{id.Issuer, id.Subject})}})
	})
	if err != nil {
		return store.Identity{}, err
	}
	return id, nil
}

// GetIdentity finds the link of an identity.
func (s *DB) GetIdentity(ctx context.Context, issuer, subject string) (store.Identity, error) {
	return s.getIdentity(ctx, s.db, issuer, subject)
}

// UserIdentities lists a user's links by issuer.
func (s *DB) UserIdentities(ctx context.Context, user string) ([]store.Identity, error) {
	return list(ctx, s.db, scanIdentity, s.q(`SELECT `+identityCols+` FROM user_identities WHERE user_name = ? ORDER BY issuer`), user)
}

// UnlinkIdentity removes a user's link at an issuer.
func (s *DB) UnlinkIdentity(ctx context.Context, user, issuer string) error {
	return s.authTx(ctx, func(tx *sql.Tx) error {
		entries, err := s.unlinkIdentities(ctx, tx, `user_name = ? AND issuer = ?`, user, issuer)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return fmt.Errorf("user %s has no identity at %q: %w", user, issuer, store.ErrNotFound)
		}
		return s.appendAudit(ctx, tx, entries)
	})
}

// unlinkIdentities deletes the links matching cond and returns one audit
// entry for each.
func (s *DB) unlinkIdentities(ctx context.Context, tx *sql.Tx, cond string, args ...any) ([]audit.Entry, error) {
	gone, err := list(ctx, tx, scanIdentity, s.q(`SELECT `+identityCols+` FROM user_identities WHERE `+cond+` ORDER BY issuer, subject`), args...)
	if err != nil || len(gone) == 0 {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM user_identities WHERE `+cond), args...); err != nil {
		return nil, err
	}
	entries := make([]audit.Entry, len(gone))
	for i, id := range gone {
		entries[i] = audit.Entry{Action: "unlink", Object: "user:" + id.User, Before: auditJSON(identityEntry{id.Issuer, id.Subject})}
	}
	return entries, nil
}
