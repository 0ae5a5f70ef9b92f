package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

// The change-password page (account.go has the rules): reached from the
// header at any time, and the only page a session with a one-time
// password may see.

const passwordPath = "/account/password"

// passwordRedirect is where a session with a one-time password is sent
// from r: the change form, then (for a GET) back to the page asked for.
func passwordRedirect(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return passwordPath
	}
	return passwordPath + "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
}

// passwordNext is where to go after a change: a path on this site
// (safeNext), not the form itself.
func passwordNext(next string) string {
	n := safeNext(next)
	if u, err := url.Parse(n); err == nil && u.Path == passwordPath {
		return safeNext("")
	}
	return n
}

type passwordPage struct {
	page
	Next string
	// MustChange: the password is one-time, and this page is all the
	// session may see.
	MustChange bool
	// NoPassword: the user signs in without one (single sign-on).
	NoPassword bool
	MinLength  int
	Error      string
	// Field is the input the error is about: current, new or confirm.
	Field string
}

func (s *Server) newPasswordPage(c *uiCall, next string) passwordPage {
	return passwordPage{page: c.page("Change password", "account"), Next: passwordNext(next),
		MustChange: mustChangePassword(c.p), NoPassword: c.p.User.PasswordHash == "", MinLength: auth.MinPasswordLength}
}

func (s *Server) uiPasswordForm(c *uiCall) {
	s.render(c.w, c.r, http.StatusOK, "password.html", s.newPasswordPage(c, c.r.URL.Query().Get("next")))
}

// uiChangePassword checks the form. A refusal re-renders it (never with a
// password in it) with one precise message and changes nothing; success
// replaces the session (every session of the user ends) and goes on to
// the page asked for.
func (s *Server) uiChangePassword(c *uiCall) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxPasswordChangeBody)
	if err := c.r.ParseForm(); err != nil {
		s.uiError(c.w, c.r, c.p, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := c.r.PostForm
	pp := s.newPasswordPage(c, f.Get("next"))
	refuse := func(status int, field, msg string) {
		pp.Error, pp.Field = msg, field
		s.render(c.w, c.r, status, "password.html", pp)
	}
	current, newPassword, confirm := f.Get("current_password"), f.Get("new_password"), f.Get("confirm_password")
	switch {
	case c.p.Session == nil:
		refuse(http.StatusBadRequest, "", "This request came with an API token: log in to change your password.")
		return
	case pp.NoPassword:
		refuse(http.StatusBadRequest, "", "Your account has no password to change: you sign in through single sign-on.")
		return
	case current == "":
		refuse(http.StatusBadRequest, "current", "Enter your current password.")
		return
	case newPassword == "":
		refuse(http.StatusBadRequest, "new", "Enter a new password.")
		return
	case confirm != newPassword:
		refuse(http.StatusBadRequest, "confirm", "The new passwords do not match: type the same one twice.")
		return
	}
	_, x, sec, err := s.logins.ChangePassword(c.ctx, c.p.User.Name, current, newPassword, s.clientIP(c.r))
	if err != nil {
		var rl *service.RateLimitedError
		switch {
		case errors.As(err, &rl):
			c.w.Header().Set("Retry-After", retryAfterSeconds(rl.RetryAfter))
			refuse(http.StatusTooManyRequests, "current", "Too many wrong passwords. Wait a while and try again.")
		case errors.Is(err, service.ErrWrongPassword):
			refuse(http.StatusBadRequest, "current", "Your current password is wrong.")
		case errors.Is(err, service.ErrSamePassword):
			refuse(http.StatusBadRequest, "new", "The new password is your current one: choose another.")
		case errors.Is(err, auth.ErrWeakPassword):
			refuse(http.StatusBadRequest, "new", weakPasswordMessage(err))
		case errors.Is(err, service.ErrPasswordChanged):
			refuse(http.StatusConflict, "", "Your password was changed (an admin may have set a new one), or your user disabled, while you were changing it: nothing was changed. Log in again.")
		case errors.Is(err, service.ErrInvalid):
			refuse(http.StatusBadRequest, "", upperFirst(err.Error())+".")
		default:
			s.uiFail(c, err)
		}
		return
	}
	s.cache.clear() // the old session is gone: refuse it at once
	s.setSessionCookie(c.w, x, sec)
	http.Redirect(c.w, c.r, pp.Next, http.StatusSeeOther)
}
