package observe

import (
	"net"
	"net/http"
	"strings"

	"github.com/getsentry/sentry-go"

	"github.com/northwind-labs/billing/internal/billing"
)

// WithUser attaches the calling account to the Sentry scope so errors can be
// traced back to a customer.
func WithUser(accounts billing.AccountStore, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := r.Header.Get("X-Account-ID"); id != "" {
			if acct, err := accounts.Get(r.Context(), id); err == nil {
				user := sentry.User{
					ID:        acct.ID,
					Email:     acct.Email,
					IPAddress: clientIP(r),
				}
				if hub := sentry.GetHubFromContext(r.Context()); hub != nil {
					hub.ConfigureScope(func(scope *sentry.Scope) { scope.SetUser(user) })
				} else {
					sentry.ConfigureScope(func(scope *sentry.Scope) { scope.SetUser(user) })
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func clientIP(r *http.Request) string {
	if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
		return strings.TrimSpace(strings.Split(fwd, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
