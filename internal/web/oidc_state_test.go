package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReplaySetBound: states are forgotten only once expired, in expiry
// order whatever the insertion order; at the bound a new state is refused
// (errSSOBusy, with the wait until the first expiry) and none is dropped.
func TestReplaySetBound(t *testing.T) {
	t0 := time.Date(2025, 11, 9, 12, 0, 0, 0, time.UTC)
	const n = 5000
	r := newReplaySet(n)
	until := map[string]time.Time{}
	for i := range n {
		s := fmt.Sprintf("state-%d", i)
		until[s] = t0.Add(time.Duration(1+rand.IntN(600)) * time.Second)
		if ok, _, err := r.consume(s, until[s], t0); !ok || err != nil {
			t.Fatalf("consume %s: %v %v", s, ok, err)
		}
	}
	if ok, _, err := r.consume("state-0", until["state-0"], t0); ok || err != nil {
		t.Errorf("a replay: %v %v", ok, err)
	}
	first := t0.Add(time.Hour)
	for _, u := range until {
		if u.Before(first) {
			first = u
		}
	}
	ok, wait, err := r.consume("one-too-many", t0.Add(10*time.Minute), t0)
	if ok || !errors.Is(err, errSSOBusy) || wait != first.Sub(t0) {
		t.Errorf("at the bound: %v %v %v, want errSSOBusy and %v", ok, wait, err, first.Sub(t0))
	}
	if w, full := r.full(t0); !full || w != wait {
		t.Errorf("full: %v %v", w, full)
	}
	// Nothing was dropped.
	for s := range until {
		if !r.seen(s, t0) {
			t.Fatalf("%s forgotten at the bound", s)
		}
	}
	// Five minutes on, exactly the expired ones are gone.
	at := t0.Add(5 * time.Minute)
	for s, u := range until {
		if r.seen(s, at) == !at.Before(u) {
			t.Fatalf("%s (until %v) at %v: seen %v", s, u, at, r.seen(s, at))
		}
	}
	if _, full := r.full(at); full {
		t.Error("still full after expiries")
	}
	if ok, _, err := r.consume("after", at.Add(10*time.Minute), at); !ok || err != nil {
		t.Errorf("room after expiries: %v %v", ok, err)
	}
	if r.size() > n || len(r.order) != r.size() {
		t.Errorf("map %d, heap %d", r.size(), len(r.order))
	}
	if r.size() != 1+func() int {
		c := 0
		for _, u := range until {
			if at.Before(u) {
				c++
			}
		}
		return c
	}() {
		t.Errorf("size %d after expiries", r.size())
	}
}

// TestSSODiscoveryOutsideLocks: discovery is one fetch for all
// concurrent sign-ins, holds no lock the replay check needs while it
// waits for the provider, survives a caller that gives up, and is tried
// again after a failure.
func TestSSODiscoveryOutsideLocks(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	fail := atomic.Bool{}
	fail.Store(true)
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		if fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
			ts.URL, ts.URL+"/authorize", ts.URL+"/token", ts.URL+"/jwks")
	}))
	defer ts.Close()
	o, err := newSSO(&OIDC{Issuer: ts.URL, ClientID: "c", ClientSecret: "s", RedirectURL: "http://127.0.0.1:1/auth/oidc/callback"},
		slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// A failure is not kept.
	if _, _, err := o.discover(context.Background()); err == nil {
		t.Fatal("discovery of a failing provider succeeded")
	}
	fail.Store(false)
	hits.Store(0)

	// Twenty sign-ins at once, one of which gives up: one fetch.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	gaveUp, cancel := context.WithCancel(context.Background())
	for i := range errs {
		ctx := context.Background()
		if i == 0 {
			ctx = gaveUp
		}
		wg.Add(1)
		go func() { defer wg.Done(); _, _, errs[i] = o.discover(ctx) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	// While the provider is slow, the replay checks go on.
	checked := make(chan struct{})
	go func() {
		now := time.Now()
		o.used.seen("x", now)
		o.used.consume("y", now.Add(time.Minute), now)
		close(checked)
	}()
	select {
	case <-checked:
	case <-time.After(2 * time.Second):
		t.Fatal("the replay check waited for discovery")
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if (i == 0) != errors.Is(err, context.Canceled) || (i > 0 && err != nil) {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches of the discovery document, want 1", n)
	}
	if oc, v, err := o.discover(context.Background()); err != nil || oc == nil || v == nil || hits.Load() != 1 {
		t.Errorf("after discovery: %v %v %v, %d fetches", oc, v, err, hits.Load())
	}
}
