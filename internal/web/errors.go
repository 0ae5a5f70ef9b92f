package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// ErrorResponse is the body of every error: a stable code for programs, a
// message for people, and the field or parameter at fault when there is
// one. It never holds a stack trace or an internal error's text.
type ErrorResponse struct {
	Error ErrorInfo `json:"error"`
}

// ErrorInfo describes an error.
type ErrorInfo struct {
	// Code is one of: invalid, invalid_body, unknown_field, body_too_large,
	// unsupported_media_type, unauthenticated, bad_credentials, forbidden,
	// cross_origin, not_found, method_not_allowed, conflict, rate_limited,
	// not_a_session, password_change_required, unavailable, internal.
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the body field or query parameter at fault.
	Field string `json:"field,omitempty"`
	// Details lists every problem when there are several.
	Details []FieldProblem `json:"details,omitempty"`
}

// FieldProblem is one of several problems.
type FieldProblem struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// apiError is an error with its HTTP status.
type apiError struct {
	status     int
	info       ErrorInfo
	retryAfter time.Duration
}

func (e *apiError) Error() string { return e.info.Message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, info: ErrorInfo{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// badField is a 400 for one field or query parameter.
func badField(field string, err error) *apiError {
	return &apiError{status: http.StatusBadRequest, info: ErrorInfo{Code: "invalid", Message: field + ": " + err.Error(), Field: field}}
}

var (
	errUnauthenticated = newError(http.StatusUnauthorized, "unauthenticated",
		"authentication required: log in (POST /api/v1/login) or send Authorization: Bearer with an API token")
	errBadCredentials = newError(http.StatusUnauthorized, "bad_credentials", "wrong user name or password")
)

// toAPIError maps an error from the service layer to a status and a body.
// Errors it does not know are internal: the client sees a generic message
// and the log has the text. internal reports that case.
func toAPIError(err error) (e *apiError, internal bool) {
	var ae *apiError
	var rl *service.RateLimitedError
	var issues inventory.Issues
	var ie service.IncidentError
	switch {
	case errors.As(err, &ae):
		return ae, false
	case errors.As(err, &rl):
		e := newError(http.StatusTooManyRequests, "rate_limited", "%s", rl.Error())
		e.retryAfter = rl.RetryAfter
		return e, false
	case errors.Is(err, service.ErrBadCredentials):
		return errBadCredentials, false
	case errors.Is(err, service.ErrUnauthenticated):
		return errUnauthenticated, false
	case errors.Is(err, auth.ErrWeakPassword):
		return &apiError{status: http.StatusBadRequest, info: ErrorInfo{Code: "invalid", Message: err.Error(), Field: "password"}}, false
	case errors.As(err, &issues):
		e := newError(http.StatusBadRequest, "invalid", "%s", issues.Error())
		for _, i := range issues {
			field := i.Object
			if i.Field != "" {
				field += "." + i.Field
			}
			e.info.Details = append(e.info.Details, FieldProblem{Field: field, Message: i.Message})
		}
		return e, false
	case errors.As(err, &ie):
		e := &apiError{status: http.StatusBadRequest, info: ErrorInfo{Code: "invalid", Message: err.Error(), Field: ie.Field}}
		for _, x := range flatten(err) {
			if errors.As(x, &ie) {
				e.info.Details = append(e.info.Details, FieldProblem{Field: ie.Field, Message: ie.Msg})
			}
		}
		if len(e.info.Details) < 2 {
			e.info.Details = nil
		}
		return e, false
	case errors.Is(err, service.ErrInvalid):
		return newError(http.StatusBadRequest, "invalid", "%s", err.Error()), false
	case errors.Is(err, service.ErrExists), errors.Is(err, store.ErrConflict):
		return newError(http.StatusConflict, "conflict", "%s", err.Error()), false
	case errors.Is(err, store.ErrNotFound):
		return newError(http.StatusNotFound, "not_found", "%s", err.Error()), false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return newError(http.StatusServiceUnavailable, "unavailable", "the request was cancelled or timed out"), true
	}
	return newError(http.StatusInternalServerError, "internal", "internal server error; the server log has the details"), true
}

// flatten lists the errors an errors.Join holds (or err itself).
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// retryAfterSeconds is a Retry-After value: whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(max(d, time.Second).Seconds())))
}
