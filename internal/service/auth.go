package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// ErrInvalid is wrapped by errors in what a caller asked for: a bad user
// name, a token role beyond its user's, a lifetime out of bounds. Weak
// passwords wrap auth.ErrWeakPassword.
var ErrInvalid = errors.New("invalid")

// invalidError is a message that is ErrInvalid (errors.Is) without
// saying so.
type invalidError string

func (e invalidError) Error() string        { return string(e) }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) error { return invalidError(fmt.Sprintf(format, args...)) }

func userName(name string) (string, error) {
	n, err := auth.NormalizeUsername(name)
	if err != nil {
		return "", invalidError(err.Error())
	}
	return n, nil
}

func badRole(r auth.Role) error {
	_, err := auth.ParseRole(string(r))
	return invalidError(err.Error())
}

// newPassword checks a chosen password, or generates one when none is
// given, and hashes it. generated is "" for a chosen password.
func newPassword(user, password string) (hash, generated string, err error) {
	if password == "" {
		generated = auth.GeneratePassword()
		password = generated
	} else if err := auth.CheckPassword(password, user); err != nil {
		return "", "", err
	}
	hash, err = auth.HashPassword(password)
	return hash, generated, err
}

// AddUser creates a user with a one-time password: the one given, or
// (without) a generated one, returned to be shown once. AddUserWith can
// make a chosen password stay.
func (s *Service) AddUser(ctx context.Context, name string, role auth.Role, password string) (u auth.User, generated string, err error) {
	return s.AddUserWith(ctx, name, role, AdminPassword{Password: password})
}

// Users lists the users in name order.
func (s *Service) Users(ctx context.Context) ([]auth.User, error) {
	users, err := s.Store.ListUsers(ctx)
	if users == nil {
		users = []auth.User{}
	}
	return users, err
}

// SetRole changes a user's role. Its tokens keep their roles, but act
// within the new one (auth.Allows).
func (s *Service) SetRole(ctx context.Context, name string, role auth.Role) (auth.User, error) {
	name, err := userName(name)
	if err != nil {
		return auth.User{}, err
	}
	if !role.Valid() {
		return auth.User{}, badRole(role)
	}
	return s.Store.UpdateUser(ctx, name, store.UserUpdate{Role: &role})
}

// SetDisabled disables a user, ending its sessions (its tokens stop
// working while it is disabled), or enables it again.
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) (auth.User, error) {
	name, err := userName(name)
	if err != nil {
		return auth.User{}, err
	}
	return s.Store.UpdateUser(ctx, name, store.UserUpdate{Disabled: &disabled})
}

// SetPassword sets a user's password, one-time, ending its sessions.
// Without a password it generates one and returns it. SetPasswordWith can
// make a chosen password stay.
func (s *Service) SetPassword(ctx context.Context, name, password string) (u auth.User, generated string, err error) {
	return s.SetPasswordWith(ctx, name, AdminPassword{Password: password})
}

// RemoveUser deletes a user and its sessions, and revokes its tokens.
func (s *Service) RemoveUser(ctx context.Context, name string) error {
	name, err := userName(name)
	if err != nil {
		return err
	}
	return s.Store.DeleteUser(ctx, name)
}

// TokenRequest asks for an API token.
type TokenRequest struct {
	User string
	// Role is the token's scope, within the user's role ("": the user's).
	Role auth.Role
	// Name says what the token is for.
	Name string
	// Lifetime is how long it works (0: auth.DefaultTokenLifetime; at
	// most auth.MaxTokenLifetime).
	Lifetime time.Duration
}

