package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

func TestClientIP(t *testing.T) {
	s := &Server{opts: Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.7:5000", nil, "192.0.2.7"},
		{"192.0.2.7:5000", []string{"203.0.113.9"}, "192.0.2.7"}, // not a trusted proxy: its header is ignored
		{"10.1.2.3:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"10.1.2.3:5000", []string{"198.51.100.1, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"}, // the nearest untrusted hop
		{"10.1.2.3:5000", []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9"},
		{"10.1.2.3:5000", []string{"10.2.2.2"}, "10.2.2.2"}, // all trusted: the farthest
		{"10.1.2.3:5000", []string{"spoofed, 203.0.113.9"}, "203.0.113.9"},
		{"10.1.2.3:5000", []string{"203.0.113.9, garbage"}, "10.1.2.3"}, // a malformed hop: trust nothing beyond it
		{"[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"[::ffff:192.0.2.7]:5000", nil, "192.0.2.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientIP(r); got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestRedactPath(t *testing.T) {
	sec := auth.NewTokenSecret().Reveal()
	for in, want := range map[string]string{
		"/api/v1/tokens/" + sec:         "/api/v1/tokens/" + sec[:14] + "…",
		"/api/v1/tokens/wlt_k3jd9fpq2m": "/api/v1/tokens/wlt_k3jd9fpq2m",
		"/api/v1/vendors/mixpanel":      "/api/v1/vendors/mixpanel",
		"/x/" + "wls_" + sec[4:] + "/y": "/x/wls_" + sec[4:14] + "…/y",
	} {
		if got := redactPath(in); got != want {
			t.Errorf("redactPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptional(t *testing.T) {
	var p IncidentPatch
	if err := json.Unmarshal([]byte(`{"high_risk": null, "owner": "x", "times": {"aware": null}}`), &p); err != nil {
		t.Fatal(err)
	}
	if !p.HighRisk.Set || !p.HighRisk.Null || !p.Owner.Set || p.Owner.Value != "x" || p.Title.Set {
		t.Errorf("%+v", p)
	}
	if v, ok := p.Times["aware"]; !ok || v != nil {
		t.Errorf("times: %v", p.Times)
	}
}

// TestCacheRevocationRace: a look-up that began before a clear is not
// stored, so a revoked token cannot come back from the cache.
func TestCacheRevocationRace(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newPrincipalCache(time.Minute, func() time.Time { return now })
	calls := 0
	lookup := func(context.Context, string) (service.Principal, error) {
		calls++
		if calls == 1 {
			c.clear() // the token is revoked while its look-up runs
		}
		return service.Principal{User: auth.User{Name: "ada"}}, nil
	}
	for range 2 {
		if _, err := c.get(context.Background(), "wlt_x", lookup); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 2 {
		t.Errorf("%d look-ups: the first, stale one was cached", calls)
	}
	if _, err := c.get(context.Background(), "wlt_x", lookup); err != nil || calls != 2 {
		t.Errorf("a fresh look-up was not cached: %d %v", calls, err)
	}
	fail := func(context.Context, string) (service.Principal, error) {
		return service.Principal{}, service.ErrUnauthenticated
	}
	if _, err := c.get(context.Background(), "wlt_y", fail); !errors.Is(err, service.ErrUnauthenticated) {
		t.Error(err)
	}
	now = now.Add(time.Minute)
	if _, err := c.get(context.Background(), "wlt_x", lookup); err != nil || calls != 3 {
		t.Errorf("an expired entry was used: %d", calls)
	}
}
