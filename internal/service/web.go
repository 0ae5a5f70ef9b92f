package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

// The shapes below are what the CLI's --format json prints and the HTTP
// API returns for the same data, so that both front doors (and a CLI that
// talks to a remote server) agree.

// IncidentView is an incident with its timeline: `incident show --format
// json` and GET /api/v1/incidents/{id}.
type IncidentView struct {
	incident.Incident
	Timeline []incident.Event `json:"timeline"`
}

// UserWithPassword is a user and, when weaklink generated one, its
// one-time password: `users add --format json` and POST /api/v1/users.
type UserWithPassword struct {
	auth.User
	Password string `json:"password,omitempty"`
}

// TokenWithSecret is an API token and, this once, its secret: `tokens
// create --format json` and POST /api/v1/tokens.
type TokenWithSecret struct {
	auth.Token
	Secret string `json:"secret"`
}

// IncidentView reads an incident (by id or unique prefix) and its
// timeline.
func (s *Service) IncidentView(ctx context.Context, ref string) (IncidentView, error) {
	in, err := s.FindIncident(ctx, ref)
	if err != nil {
		return IncidentView{}, err
	}
	tl, err := s.Store.Timeline(ctx, in.ID)
	if tl == nil {
		tl = []incident.Event{}
	}
	return IncidentView{in, tl}, err
}

// BlockVendor turns a vendor's kill switch on, recording who and why.
func (s *Service) BlockVendor(ctx context.Context, vendor, reason, by string) (store.Block, error) {
	reason = strings.TrimSpace(reason)
	if len(reason) > 1000 {
		return store.Block{}, invalid("a block reason is at most 1,000 bytes")
	}
	b := store.Block{Vendor: vendor, Reason: reason, BlockedBy: by, BlockedAt: s.now().Truncate(time.Microsecond)}
	return b, s.Store.BlockVendor(ctx, b)
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// AuditEntries reads at most limit audit entries matching f, oldest first,
// and the sequence number to continue from (0 when there are no more).
func (s *Service) AuditEntries(ctx context.Context, f store.AuditFilter, limit int) ([]audit.Entry, int64, error) {
	entries := []audit.Entry{}
	var next int64
	err := s.Store.ScanAudit(ctx, f, func(e audit.Entry) error {
		if len(entries) == limit {
			next = e.Seq
			return errStop
		}
		entries = append(entries, e)
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return entries, next, err
}

// Ready checks that the database answers, with a query that reads one row.
func (s *Service) Ready(ctx context.Context) error {
	_, err := s.Store.SchemaVersion(ctx)
	return err
}

// ParseLifetime reads an API token's lifetime: 90d, 2w, 12h, 30m (and any
// Go duration), between a minute and auth.MaxTokenLifetime.
func ParseLifetime(s string) (time.Duration, error) {
	bad := invalid("lifetime %q: use one such as 90d, 2w or 12h, at most %dd (tokens always expire)", s, auth.MaxTokenLifetime/(24*time.Hour))
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, bad
	}
	var d time.Duration
	if unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]; unit != 0 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 1000 {
			return 0, bad
		}
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, bad
		}
	}
	if d < time.Minute || d > auth.MaxTokenLifetime {
		return 0, bad
	}
	return d, nil
}

// CheckCategory checks a data category key against the taxonomy, with a
// suggestion for a typo; the error is ErrInvalid.
func (s *Service) CheckCategory(key string) error {
	if err := s.Checker.Taxonomy.Check(key); err != nil {
		return invalidError(err.Error())
	}
	return nil
}

// CheckChoice checks that v is one of choices (the lists of the
// inventory package); the error is ErrInvalid and names them.
func CheckChoice(what, v string, choices []string) error {
	if slices.Contains(choices, v) {
		return nil
	}
	return invalid("%s %q: use one of %s", what, v, strings.Join(choices, ", "))
}

// Actor names who a principal is, for the audit log and timelines:
// "user:ada" for a session, "token:wlt_k3jd9fpq2m" for an API token.
func (p Principal) Actor() string {
	if p.Token != nil {
		return "token:" + p.Token.ID
	}
	return "user:" + p.User.Name
}

// Permissions lists what the principal may do: its user's role, narrowed
// by its token's.
func (p Principal) Permissions() []auth.Permission {
	out := []auth.Permission{}
	for _, perm := range auth.Permissions() {
		if p.Can(perm) {
			out = append(out, perm)
		}
	}
	return out
}

// String is for messages: "user ada (viewer)" or "API token wlt_… of ada
// (role viewer, user editor)".
func (p Principal) String() string {
	if p.Token != nil {
		return fmt.Sprintf("API token %s of %s (role %s, user %s)", p.Token.ID, p.User.Name, p.Token.Role, p.User.Role)
	}
	return fmt.Sprintf("user %s (%s)", p.User.Name, p.User.Role)
}
