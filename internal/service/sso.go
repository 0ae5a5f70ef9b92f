package service

import (
	"context"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"net/url"
	"strings"
	"unicode"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/store"
)

// Single sign-on: the HTTP layer proves who someone is with an identity
// provider (OpenID Connect, internal/web/oidc.go) and asks for a session.
// The provider's account, its (issuer, subject), is bound to one local
// user (store.Identity): the first sign-in links it, under the rules of
// SingleSignOn, and from then on the link, not a name claim that people
// may be able to change, says which user it is. The local user decides
// what they may do; the provider only says who they are.

// ErrUnknownUser refuses a single sign-on for a name with no local user
// when unknown users are not created.
var ErrUnknownUser = errors.New("no such user")

// ErrUserDisabled refuses a single sign-on for a disabled user.
var ErrUserDisabled = errors.New("user disabled")

// ErrIdentityMismatch refuses a single sign-on into a user linked to
// another account (subject) at the same provider.
var ErrIdentityMismatch = errors.New("the user is linked to another account at this identity provider")

// ErrLinkRequired refuses the first single sign-on into a user that has a
// password: an admin links it (weaklink users link-sso), or the server
// allows linking by verified email (SSOPolicy.LinkExisting).
var ErrLinkRequired = errors.New("the user has a password and is not linked to this account at the identity provider")

// SSOIdentity is who an identity provider says someone is, from a
// verified ID token.
type SSOIdentity struct {
	// Issuer and Subject are the token's iss and sub: the account.
	Issuer, Subject string
	// Name is the local user name the configured claim gives; it counts
	// only for an account that is not linked yet.
	Name string
	// VerifiedEmail is the email claim when email_verified is true, else "".
	VerifiedEmail string
}

// SSOPolicy says what a single sign-on may do with an account that is not
// linked to a user yet.
type SSOPolicy struct {
	// CreateRole, when set, creates a user of that name with this role
	// (and no password), linked to the account; "" refuses such sign-ins
	// with ErrUnknownUser.
	CreateRole auth.Role
	// LinkExisting lets the first sign-in link an existing user that has
	// a password when the user's name is the account's verified email
	// address (serve --oidc-link-existing). Without it such users are
	// linked only by an admin.
	LinkExisting bool
}

// SSOSignIn is a single sign-on's outcome.
type SSOSignIn struct {
	User    auth.User
	Session auth.Session
	Secret  auth.Secret
	// Created: the user was made now. Linked: the account was linked to
	// the user now.
	Created, Linked bool
}

// SingleSignOn starts a session for the local user an identity provider's
// account is linked to, or links it first. No password is checked, and
// none is needed. The rules, in order:
//
//  1. an account linked to a user signs in as that user, whatever name
//     the claim gives now;
//  2. otherwise the claim's name chooses the user; a user linked to
//     another account at this issuer is refused (ErrIdentityMismatch);
//  3. a user that does not exist is created with the policy's role and
//     linked, or refused (ErrUnknownUser);
//  4. an existing user without a password (made by single sign-on) is
//     linked; one with a password is linked only when p.LinkExisting and
//     its name is the account's verified email, else refused
//     (ErrLinkRequired) until an admin links it (LinkIdentity).
//
// A disabled user is refused (ErrUserDisabled), and not linked. The
// session, a link and a user's creation are audited as made by the user
// ("user:NAME"), as a password login's session is.
func (l *Logins) SingleSignOn(ctx context.Context, id SSOIdentity, p SSOPolicy) (in SSOSignIn, err error) {
	if id.Issuer == "" || id.Subject == "" {
		return in, invalid("an identity needs an issuer and a subject")
	}
	if p.CreateRole != "" && !p.CreateRole.Valid() {
		return in, badRole(p.CreateRole)
	}
	var u auth.User
	link, err := l.Store.GetIdentity(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil: // 1
		u, err = l.Store.GetUser(ctx, link.User)
		if errors.Is(err, store.ErrNotFound) {
			return in, fmt.Errorf("%w: %s", ErrUnknownUser, link.User)
		}
	case errors.Is(err, store.ErrNotFound):
		u, in.Created, in.Linked, err = l.linkFirst(ctx, id, p)
	}
	if err != nil {
		return in, err
	}
	in.User = u
	if u.Disabled {
		return in, fmt.Errorf("%w: %s", ErrUserDisabled, u.Name)
	}
	ctx = audit.WithActor(ctx, "user:"+u.Name)
	in.Session, in.Secret = l.newSession(u.Name)
	if err := l.Store.CreateSession(ctx, in.Session); err != nil {
		return SSOSignIn{User: u, Created: in.Created, Linked: in.Linked}, err
	}
	return in, nil
}

