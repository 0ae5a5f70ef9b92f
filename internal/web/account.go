package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

// One-time passwords (docs/auth.md). A session whose user must change the
// password (auth.User.MustChangePassword: weaklink generated it, or an
// admin set it) reaches only what it takes to change it or to leave:
// every other API call answers 403 password_change_required, every other
// page of the UI sends the browser to the change form. Public routes
// (login, health, static files) are unaffected, and so are API tokens:
// they are made on purpose for programs, which cannot change a password.

// oneTimeRoutes are the routes (method and mux path) that a session with a
// one-time password may reach.
var oneTimeRoutes = map[string]bool{
	"GET /api/v1/me":           true,
	"POST /api/v1/me/password": true,
	"POST /api/v1/logout":      true,
	"GET /account/password":    true,
	"POST /account/password":   true,
	"POST /logout":             true,
}

// mustChangePassword says whether p is a session of a user whose password
// is one-time. A user without a password (single sign-on) has none to
// change: the flag, however it got there, does not lock it out.
func mustChangePassword(p *service.Principal) bool {
	return p != nil && p.Session != nil && p.User.MustChangePassword && p.User.PasswordHash != ""
}

var errPasswordChangeRequired = newError(http.StatusForbidden, "password_change_required",
	"your password is one-time: change it first (POST /api/v1/me/password with current_password and new_password); "+
		"until then this session may only call GET /api/v1/me, POST /api/v1/me/password and POST /api/v1/logout")

// oneTimeGate refuses a route to a session with a one-time password,
// unless the route is one of oneTimeRoutes.
func oneTimeGate(route string, p *service.Principal) error {
	if mustChangePassword(p) && !oneTimeRoutes[route] {
		return errPasswordChangeRequired
	}
	return nil
}

// PasswordChange is the body of POST /api/v1/me/password.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	// NewPassword must follow the password rules (docs/auth.md) and
	// differ from the current one.
	NewPassword string `json:"new_password"`
}

// changePasswordError maps a refused change to the field at fault.
func changePasswordError(err error) error {
	switch {
	case errors.Is(err, service.ErrWrongPassword):
		return badField("current_password", err)
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, service.ErrSamePassword):
		return badField("new_password", err)
	}
	return err
}

// changeMyPassword is POST /api/v1/me/password: the session's user
// changes their own password. Every session of the user ends; the answer
// is a new session (its cookie set, its secret in the body, as a login's).
func (s *Server) changeMyPassword(c *call) (any, error) {
	if c.p.Session == nil {
		return nil, newError(http.StatusBadRequest, "not_a_session",
			"this request came with an API token, not a session: log in (POST /api/v1/login) to change your password")
	}
	var req PasswordChange
	if err := s.decodeLimited(c, &req, false, maxPasswordChangeBody); err != nil {
		return nil, err
	}
	switch {
	case req.CurrentPassword == "":
		return nil, badField("current_password", errors.New("required"))
	case req.NewPassword == "":
		return nil, badField("new_password", errors.New("required"))
	}
	u, x, sec, err := s.logins.ChangePassword(c.ctx, c.p.User.Name, req.CurrentPassword, req.NewPassword, s.clientIP(c.r))
	if err != nil {
		return nil, changePasswordError(err)
	}
	s.cache.clear() // the old session is gone: refuse it at once
	s.setSessionCookie(c.w, x, sec)
	return LoginResponse{User: u, Session: x, Secret: sec.Reveal()}, nil
}

// maxPasswordChangeBody bounds a password change's body: two passwords of
// at most auth.MaxPasswordBytes, a confirmation and the page to go to.
const maxPasswordChangeBody = 8 << 10

// weakPasswordMessage is a refusal of a new password, for a person.
func weakPasswordMessage(err error) string {
	return "New password refused: " + strings.TrimPrefix(err.Error(), auth.ErrWeakPassword.Error()+": ") + "."
}

var errNeedsPassword = errors.New("false goes with a password chosen for the user: a generated password is always one-time")

// checkPasswordPatch checks, before anything changes, the password part
// of PATCH /api/v1/users/{name}: a forced change of a user without a
// password is refused here, before a role or disabled flag in the same
// request is applied (the service refuses it too).
func (s *Server) checkPasswordPatch(c *call, name string, req UserPatch) error {
	if err := checkPasswordFields(name, req); err != nil {
		return err
	}
	if req.Password == nil && req.MustChangePassword != nil && *req.MustChangePassword {
		n, err := auth.NormalizeUsername(name)
		if err != nil {
			return nil // the change itself says why
		}
		if u, err := s.svc.Store.GetUser(c.ctx, n); err == nil && u.PasswordHash == "" {
			return badField("must_change_password", service.ErrNoPasswordToChange(n))
		}
	}
	return nil
}

// checkPasswordFields checks the password fields of a user patch.
func checkPasswordFields(name string, req UserPatch) error {
	if req.Password != nil {
		if *req.Password == "" {
			return badField("password", errors.New("give the new password, or leave the field out (weaklink users passwd generates one)"))
		}
		if n, err := auth.NormalizeUsername(name); err == nil {
			name = n
		}
		if err := auth.CheckPassword(*req.Password, name); err != nil {
			return badField("password", err)
		}
	} else if req.MustChangePassword != nil && !*req.MustChangePassword {
		return badField("must_change_password", errors.New("false goes with a new password: a one-time password is lifted by its user changing it"))
	}
	return nil
}

// patchPassword applies the password part of PATCH /api/v1/users/{name}:
// a new password (one-time unless must_change_password is false), or the
// current one made one-time.
func (s *Server) patchPassword(c *call, name string, req UserPatch) (auth.User, error) {
	if req.Password == nil {
		return s.svc.RequirePasswordChange(c.ctx, name)
	}
	keep := req.MustChangePassword != nil && !*req.MustChangePassword
	u, _, err := s.svc.SetPasswordWith(c.ctx, name, service.AdminPassword{Password: *req.Password, NoChangeRequired: keep})
	return u, err
}
