package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is a new session. Browsers use the cookie set with it;
// API clients (a remote CLI) send Secret as a bearer token. Secret is
// shown this once.
type LoginResponse struct {
	User    auth.User    `json:"user"`
	Session auth.Session `json:"session"`
	Secret  string       `json:"secret"`
}

// Me is who a request acts as.
type Me struct {
	User auth.User `json:"user"`
	// Permissions are what the request may do: the user's role, narrowed
	// by the token's for an API token.
	Permissions []auth.Permission `json:"permissions"`
	// Session or Token is the credential the request came with.
	Session *auth.Session `json:"session,omitempty"`
	Token   *auth.Token   `json:"token,omitempty"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	// Status is ok or unavailable.
	Status string `json:"status"`
}

func (s *Server) healthz(*call) (any, error) { return Health{Status: "ok"}, nil }

// readyz asks the database for its schema version: one indexed read.
func (s *Server) readyz(c *call) (any, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	if err := s.svc.Ready(ctx); err != nil {
		s.log.Warn("readyz: the database does not answer", "err", err.Error())
		c.status = http.StatusServiceUnavailable
		return Health{Status: "unavailable"}, nil
	}
	return Health{Status: "ok"}, nil
}

func (s *Server) openAPIRoute(c *call) {
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	_, _ = c.w.Write(s.openapi)
}

// maxLoginBody bounds a login's body: a name and a password of at most
// auth.MaxPasswordBytes fit many times over.
const maxLoginBody = 8 << 10

func (s *Server) login(c *call) (any, error) {
	var req LoginRequest
	if err := s.decodeLimited(c, &req, false, maxLoginBody); err != nil {
		return nil, err
	}
	switch {
	case req.Username == "":
		return nil, badField("username", errors.New("required"))
	case req.Password == "":
		return nil, badField("password", errors.New("required"))
	}
	return s.startSession(c.ctx, c.w, c.r, req.Username, req.Password)
}

// startSession checks a user name and password (the login rate limit
// first), counts the result in the metrics and, on success, sets the
// session cookie. The API's login and the UI's login form share it.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, name, password string) (LoginResponse, error) {
	x, sec, err := s.logins.Login(ctx, name, password, s.clientIP(r))
	if err != nil {
		var rl *service.RateLimitedError
		switch {
		case errors.As(err, &rl):
			s.metrics.logins.WithLabelValues("rate_limited").Inc()
		case errors.Is(err, service.ErrBadCredentials):
			s.metrics.logins.WithLabelValues("bad_credentials").Inc()
		default:
			s.metrics.logins.WithLabelValues("error").Inc()
		}
		return LoginResponse{}, err
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	u, err := s.svc.Store.GetUser(ctx, x.User)
	if err != nil {
		return LoginResponse{}, err
	}
	s.setSessionCookie(w, x, sec)
	if rec, ok := w.(*recorder); ok {
		rec.actor = "user:" + u.Name // for the access log
	}
	return LoginResponse{User: u, Session: x, Secret: sec.Reveal()}, nil
}

// logout ends the request's session: the cookie's, or the one whose
// secret came as a bearer token. API tokens are revoked instead.
func (s *Server) logout(c *call) (any, error) {
	if c.p.Session == nil {
		return nil, newError(http.StatusBadRequest, "not_a_session", "this request came with an API token, not a session: revoke tokens with DELETE /api/v1/tokens/{id}")
	}
	if err := s.logins.Logout(c.ctx, c.secret); err != nil {
		return nil, err
	}
	s.cache.clear()
	clearCookie(c.w)
	return nil, nil
}

func (s *Server) me(c *call) (any, error) {
	return Me{User: c.p.User, Permissions: c.p.Permissions(), Session: c.p.Session, Token: c.p.Token}, nil
}