// CreateToken makes an API token and returns its secret, to be shown once.
func (s *Service) CreateToken(ctx context.Context, r TokenRequest) (auth.Token, auth.Secret, error) {
	name, err := userName(r.User)
	if err != nil {
		return auth.Token{}, auth.Secret{}, err
	}
	u, err := s.Store.GetUser(ctx, name)
	if err != nil {
		return auth.Token{}, auth.Secret{}, err
	}
	if r.Role == "" {
		r.Role = u.Role
	}
	if !r.Role.Valid() {
		return auth.Token{}, auth.Secret{}, badRole(r.Role)
	}
	if !r.Role.Within(u.Role) {
		return auth.Token{}, auth.Secret{}, invalid("a token with role %s needs permissions that user %s (%s) lacks: %s; give it a role within %s",
			r.Role, u.Name, u.Role, strings.Join(missing(r.Role, u.Role), ", "), u.Role)
	}
	if r.Lifetime == 0 {
		r.Lifetime = auth.DefaultTokenLifetime
	}
	if r.Lifetime < time.Minute || r.Lifetime > auth.MaxTokenLifetime {
		return auth.Token{}, auth.Secret{}, invalid("a token lives between a minute and %d days, not %v", auth.MaxTokenLifetime/(24*time.Hour), r.Lifetime)
	}
	r.Name = strings.TrimSpace(r.Name)
	if utf8.RuneCountInString(r.Name) > 100 || strings.ContainsFunc(r.Name, unicode.IsControl) {
		return auth.Token{}, auth.Secret{}, invalid("a token name is at most 100 characters, without control characters")
	}
	now := s.now().Truncate(time.Microsecond)
	for attempt := 0; ; attempt++ {
		sec := auth.NewTokenSecret()
		t := auth.Token{ID: sec.ID, Hash: sec.Hash, User: u.Name, Name: r.Name, Role: r.Role, CreatedAt: now, ExpiresAt: now.Add(r.Lifetime)}
		err := s.Store.CreateToken(ctx, t)
		// An id taken already (50 random bits): draw again.
		if errors.Is(err, store.ErrConflict) && attempt < 3 && !strings.Contains(err.Error(), "disabled") {
			continue
		}
		if err != nil {
			return auth.Token{}, auth.Secret{}, err
		}
		return t, sec, nil
	}
}

func missing(r, of auth.Role) []string {
	var out []string
	for _, p := range r.Permissions() {
		if !of.Can(p) {
			out = append(out, string(p))
		}
	}
	return out
}

// Tokens lists the API tokens of a user, or ("") everyone's.
func (s *Service) Tokens(ctx context.Context, user string) ([]auth.Token, error) {
	if user != "" {
		var err error
		if user, err = userName(user); err != nil {
			return nil, err
		}
	}
	ts, err := s.Store.ListTokens(ctx, user)
	if ts == nil {
		ts = []auth.Token{}
	}
	return ts, err
}

// RevokeToken revokes a token by its id ("wlt_k3jd9fpq2m") or, when that
// is what the caller has, by the whole token.
func (s *Service) RevokeToken(ctx context.Context, ref string) error {
	if sec, err := auth.ParseSecret(ref, auth.TokenPrefix); err == nil {
		ref = sec.ID
	}
	if !auth.IsSecretID(ref, auth.TokenPrefix) {
		return invalid("%q is not a token id: use the ID column of weaklink tokens list (wlt_ and 10 characters)", ref)
	}
	return s.Store.RevokeToken(ctx, ref)
}

// Logins authenticates people and programs: password logins that make
// sessions, and requests that carry a session's or an API token's secret.
// It is the HTTP layer's way in; the CLI works on the database directly.
type Logins struct {
	Store store.Store
	// Limiter limits failed logins (NewLogins: auth.DefaultLimits).
	Limiter *auth.Limiter
	// Policy bounds sessions (zero: auth.DefaultSessionPolicy).
	Policy auth.SessionPolicy
	// TouchEvery is how stale LastSeen or LastUsed may get before a
	// request writes it (0: a minute), so that reads do not all write.
	TouchEvery time.Duration
	Now        func() time.Time
}

// NewLogins returns Logins with the default limits and policy; now may be
// nil (time.Now).
func NewLogins(st store.Store, now func() time.Time) *Logins {
	if now == nil {
		now = time.Now
	}
	return &Logins{Store: st, Limiter: auth.NewLimiter(auth.DefaultLimits, now), Now: now}
}

// ErrBadCredentials is a failed login: unknown user, wrong password,
// disabled user, all alike.
var ErrBadCredentials = errors.New("wrong user name or password")

// ErrUnauthenticated is a request whose secret is malformed, unknown,
// expired, revoked, or of a disabled or deleted user, all alike.
var ErrUnauthenticated = errors.New("not authenticated")

// RateLimitedError refuses a login until RetryAfter has passed.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %v", e.RetryAfter.Round(time.Second))
}

// newSession makes a session for user, starting now, and its secret (not
// stored yet).
func (l *Logins) newSession(user string) (auth.Session, auth.Secret) {
	now := l.now()
	sec := auth.NewSessionSecret()
	return auth.Session{ID: sec.ID, Hash: sec.Hash, User: user, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(l.policy().Absolute)}, sec
}

func (l *Logins) now() time.Time { return l.Now().UTC().Truncate(time.Microsecond) }

func (l *Logins) policy() auth.SessionPolicy {
	if l.Policy == (auth.SessionPolicy{}) {
		return auth.DefaultSessionPolicy
	}
	return l.Policy
}

