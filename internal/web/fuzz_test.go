package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store/sqlite"
)

// Fuzz targets for what the web layer parses from strangers: where a
// login may send the browser, the hidden field that carries an uploaded
// inventory, the signed single-sign-on cookie, and every JSON body and
// UI form the server accepts.
//
//	go test ./internal/web -run '^$' -fuzz FuzzSafeNext -fuzztime 30s

// FuzzSafeNext: whatever next a login or a form carries, the browser is
// sent to a path on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/", "/vendors?q=x", "//evil.example", "/\\evil.example", "https://evil.example/",
		"/%2F%2Fevil.example", "javascript:alert(1)", "/\t/evil.example", "/login", "/a/../..//evil", "/?next=//x", "\\\\x", "/%5Cevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("safeNext(%q) = %q: not a path on this site", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("safeNext(%q) = %q parses as %+v (%v)", next, got, u, err)
		}
		// What the browser does with it: resolved against this site, it
		// stays on this site.
		base, _ := url.Parse("https://weaklink.example/login")
		if r := base.ResolveReference(u); r.Host != "weaklink.example" {
			t.Fatalf("safeNext(%q) = %q leads to %s", next, got, r)
		}
	})
}

// FuzzUnpack: the hidden field of the import form is the user's to
// change; any value either decodes within the limit or is refused with a
// 400 or 413, and what pack writes unpacks to itself.
func FuzzUnpack(f *testing.F) {
	good, _ := pack([]byte("kind: vendor\nid: x\n"))
	f.Add(good, []byte("vendors: []"))
	f.Add("", []byte{})
	f.Add("H4sIAAAAAAAA/w==", []byte{0})
	f.Fuzz(func(t *testing.T, field string, doc []byte) {
		const limit = 1 << 16
		b, err := unpack(field, limit)
		if err == nil && len(b) > limit {
			t.Fatalf("unpack returned %d bytes over the limit %d", len(b), limit)
		}
		var ae *apiError
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("unpack: %v is not an API error", err)
		}
		if err != nil && ae.status != http.StatusBadRequest && ae.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("unpack: status %d", ae.status)
		}
		p, err := pack(doc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := unpack(p, len(doc))
		if err != nil || !bytes.Equal(back, doc) {
			t.Fatalf("pack then unpack: %q, %v; want %q", back, err, doc)
		}
	})
}

// FuzzSSOCookie: the sign-in cookie opens only as sealed: any change to
// a sealed value, or any value not sealed with the key, is refused.
func FuzzSSOCookie(f *testing.F) {
	f.Add("state", "nonce", "verifier", "/vendors", "garbage.value", uint16(3))
	f.Add("s", "n", "v", "", "", uint16(0))
	f.Fuzz(func(t *testing.T, state, nonce, verifier, next, raw string, flip uint16) {
		now := time.Unix(1_800_000_000, 0)
		o := &sso{key: []byte("a key of thirty-two bytes, fixed"), now: func() time.Time { return now }}
		other := &sso{key: []byte("another key, also thirty-two byt"), now: o.now}
		st := ssoState{State: state, Nonce: nonce, Verifier: verifier, Next: next, Expires: now.Add(time.Minute).Unix()}
		sealed := o.seal(st)
		got, ok := o.open(sealed)
		// JSON carries text: invalid UTF-8 comes back as U+FFFD.
		var want ssoState
		b, _ := json.Marshal(st)
		_ = json.Unmarshal(b, &want)
		if wantOK := want.State != "" && want.Nonce != "" && want.Verifier != ""; ok != wantOK || ok && got != want {
			t.Fatalf("open(seal(%+v)) = %+v, %v", st, got, ok)
		}
		if _, ok := other.open(sealed); ok {
			t.Fatal("a cookie sealed with another key opened")
		}
		if len(sealed) > 0 {
			i := int(flip) % len(sealed)
			tampered := []byte(sealed)
			tampered[i] ^= 1 + byte(flip>>8)%127
			if _, ok := o.open(string(tampered)); ok && string(tampered) != sealed {
				t.Fatalf("a changed cookie opened: byte %d of %q", i, sealed)
			}
		}
		// The fuzzer never sees a sealed value, and cannot forge an HMAC.
		if _, ok := o.open(raw); ok {
			t.Fatalf("an unsealed value opened: %q", raw)
		}
	})
}