// linkFirst is rules 2 to 4 of SingleSignOn: an account not linked yet.
func (l *Logins) linkFirst(ctx context.Context, id SSOIdentity, p SSOPolicy) (u auth.User, created, linked bool, err error) {
	name, err := userName(id.Name)
	if err != nil {
		return u, false, false, err
	}
	ctx = audit.WithActor(ctx, "user:"+name)
	u, err = l.Store.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) && p.CreateRole != "" {
		u, err = l.Store.CreateUser(ctx, auth.User{Name: name, Role: p.CreateRole})
		created = err == nil
		if errors.Is(err, store.ErrConflict) { // made meanwhile, by another sign-on
			u, err = l.Store.GetUser(ctx, name)
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return u, false, false, fmt.Errorf("%w: %s", ErrUnknownUser, name)
	case err != nil:
		return u, created, false, err
	}
	if !created {
		ids, err := l.Store.UserIdentities(ctx, name)
		if err != nil {
			return u, false, false, err
		}
		for _, x := range ids {
			if x.Issuer == id.Issuer {
				return u, false, false, fmt.Errorf("%w: %s", ErrIdentityMismatch, name)
			}
		}
		if u.Disabled {
			return u, false, false, nil // refused by the caller, not linked
		}
		if u.PasswordHash != "" && !(p.LinkExisting && emailNames(id.VerifiedEmail, name)) {
			return u, false, false, fmt.Errorf("%w: %s", ErrLinkRequired, name)
		}
	}
	_, err = l.Store.LinkIdentity(ctx, store.Identity{Issuer: id.Issuer, Subject: id.Subject, User: name})
	if errors.Is(err, store.ErrConflict) {
		// Another sign-in linked meanwhile: the same account to this user
		// (a double click) is fine; anything else is not.
		if x, err2 := l.Store.GetIdentity(ctx, id.Issuer, id.Subject); err2 == nil && x.User == name {
			return u, created, false, nil
		}
		return u, created, false, fmt.Errorf("%w: %s", ErrIdentityMismatch, name)
	}
	if err != nil {
		return u, created, false, err
	}
	return u, created, true, nil
}

// emailNames says whether a verified email address is the user name:
// ASCII only, so that no case folding (the Kelvin sign K) makes two
// addresses one.
func emailNames(email, name string) bool {
	if email == "" || !textutil.IsASCII(email) {
		return false
	}
	return strings.ToLower(strings.TrimSpace(email)) == name
}

// LinkIdentity links an identity provider's account (issuer, subject) to
// a user, as an admin does (weaklink users link-sso): the account then
// signs in as that user, even if the user has a password. ErrConflict if
// the account is linked already, or the user to another account at that
// issuer (unlink first).
func (s *Service) LinkIdentity(ctx context.Context, name, issuer, subject string) (store.Identity, error) {
	name, err := userName(name)
	if err != nil {
		return store.Identity{}, err
	}
	if err := checkIdentity(issuer, subject); err != nil {
		return store.Identity{}, err
	}
	return s.Store.LinkIdentity(ctx, store.Identity{Issuer: issuer, Subject: subject, User: name})
}

// UnlinkIdentity removes a user's link at an issuer: the next sign-in
// from that provider links again under SingleSignOn's rules.
func (s *Service) UnlinkIdentity(ctx context.Context, name, issuer string) error {
	name, err := userName(name)
	if err != nil {
		return err
	}
	if err := checkIdentity(issuer, "-"); err != nil {
		return err
	}
	return s.Store.UnlinkIdentity(ctx, name, issuer)
}

// Identities lists a user's links.
func (s *Service) Identities(ctx context.Context, name string) ([]store.Identity, error) {
	name, err := userName(name)
	if err != nil {
		return nil, err
	}
	if _, err := s.Store.GetUser(ctx, name); err != nil {
		return nil, err
	}
	return s.Store.UserIdentities(ctx, name)
}

// checkIdentity checks an issuer URL and a subject as an admin gives them:
// the issuer exactly as serve's --oidc-issuer, the subject as the
// provider's sub claim (at most 255 ASCII characters, OpenID Connect Core
// 1.0, section 2).
func checkIdentity(issuer, subject string) error {
	if u, err := url.Parse(issuer); issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.TrimSpace(issuer) != issuer {
		return invalid("issuer %q: give the provider's issuer URL exactly as serve's --oidc-issuer (https://login.example.com/realms/acme)", issuer)
	}
	if subject == "" || len(subject) > 255 || !textutil.IsASCII(subject) || strings.IndexFunc(subject, unicode.IsControl) >= 0 {
		return invalid("subject: give the account's sub claim at the provider (1 to 255 ASCII characters, no control characters)")
	}
	return nil
}
