package auth

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"
)

// Limit allows Attempts failed logins in any Window (a sliding window: the
// attempts of the last Window count, whenever they were made).
type Limit struct {
	Attempts int
	Window   time.Duration
}

// LimiterConfig sets the login rate limits. A zero Limit is off.
type LimiterConfig struct {
	// UserIP limits guesses at one user's password from one client.
	UserIP Limit
	// IP limits one client across every user name (password spraying).
	IP Limit
	// User limits guesses at one user's password from everywhere. Off by
	// default: anyone could then lock a user (an admin, in an incident)
	// out, and argon2id's cost and the IP limits bound guessing already.
	User Limit
	// MaxKeys bounds the memory: past it, the client or user idle longest
	// is forgotten. 0 means 100,000 (a few tens of MB at worst).
	MaxKeys int
}

// DefaultLimits: 5 failures per user and client in 15 minutes (OWASP's
// and most identity providers' order of magnitude), 50 per client across
// users (an office behind one NAT address still logs in).
var DefaultLimits = LimiterConfig{
	UserIP: Limit{Attempts: 5, Window: 15 * time.Minute},
	IP:     Limit{Attempts: 50, Window: 15 * time.Minute},
}

// Limiter limits login attempts in memory, per process: several serve
// processes each allow the limits (documented in docs/auth.md). It is safe
// for concurrent use.
//
// A login calls Attempt before checking the password, which counts the
// attempt as a failure at once (so concurrent guesses cannot outrun the
// count), and Success after a right password, which takes it back.
type Limiter struct {
	cfg LimiterConfig
	now func() time.Time

	mu      sync.Mutex
	keys    map[string]*window
	sweepAt int // sweep expired keys when the map grows past this
}

// window holds the times of a key's latest failures, at most its limit's
// Attempts, oldest first.
type window struct {
	times []int64 // unix nanoseconds
	limit Limit
}

// NewLimiter returns a limiter; now is its clock (nil: time.Now).
func NewLimiter(cfg LimiterConfig, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	return &Limiter{cfg: cfg, now: now, keys: map[string]*window{}, sweepAt: 1024}
}

const userIPKey = "u+ip\x00"

type limitKey struct {
	key   string
	limit Limit
}

func (l *Limiter) limitKeys(user, ip string) []limitKey {
	// Keys are bounded in length: a request cannot make the limiter hold a
	// megabyte name.
	user = truncate(strings.ToLower(strings.TrimSpace(user)), 256)
	client := truncate(ClientKey(ip), 256)
	var out []limitKey
	if l.cfg.UserIP.Attempts > 0 {
		out = append(out, limitKey{userIPKey + user + "\x00" + client, l.cfg.UserIP})
	}
	if l.cfg.IP.Attempts > 0 {
		out = append(out, limitKey{"ip\x00" + client, l.cfg.IP})
	}
	if l.cfg.User.Attempts > 0 {
		out = append(out, limitKey{"u\x00" + user, l.cfg.User})
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ClientKey is the part of a client address that the limits count by: the
// address for IPv4, its /64 network for IPv6 (one subscriber usually holds
// a whole /64, so counting single addresses would count nothing). A string
// that is not an address counts as itself.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(ip); err2 == nil {
			a, err = ap.Addr(), nil
		}
	}
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Attempt reports whether a login for user from ip may go ahead. If so it
// counts as a failure until Success; if not, retryAfter says when the
// oldest counted failure leaves the window, and nothing is counted.
func (l *Limiter) Attempt(user, ip string) (ok bool, retryAfter time.Duration) {
	now := l.now().UnixNano()
	keys := l.limitKeys(user, ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		w := l.keys[k.key]
		if w == nil || len(w.times) < k.limit.Attempts {
			continue
		}
		// Full: blocked while the oldest of the last Attempts failures is
		// inside the window.
		if until := w.times[0] + int64(k.limit.Window); until > now {
			retryAfter = max(retryAfter, time.Duration(until-now))
		}
	}
	if retryAfter > 0 {
		return false, retryAfter
	}
	for _, k := range keys {
		w := l.keys[k.key]
		if w == nil {
			l.makeRoom(now)
			w = &window{limit: k.limit, times: make([]int64, 0, min(k.limit.Attempts, 8))}
			l.keys[k.key] = w
		}
		if len(w.times) == k.limit.Attempts {
			w.times = append(w.times[:0], w.times[1:]...)
		}
		w.times = append(w.times, now)
	}
	return true, 0
}

// Success records a right password after Attempt: the user's failures from
// this client are forgotten, and the attempt no longer counts against the
// client or the user.
func (l *Limiter) Success(user, ip string) {
	keys := l.limitKeys(user, ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		w := l.keys[k.key]
		switch {
		case w == nil:
		case strings.HasPrefix(k.key, userIPKey):
			delete(l.keys, k.key)
		case len(w.times) > 0:
			w.times = w.times[:len(w.times)-1]
			if len(w.times) == 0 {
				delete(l.keys, k.key)
			}
		}
	}
}

// makeRoom, called with l.mu held before a key is added, sweeps keys
// whose failures have all left their window when the map has doubled
// since the last sweep, and at MaxKeys forgets the eighth of the keys idle
// longest. Either way the work is O(log n) a key, amortized.
func (l *Limiter) makeRoom(now int64) {
	if len(l.keys) < l.sweepAt && len(l.keys) < l.cfg.MaxKeys {
		return
	}
	for k, w := range l.keys {
		if len(w.times) == 0 || w.times[len(w.times)-1]+int64(w.limit.Window) <= now {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= l.cfg.MaxKeys {
		lasts := make([]int64, 0, len(l.keys))
		for _, w := range l.keys {
			lasts = append(lasts, w.times[len(w.times)-1])
		}
		slices.Sort(lasts)
		keep := l.cfg.MaxKeys * 7 / 8
		cut := lasts[len(lasts)-keep-1] // the newest time to forget
		for _, drop := range []func(int64) bool{
			func(t int64) bool { return t < cut },
			func(t int64) bool { return t == cut }, // ties, as many as needed
		} {
			for k, w := range l.keys {
				if len(l.keys) <= keep {
					break
				}
				if drop(w.times[len(w.times)-1]) {
					delete(l.keys, k)
				}
			}
		}
	}
	l.sweepAt = max(2*len(l.keys), 1024)
}

// Len is the number of clients and users the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
