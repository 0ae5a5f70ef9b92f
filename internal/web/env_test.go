package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/cli"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres/pgtest"
	"github.com/weaklink/weaklink/internal/store/storetest"
	"github.com/weaklink/weaklink/internal/web"
)

// acme is the example inventory, relative to this package.
const acme = "../../examples/acme"

var ctx = context.Background()

// eachBackend runs fn against a fresh SQLite file and a fresh PostgreSQL
// schema.
func eachBackend(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "weaklink.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.URL(t)) })
}

// env is a real server on 127.0.0.1 over a real database, with a user
// and an API token of every role, and a settable clock.
type env struct {
	t      *testing.T
	db     string
	clock  *storetest.Clock
	store  store.Store
	svc    *service.Service
	srv    *web.Server
	ts     *httptest.Server
	logs   *syncBuffer
	tokens map[auth.Role]string // a token of each role, for a user of that role
	// secrets lists every secret and password the test used, to check
	// that none reaches the log.
	secrets []string
}

// newEnv starts a server; with example, the acme inventory is applied
// first (by the CLI, as a user would).
func newEnv(t *testing.T, db string, example bool) *env {
	t.Helper()
	if example {
		var out, errOut bytes.Buffer
		if code := cli.Main([]string{"--db", db, "apply", "-f", acme}, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("apply: %d %s", code, errOut.String())
		}
	}
	e := &env{t: t, db: db, clock: storetest.NewClock(), logs: &syncBuffer{}, tokens: map[auth.Role]string{}}
	st, err := cli.OpenStore(ctx, db, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	e.svc = service.New(st)
	e.svc.Now = e.clock.Now
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	e.srv, err = web.New(web.Options{Service: e.svc, Logger: log, Now: e.clock.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	for _, r := range auth.Roles {
		e.user(string(r), r)
		e.tokens[r] = e.token(string(r), r)
	}
	return e
}

// user makes a user without a password (no login, no hashing), and so
// without a one-time one: its sessions may reach every page its role
// allows (account_test.go tests one-time passwords).
func (e *env) user(name string, r auth.Role) {
	e.t.Helper()
	if _, err := e.store.CreateUser(ctx, auth.User{Name: name, Role: r, MustChangePassword: false}); err != nil {
		e.t.Fatal(err)
	}
}

// token makes an API token for a user.
func (e *env) token(user string, r auth.Role) string {
	e.t.Helper()
	_, sec, err := e.svc.CreateToken(ctx, service.TokenRequest{User: user, Role: r, Name: "test"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, sec.Reveal())
	return sec.Reveal()
}

// session starts a session for a user without a password, as a login
// would, and returns its secret.
func (e *env) session(user string) string {
	e.t.Helper()
	sec := auth.NewSessionSecret()
	now := e.clock.Now()
	if err := e.store.CreateSession(ctx, auth.Session{ID: sec.ID, Hash: sec.Hash, User: user, CreatedAt: now, LastSeen: now,
		ExpiresAt: now.Add(auth.DefaultSessionPolicy.Absolute)}); err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, sec.Reveal())
	return sec.Reveal()
}

// req is a request to the test server.
type req struct {
	method, path string
	body         any               // encoded as JSON unless a string or []byte
	bearer       string            // Authorization: Bearer
	cookie       string            // the session cookie
	header       map[string]string // more headers
}

// resp is a response, read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, e.ts.URL+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: web.CookieName, Value: r.cookie})
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.ts.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// ok does a request that must answer want, and decodes its body into v
// (if not nil).
func (e *env) ok(r req, want int, v any) resp {
	e.t.Helper()
	res := e.do(r)
	if res.status != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", r.method, r.path, res.status, want, res.body)
	}
	if v != nil {
		if err := json.Unmarshal(res.body, v); err != nil {
			e.t.Fatalf("%s %s: %v\n%s", r.method, r.path, err, res.body)
		}
	}
	return res
}

// apiErr decodes an error body.
func (r resp) apiErr(t *testing.T) web.ErrorInfo {
	t.Helper()
	var er web.ErrorResponse
	if err := json.Unmarshal(r.body, &er); err != nil || er.Error.Code == "" {
		t.Fatalf("not an error body (%v): %s", err, r.body)
	}
	return er.Error
}

// checkLogs fails if the log holds any secret or password the test used,
// or a cookie header.
func (e *env) checkLogs(extra ...string) {
	e.t.Helper()
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"http"`) {
		e.t.Errorf("no access log lines:\n%.500s", logs)
	}
	for _, s := range append(e.secrets, extra...) {
		if s != "" && strings.Contains(logs, s) {
			e.t.Errorf("the log holds a secret or password (%.8s…)", s)
		}
	}
	for _, s := range []string{web.CookieName, "Bearer "} {
		if strings.Contains(logs, s) {
			e.t.Errorf("the log mentions %q", s)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// advance moves the clock, and past the authentication cache.
func (e *env) advance(d time.Duration) { e.clock.Advance(d) }

// httptestRecorder serves one GET with a handler in memory.
func httptestRecorder(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}
