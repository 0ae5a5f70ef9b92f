package web

import (
	"errors"
	"strconv"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// UserCreate is the body of POST /api/v1/users.
type UserCreate struct {
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
	// Password is the user's password; without one, a one-time password
	// is generated and returned, this once.
	Password string `json:"password,omitempty"`
	// MustChangePassword false lets a given password stay after the first
	// login; by default it is one-time, as a generated one always is.
	MustChangePassword *bool `json:"must_change_password,omitempty"`
}

// UserPatch is the body of PATCH /api/v1/users/{name}.
type UserPatch struct {
	Role *auth.Role `json:"role,omitempty"`
	// Disabled true ends the user's sessions and refuses its tokens until
	// it is enabled again.
	Disabled *bool `json:"disabled,omitempty"`
	// Password sets a new password, ending the user's sessions: one-time
	// unless must_change_password is false.
	Password *string `json:"password,omitempty"`
	// MustChangePassword true alone makes the current password one-time.
	MustChangePassword *bool `json:"must_change_password,omitempty"`
}

// TokenCreate is the body of POST /api/v1/tokens.
type TokenCreate struct {
	User string `json:"user"`
	// Role is the token's scope, within the user's role (default: the
	// user's).
	Role auth.Role `json:"role,omitempty"`
	// Name says what the token is for ("ci", "gateway eu-1").
	Name string `json:"name,omitempty"`
	// Expires is the lifetime: 90d (the default), 2w, 12h; at most 366d.
	Expires string `json:"expires,omitempty"`
}

func (s *Server) listAudit(c *call) (any, error) {
	limit, err := c.limit()
	if err != nil {
		return nil, err
	}
	f := store.AuditFilter{From: c.qInt("from", 1), Object: c.q("object")}
	entries, next, err := s.svc.AuditEntries(c.ctx, f, limit)
	if err != nil {
		return nil, err
	}
	if next > 0 {
		setNext(c, "from", strconv.FormatInt(next, 10), limit)
	}
	return entries, nil
}

func (s *Server) verifyAudit(c *call) (any, error) { return s.svc.VerifyAudit(c.ctx) }

func (s *Server) listUsers(c *call) (any, error) { return s.svc.Users(c.ctx) }

func checkRole(field string, r auth.Role) error {
	if _, err := auth.ParseRole(string(r)); err != nil || r == "" {
		if r == "" {
			err = errors.New("required")
		}
		return badField(field, err)
	}
	return nil
}

func (s *Server) createUser(c *call) (any, error) {
	var req UserCreate
	if err := s.decodeBody(c, &req, false); err != nil {
		return nil, err
	}
	if _, err := auth.NormalizeUsername(req.Name); err != nil {
		return nil, badField("name", err)
	}
	if err := checkRole("role", req.Role); err != nil {
		return nil, err
	}
	keep := req.MustChangePassword != nil && !*req.MustChangePassword
	if keep && req.Password == "" {
		return nil, badField("must_change_password", errNeedsPassword)
	}
	u, generated, err := s.svc.AddUserWith(c.ctx, req.Name, req.Role, service.AdminPassword{Password: req.Password, NoChangeRequired: keep})
	if err != nil {
		return nil, err
	}
	c.w.Header().Set("Location", "/api/v1/users/"+u.Name)
	return service.UserWithPassword{User: u, Password: generated}, nil
}

func (s *Server) updateUser(c *call) (any, error) {
	var req UserPatch
	if err := s.decodeBody(c, &req, false); err != nil {
		return nil, err
	}
	if req.Role == nil && req.Disabled == nil && req.Password == nil && req.MustChangePassword == nil {
		return nil, newError(400, "invalid", "nothing to change: give role, disabled, password or must_change_password")
	}
	if err := s.checkPasswordPatch(c, c.r.PathValue("name"), req); err != nil {
		return nil, err
	}
	if req.Role != nil {
		if err := checkRole("role", *req.Role); err != nil {
			return nil, err
		}
	}
	name := c.r.PathValue("name")
	defer s.cache.clear()
	var u auth.User
	var err error
	if req.Role != nil {
		if u, err = s.svc.SetRole(c.ctx, name, *req.Role); err != nil {
			return nil, err
		}
	}
	if req.Disabled != nil {
		if u, err = s.svc.SetDisabled(c.ctx, name, *req.Disabled); err != nil {
			return nil, err
		}
	}
	if req.Password != nil || req.MustChangePassword != nil {
		return s.patchPassword(c, name, req) // account.go
	}
	return u, nil
}

func (s *Server) deleteUser(c *call) (any, error) {
	defer s.cache.clear()
	return nil, s.svc.RemoveUser(c.ctx, c.r.PathValue("name"))
}

func (s *Server) listTokens(c *call) (any, error) { return s.svc.Tokens(c.ctx, c.q("user")) }

func (s *Server) createToken(c *call) (any, error) {
	var req TokenCreate
	if err := s.decodeBody(c, &req, false); err != nil {
		return nil, err
	}
	if req.User == "" {
		return nil, badField("user", errors.New("required"))
	}
	if req.Role != "" {
		if err := checkRole("role", req.Role); err != nil {
			return nil, err
		}
	}
	tr := service.TokenRequest{User: req.User, Role: req.Role, Name: req.Name}
	if req.Expires != "" {
		d, err := service.ParseLifetime(req.Expires)
		if err != nil {
			return nil, badField("expires", err)
		}
		tr.Lifetime = d
	}
	t, sec, err := s.svc.CreateToken(c.ctx, tr)
	if err != nil {
		return nil, err
	}
	return service.TokenWithSecret{Token: t, Secret: sec.Reveal()}, nil
}

func (s *Server) revokeToken(c *call) (any, error) {
	defer s.cache.clear()
	return nil, s.svc.RevokeToken(c.ctx, c.r.PathValue("id"))
}