// fuzzServer is a server over a fresh SQLite file holding the vendor
// mixpanel, an incident at it, a second user, and an admin's API token.
func fuzzServer(f *testing.F) (srv *Server, token, incidentID string) {
	f.Helper()
	ctx := audit.WithActor(context.Background(), "fuzz")
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc := service.New(st)
	if _, err := svc.AddVendor(ctx, inventory.Vendor{ID: "mixpanel", Name: "Mixpanel", Category: "analytics", Status: "active"}); err != nil {
		f.Fatal(err)
	}
	in, err := svc.OpenIncident(ctx, incident.Incident{Vendor: "mixpanel", Title: "fuzz"}, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	for _, u := range []auth.User{{Name: "admin", Role: auth.RoleAdmin}, {Name: "bob", Role: auth.RoleViewer}} {
		if _, err := st.CreateUser(ctx, u); err != nil {
			f.Fatal(err)
		}
	}
	_, sec, err := svc.CreateToken(ctx, service.TokenRequest{User: "admin"})
	if err != nil {
		f.Fatal(err)
	}
	srv, err = New(Options{Service: svc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AuthCacheTTL: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	return srv, sec.Reveal(), in.ID
}

// fuzzTargets are the routes that read a body, with a seed each.
func fuzzTargets(id string) []struct{ method, path, seed string } {
	return []struct{ method, path, seed string }{
		{"POST", "/api/v1/incidents", `{"vendor":"mixpanel","title":"t","times":{"aware":"2025-11-25T18:00:00Z"},"categories":["user.name"]}`},
		{"PATCH", "/api/v1/incidents/" + id, `{"status":"contained","notes":"n","high_risk":true}`},
		{"POST", "/api/v1/incidents/" + id + "/contain", `{"reason":"r","vendors":["mixpanel"]}`},
		{"POST", "/api/v1/users", `{"name":"carol","role":"viewer"}`},
		{"PATCH", "/api/v1/users/bob", `{"role":"auditor","disabled":false}`},
		{"POST", "/api/v1/tokens", `{"user":"bob","expires":"30d"}`},
		{"POST", "/api/v1/vendors/mixpanel/block", `{"reason":"breach"}`},
		{"POST", "/api/v1/login", `{"username":"admin","password":"x"}`},
		{"POST", "/api/v1/inventory/plan", "kind: vendor\nid: x\nname: X\ncategory: analytics\nstatus: active\n"},
	}
}

// FuzzAPIBodies: any body to any route that reads one gets an answer,
// never a 5xx, and a refusal is the API's JSON error with a message.
func FuzzAPIBodies(f *testing.F) {
	srv, token, id := fuzzServer(f)
	targets := fuzzTargets(id)
	for i, tg := range targets {
		f.Add(uint8(i), tg.seed, "application/json")
		f.Add(uint8(i), tg.seed[:len(tg.seed)/2], "application/json")
	}
	f.Add(uint8(0), "{}", "text/plain")
	f.Fuzz(func(t *testing.T, which uint8, body, contentType string) {
		tg := targets[int(which)%len(targets)]
		r := httptest.NewRequest(tg.method, tg.path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", tg.method, tg.path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s with %q: %d without a JSON error: %s", tg.method, tg.path, body, w.Code, w.Body)
			}
		}
	})
}

// FuzzUIForms: any form posted to the UI's form targets gets a page or a
// redirect, never a 5xx.
func FuzzUIForms(f *testing.F) {
	srv, token, id := fuzzServer(f)
	targets := []string{"/incidents", "/incidents/" + id + "/update", "/incidents/" + id + "/contain", "/incidents/" + id + "/close",
		"/login", "/logout", "/account/password", "/inventory/apply"}
	f.Add(uint8(0), "vendor=mixpanel&title=t&aware=2025-11-25T18%3A00&categories=user.name")
	f.Add(uint8(1), "status=contained&severity=high&aware=2025-11-25&notes=x&revision=1")
	f.Add(uint8(2), "block=mixpanel&reason=r")
	f.Add(uint8(4), "username=admin&password=x&next=%2F%2Fevil")
	f.Add(uint8(6), "current_password=a&new_password=b&confirm_password=c")
	f.Add(uint8(7), "files=H4sI&version=1&digest=x&prune=on")
	f.Fuzz(func(t *testing.T, which uint8, form string) {
		path := targets[int(which)%len(targets)]
		r := httptest.NewRequest("POST", path, strings.NewReader(form))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("POST %s with %q: %d %.500s", path, form, w.Code, w.Body)
		}
	})
}