// Login checks a user's password, from client (its IP address), and
// starts a session. The returned secret goes in the session cookie. A
// hash made with old parameters is replaced, sessions kept.
func (l *Logins) Login(ctx context.Context, name, password, client string) (auth.Session, auth.Secret, error) {
	if l.Limiter == nil {
		return auth.Session{}, auth.Secret{}, errors.New("logins without a rate limiter: use NewLogins")
	}
	if n, err := auth.NormalizeUsername(name); err == nil {
		name = n
	} else {
		name = "" // no such user; invalid names share one count
	}
	if ok, retry := l.Limiter.Attempt(name, client); !ok {
		return auth.Session{}, auth.Secret{}, &RateLimitedError{retry}
	}
	u, err := l.Store.GetUser(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return auth.Session{}, auth.Secret{}, err
	}
	if err != nil || u.Disabled || u.PasswordHash == "" {
		auth.VerifyDummy(password) // as slow as a real check
		return auth.Session{}, auth.Secret{}, ErrBadCredentials
	}
	ok, rehash, err := auth.VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return auth.Session{}, auth.Secret{}, fmt.Errorf("user %s: stored password hash: %w", u.Name, err)
	}
	if !ok {
		return auth.Session{}, auth.Secret{}, ErrBadCredentials
	}
	l.Limiter.Success(name, client)
	ctx = audit.WithActor(ctx, "user:"+u.Name) // as the API names its users (Principal.Actor)
	if rehash {
		if h, err := auth.HashPassword(password); err == nil {
			if _, err := l.Store.UpdateUser(ctx, u.Name, store.UserUpdate{PasswordHash: &h, Rehash: true}); err != nil {
				return auth.Session{}, auth.Secret{}, err
			}
		}
	}
	x, sec := l.newSession(u.Name)
	if err := l.Store.CreateSession(ctx, x); err != nil {
		return auth.Session{}, auth.Secret{}, err
	}
	return x, sec, nil
}

// Principal is who a request acts as.
type Principal struct {
	User    auth.User
	Session *auth.Session // for a browser
	Token   *auth.Token   // for an API client
}

// Can reports whether the principal holds a permission: its user's role,
// narrowed by the token's for an API client.
func (p Principal) Can(perm auth.Permission) bool {
	if p.Token != nil {
		return auth.Allows(p.User.Role, p.Token.Role, perm)
	}
	return p.User.Role.Can(perm)
}

// Authenticate finds who a session cookie's or a bearer token's secret
// belongs to, and records the use.
func (l *Logins) Authenticate(ctx context.Context, secret string) (Principal, error) {
	now := l.now()
	every := l.TouchEvery
	if every == 0 {
		every = time.Minute
	}
	var p Principal
	var user string
	switch {
	case strings.HasPrefix(secret, auth.SessionPrefix):
		sec, err := auth.ParseSecret(secret, auth.SessionPrefix)
		if err != nil {
			return p, ErrUnauthenticated
		}
		x, err := l.Store.GetSession(ctx, sec.Hash)
		if errors.Is(err, store.ErrNotFound) || err == nil && l.policy().Check(x, now) != nil {
			return p, ErrUnauthenticated
		} else if err != nil {
			return p, err
		}
		p.Session, user = &x, x.User
	case strings.HasPrefix(secret, auth.TokenPrefix):
		sec, err := auth.ParseSecret(secret, auth.TokenPrefix)
		if err != nil {
			return p, ErrUnauthenticated
		}
		t, err := l.Store.GetToken(ctx, sec.Hash)
		if errors.Is(err, store.ErrNotFound) {
			return p, ErrUnauthenticated
		} else if err != nil {
			return p, err
		}
		p.Token, user = &t, t.User
	default:
		return p, ErrUnauthenticated
	}
	u, err := l.Store.GetUser(ctx, user)
	if errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled {
		return Principal{}, ErrUnauthenticated
	} else if err != nil {
		return Principal{}, err
	}
	p.User = u
	switch {
	case p.Session != nil && now.Sub(p.Session.LastSeen) >= every:
		if err := l.Store.TouchSession(ctx, p.Session.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Principal{}, err
		}
		p.Session.LastSeen = now
	case p.Token != nil && (p.Token.LastUsed == nil || now.Sub(*p.Token.LastUsed) >= every):
		if err := l.Store.TouchToken(ctx, p.Token.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Principal{}, err
		}
		p.Token.LastUsed = &now
	}
	return p, nil
}

// Logout ends the session a cookie's secret names. An unknown or
// malformed secret is not an error: the session is gone either way.
func (l *Logins) Logout(ctx context.Context, secret string) error {
	sec, err := auth.ParseSecret(secret, auth.SessionPrefix)
	if err != nil {
		return nil
	}
	x, err := l.Store.GetSession(ctx, sec.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	err = l.Store.DeleteSession(audit.WithActor(ctx, "user:"+x.User), x.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
