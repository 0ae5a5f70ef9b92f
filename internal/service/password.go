package service

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/text/unicode/norm"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// One-time passwords. A password that weaklink generated, or that an admin
// set for a user, works once: the user (auth.User.MustChangePassword) may
// do nothing with a session but choose their own (Logins.ChangePassword).
// An admin who chose the password may say it need not be changed
// (AdminPassword.NoChangeRequired); a generated one is always one-time.

// AdminPassword is a password an admin gives a user.
type AdminPassword struct {
	// Password is the chosen password; "" generates one, returned once.
	Password string
	// NoChangeRequired lets a chosen password stay after the first login.
	// A generated password is always one-time.
	NoChangeRequired bool
}

// ErrWrongPassword refuses a password change whose current password is
// wrong. It is ErrInvalid.
var ErrWrongPassword error = invalidError("the current password is wrong")

// ErrSamePassword refuses a password change to the current password. It
// is ErrInvalid.
var ErrSamePassword error = invalidError("the new password is the current one: choose another")

// mustChange says whether a password an admin gives is one-time.
func (p AdminPassword) mustChange() (bool, error) {
	if p.Password == "" && p.NoChangeRequired {
		return false, invalid("a generated password is always one-time: to set one that need not be changed, give it")
	}
	return !p.NoChangeRequired, nil
}

// AddUserWith creates a user with a password an admin gives or weaklink
// generates (returned once), one-time unless p says otherwise.
func (s *Service) AddUserWith(ctx context.Context, name string, role auth.Role, p AdminPassword) (u auth.User, generated string, err error) {
	if name, err = userName(name); err != nil {
		return auth.User{}, "", err
	}
	if !role.Valid() {
		return auth.User{}, "", badRole(role)
	}
	once, err := p.mustChange()
	if err != nil {
		return auth.User{}, "", err
	}
	hash, generated, err := newPassword(name, p.Password)
	if err != nil {
		return auth.User{}, "", err
	}
	u, err = s.Store.CreateUser(ctx, auth.User{Name: name, Role: role, PasswordHash: hash, MustChangePassword: once})
	if err != nil {
		return auth.User{}, "", err
	}
	return u, generated, nil
}

// SetPasswordWith sets a user's password as an admin does, ending its
// sessions: one-time unless p says otherwise. Without a password it
// generates one and returns it.
func (s *Service) SetPasswordWith(ctx context.Context, name string, p AdminPassword) (u auth.User, generated string, err error) {
	if name, err = userName(name); err != nil {
		return auth.User{}, "", err
	}
	once, err := p.mustChange()
	if err != nil {
		return auth.User{}, "", err
	}
	if _, err := s.Store.GetUser(ctx, name); err != nil {
		return auth.User{}, "", err
	}
	hash, generated, err := newPassword(name, p.Password)
	if err != nil {
		return auth.User{}, "", err
	}
	u, err = s.Store.UpdateUser(ctx, name, store.UserUpdate{PasswordHash: &hash, MustChangePassword: &once})
	if err != nil {
		return auth.User{}, "", err
	}
	return u, generated, nil
}

// RequirePasswordChange makes a user's password one-time without changing
// it: the user's sessions may do nothing else until they choose a new one.
func (s *Service) RequirePasswordChange(ctx context.Context, name string) (auth.User, error) {
	name, err := userName(name)
	if err != nil {
		return auth.User{}, err
	}
	u, err := s.Store.GetUser(ctx, name)
	if err != nil {
		return auth.User{}, err
	}
	if u.PasswordHash == "" {
		return auth.User{}, ErrNoPasswordToChange(name)
	}
	yes := true
	return s.Store.UpdateUser(ctx, name, store.UserUpdate{MustChangePassword: &yes})
}

// ErrNoPasswordToChange refuses a forced password change for a user
// without a password (one that signs in by single sign-on): its sessions
// could do nothing but look at a form with no password to change. It is
// ErrInvalid.
func ErrNoPasswordToChange(name string) error {
	return invalid("user %s has no password (it signs in by single sign-on), so there is none to change: "+
		"to give it one, set a password (weaklink users passwd, or PATCH with a password), which is one-time unless said otherwise", name)
}

// ErrPasswordChanged refuses a password change when the stored password
// changed between the check of the current one and the write (an admin
// set a new one meanwhile, or the user was disabled). Nothing changed. It
// is store.ErrConflict.
var ErrPasswordChanged = fmt.Errorf("your password was changed, or your user disabled, while this change was made: nothing was changed; log in again: %w", store.ErrConflict)

// ChangePassword is a user changing their own password, from client (its
// IP address): the current one must be right (under the login rate limit,
// which the attempt counts against as a login does), the new one must pass
// auth.CheckPassword and differ from it. The change clears the one-time
// flag and ends every session of the user; the returned session replaces
// the one the change was made from, its secret to go in the cookie.
//
// Refusals, checked in this order and changing nothing: ErrSamePassword, a
// weak new password (auth.ErrWeakPassword), RateLimitedError,
// ErrWrongPassword; and, when the stored password changed after it was
// checked (store.ChangePassword's compare-and-swap), ErrPasswordChanged.
func (l *Logins) ChangePassword(ctx context.Context, name, current, newPassword, client string) (auth.User, auth.Session, auth.Secret, error) {
	if l.Limiter == nil {
		return auth.User{}, auth.Session{}, auth.Secret{}, errors.New("password changes without a rate limiter: use NewLogins")
	}
	name, err := userName(name)
	if err != nil {
		return auth.User{}, auth.Session{}, auth.Secret{}, err
	}
	u, err := l.Store.GetUser(ctx, name)
	if err != nil {
		return auth.User{}, auth.Session{}, auth.Secret{}, err
	}
	if u.PasswordHash == "" {
		return auth.User{}, auth.Session{}, auth.Secret{}, invalid("user %s has no password to change: an admin can set one with weaklink users passwd", name)
	}
	if norm.NFKC.String(current) == norm.NFKC.String(newPassword) {
		return auth.User{}, auth.Session{}, auth.Secret{}, ErrSamePassword
	}
	if err := auth.CheckPassword(newPassword, name); err != nil {
		return auth.User{}, auth.Session{}, auth.Secret{}, err
	}
	if ok, retry := l.Limiter.Attempt(name, client); !ok {
		return auth.User{}, auth.Session{}, auth.Secret{}, &RateLimitedError{retry}
	}
	ok, _, err := auth.VerifyPassword(u.PasswordHash, current)
	if err != nil {
		return auth.User{}, auth.Session{}, auth.Secret{}, fmt.Errorf("user %s: stored password hash: %w", u.Name, err)
	}
	if !ok {
		return auth.User{}, auth.Session{}, auth.Secret{}, ErrWrongPassword
	}
	l.Limiter.Success(name, client)
	hash, err := auth.HashPassword(newPassword)
	if err != nil {
		return auth.User{}, auth.Session{}, auth.Secret{}, err
	}
	// One transaction, conditional on the hash just verified: an admin's
	// reset meanwhile is not overwritten, and a failure leaves nothing
	// half done.
	ctx = audit.WithActor(ctx, "user:"+u.Name)
	x, sec := l.newSession(u.Name)
	if u, err = l.Store.ChangePassword(ctx, u.Name, u.PasswordHash, hash, x); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return auth.User{}, auth.Session{}, auth.Secret{}, ErrPasswordChanged
		}
		return auth.User{}, auth.Session{}, auth.Secret{}, err
	}
	return u, x, sec, nil
}
