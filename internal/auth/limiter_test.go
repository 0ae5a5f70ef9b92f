package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{time.Date(2025, 11, 9, 12, 0, 0, 0, time.UTC)} }

// fail makes n failed logins.
func fail(t *testing.T, l *Limiter, user, ip string, n int) {
	t.Helper()
	for i := range n {
		if ok, _ := l.Attempt(user, ip); !ok {
			t.Fatalf("attempt %d of %s from %s refused", i+1, user, ip)
		}
	}
}

func TestLimiterUserIP(t *testing.T) {
	c := newClock()
	l := NewLimiter(DefaultLimits, c.now)
	fail(t, l, "ada", "203.0.113.7", 5)
	ok, retry := l.Attempt("ada", "203.0.113.7")
	if ok || retry != 15*time.Minute {
		t.Fatalf("6th attempt: %v, retry after %v", ok, retry)
	}
	// Case does not make another user; another user or client is not blocked.
	if ok, _ := l.Attempt("ADA", "203.0.113.7"); ok {
		t.Error("ADA is another user")
	}
	fail(t, l, "grace", "203.0.113.7", 1)
	fail(t, l, "ada", "198.51.100.1", 1)
	// 15 minutes after the five failures, which were made at once, they
	// leave the window together.
	c.advance(15*time.Minute - time.Second)
	if ok, retry := l.Attempt("ada", "203.0.113.7"); ok || retry != time.Second {
		t.Errorf("just before the window ends: %v %v", ok, retry)
	}
	c.advance(time.Second)
	fail(t, l, "ada", "203.0.113.7", 5)
	if ok, _ := l.Attempt("ada", "203.0.113.7"); ok {
		t.Error("a sixth attempt got through")
	}
}

func TestLimiterSpacedFailures(t *testing.T) {
	c := newClock()
	l := NewLimiter(DefaultLimits, c.now)
	// One failure every 4 minutes: the 5 of the last 15 minutes never fill
	// the window... 4 fit, the 5th fills it.
	for i := range 20 {
		ok, retry := l.Attempt("ada", "203.0.113.7")
		if !ok {
			t.Fatalf("attempt %d refused, retry %v", i, retry)
		}
		c.advance(4 * time.Minute)
	}
	// Five in a row after a pause: the sixth is refused for 15 minutes
	// from the oldest of them.
	c.advance(time.Hour)
	for range 5 {
		l.Attempt("ada", "203.0.113.7")
		c.advance(time.Minute)
	}
	if ok, retry := l.Attempt("ada", "203.0.113.7"); ok || retry != 10*time.Minute {
		t.Errorf("sixth: %v, retry after %v, want 10m", ok, retry)
	}
}

func TestLimiterSuccess(t *testing.T) {
	c := newClock()
	l := NewLimiter(DefaultLimits, c.now)
	fail(t, l, "ada", "203.0.113.7", 4)
	// The right password: her failures from there are forgotten.
	fail(t, l, "ada", "203.0.113.7", 1)
	l.Success("ada", "203.0.113.7")
	fail(t, l, "ada", "203.0.113.7", 5)
	if ok, _ := l.Attempt("ada", "203.0.113.7"); ok {
		t.Error("limit not restored after success")
	}
	// Logins that succeed do not use up the client's limit: a whole office
	// behind one address logs in.
	l2 := NewLimiter(DefaultLimits, c.now)
	for i := range 200 {
		u := fmt.Sprintf("user%d", i)
		fail(t, l2, u, "192.0.2.1", 1)
		l2.Success(u, "192.0.2.1")
	}
	if n := l2.Len(); n != 0 {
		t.Errorf("%d keys left after successful logins", n)
	}
}

func TestLimiterIP(t *testing.T) {
	c := newClock()
	l := NewLimiter(DefaultLimits, c.now)
	// Password spraying: one guess per user, from one client.
	for i := range 50 {
		fail(t, l, fmt.Sprintf("user%d", i), "203.0.113.7", 1)
	}
	if ok, retry := l.Attempt("user50", "203.0.113.7"); ok || retry != 15*time.Minute {
		t.Errorf("51st user from one client: %v %v", ok, retry)
	}
	// A correct password from there does not reset the client's count.
	l.Success("user0", "203.0.113.7")
	fail(t, l, "user51", "203.0.113.7", 1)
	if ok, _ := l.Attempt("user52", "203.0.113.7"); ok {
		t.Error("the client's limit was reset by a success")
	}
	// IPv6: a /64 is one client.
	l = NewLimiter(DefaultLimits, c.now)
	for i := range 50 {
		fail(t, l, fmt.Sprintf("user%d", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), 1)
	}
	if ok, _ := l.Attempt("user50", "2001:db8:1:2:ffff::1"); ok {
		t.Error("another address in the same /64 got through")
	}
	if ok, _ := l.Attempt("user50", "2001:db8:1:3::1"); !ok {
		t.Error("another /64 is refused")
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":              "192.0.2.1",
		"::ffff:192.0.2.1":       "192.0.2.1",
		"192.0.2.1:4711":         "192.0.2.1",
		"[2001:db8::1]:443":      "2001:db8::/64",
		"2001:db8:0:0:abcd::1":   "2001:db8::/64",
		"fe80::1%eth0":           "fe80::/64",
		"not an address":         "not an address",
		"2001:db8:aaaa:bbbb::99": "2001:db8:aaaa:bbbb::/64",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLimiterPerUser(t *testing.T) {
	c := newClock()
	cfg := DefaultLimits
	cfg.User = Limit{Attempts: 10, Window: time.Hour}
	l := NewLimiter(cfg, c.now)
	for i := range 10 {
		fail(t, l, "ada", fmt.Sprintf("198.51.100.%d", i), 1)
	}
	if ok, _ := l.Attempt("ada", "198.51.100.200"); ok {
		t.Error("per-user limit not applied")
	}
	if ok, _ := NewLimiter(DefaultLimits, c.now).Attempt("ada", "198.51.100.200"); !ok {
		t.Error("per-user limit on by default")
	}
}

func TestLimiterMemory(t *testing.T) {
	c := newClock()
	cfg := DefaultLimits
	cfg.MaxKeys = 2000
	l := NewLimiter(cfg, c.now)
	// Expired keys are swept as the map grows.
	for i := range 1500 {
		fail(t, l, "u", fmt.Sprintf("10.0.%d.%d", i/256, i%256), 1)
	}
	c.advance(time.Hour)
	for i := range 1500 {
		fail(t, l, "u", fmt.Sprintf("10.1.%d.%d", i/256, i%256), 1)
	}
	if n := l.Len(); n > 2000 {
		t.Errorf("%d keys, want at most 2000", n)
	}
	// At the cap the longest idle keys go: the newest clients stay counted.
	for i := range 3000 {
		c.advance(time.Millisecond)
		fail(t, l, "v", fmt.Sprintf("10.2.%d.%d", i/256, i%256), 1)
	}
	if n := l.Len(); n > 2000 {
		t.Errorf("%d keys, want at most 2000", n)
	}
	fail(t, l, "w", "10.9.9.9", 4)
	if ok, _ := l.Attempt("w", "10.9.9.9"); !ok {
		t.Fatal("5th refused")
	}
	if ok, _ := l.Attempt("w", "10.9.9.9"); ok {
		t.Error("the newest client was forgotten")
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(DefaultLimits, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _ := l.Attempt("ada", "203.0.113.7"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != 5 {
		t.Errorf("%d concurrent attempts allowed, want 5", allowed)
	}
}
