package web

import (
	"context"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/service"
)

// principalCache remembers, briefly, who a verified secret belongs to, so
// that a burst of requests with one token costs one database look-up
// rather than one each. Entries are keyed by the secret's SHA-256 (the
// secret itself is not kept) and live for ttl; only successes are cached.
//
// Every change this server makes to users, tokens or sessions clears the
// cache, so a revocation through the API takes effect at once; changes
// made elsewhere (the CLI, another serve process) within ttl.
type principalCache struct {
	ttl time.Duration
	now func() time.Time

	mu  sync.RWMutex
	m   map[string]cachedPrincipal
	gen uint64 // bumped by clear: a look-up that began before it is not stored
}

type cachedPrincipal struct {
	p     service.Principal
	until time.Time
}

// maxCached bounds the cache; past it, expired entries are swept and, if
// that is not enough, everything is forgotten.
const maxCached = 10_000

func newPrincipalCache(ttl time.Duration, now func() time.Time) *principalCache {
	return &principalCache{ttl: ttl, now: now, m: map[string]cachedPrincipal{}}
}

// get returns the principal of secret, from the cache or from lookup.
func (c *principalCache) get(ctx context.Context, secret string, lookup func(context.Context, string) (service.Principal, error)) (*service.Principal, error) {
	if c.ttl < 0 {
		p, err := lookup(ctx, secret)
		return &p, err
	}
	key := auth.HashSecret(secret)
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[key]
	gen := c.gen
	c.mu.RUnlock()
	if ok && now.Before(e.until) {
		p := e.p
		return &p, nil
	}
	p, err := lookup(ctx, secret)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.m) >= maxCached {
			for k, e := range c.m {
				if !now.Before(e.until) {
					delete(c.m, k)
				}
			}
			if len(c.m) >= maxCached {
				c.m = map[string]cachedPrincipal{}
			}
		}
		c.m[key] = cachedPrincipal{p: p, until: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return &p, nil
}

// clear forgets every principal: a user, token or session changed.
func (c *principalCache) clear() {
	c.mu.Lock()
	c.m = map[string]cachedPrincipal{}
	c.gen++
	c.mu.Unlock()
}
