package web

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"
)

// The two pieces of single sign-on state a serve process keeps in memory,
// each behind its own lock: the provider's discovery (fetched once, shared
// by concurrent sign-ins, retried after a failure, never under a lock
// while on the network) and the states of finished sign-ins (replay
// protection, evicted by expiry only, bounded).

// ssoMaxFinished bounds the finished sign-ins remembered: each is kept
// until its cookie would expire (ssoLifetime), about 150 bytes, so the
// bound is some 15 MB and 166 sign-ins a second for ten minutes. Past it,
// new sign-ins are refused (503) rather than replay protection dropped.
const ssoMaxFinished = 100_000

// errSSOBusy refuses a sign-in when the replay set is full.
var errSSOBusy = errors.New("too many sign-ins in progress")

// replaySet holds the states of finished sign-ins until they expire: a
// map for look-ups and a min-heap by expiry for eviction, so that no
// operation scans the set and no unexpired state is ever forgotten.
type replaySet struct {
	mu    sync.Mutex
	max   int
	until map[string]time.Time
	order expiryHeap
}

type expiry struct {
	state string
	until time.Time
}

type expiryHeap []expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = expiry{}
	*h = old[:len(old)-1]
	return x
}

func newReplaySet(max int) *replaySet {
	return &replaySet{max: max, until: map[string]time.Time{}}
}

// evict forgets the states expired at now. Callers hold mu.
func (r *replaySet) evict(now time.Time) {
	for len(r.order) > 0 && !now.Before(r.order[0].until) {
		e := heap.Pop(&r.order).(expiry)
		if t, ok := r.until[e.state]; ok && t.Equal(e.until) {
			delete(r.until, e.state)
		}
	}
}

// seen says whether a state has finished already.
func (r *replaySet) seen(state string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evict(now)
	_, ok := r.until[state]
	return ok
}

// full says, when no new state fits, how long until one does.
func (r *replaySet) full(now time.Time) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evict(now)
	if len(r.until) < r.max {
		return 0, false
	}
	return r.order[0].until.Sub(now), true
}

// consume marks a state finished until its cookie expires: false if it
// was already; errSSOBusy (and how long to wait) if the set is full.
func (r *replaySet) consume(state string, until, now time.Time) (bool, time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evict(now)
	if _, ok := r.until[state]; ok {
		return false, 0, nil
	}
	if len(r.until) >= r.max {
		return false, r.order[0].until.Sub(now), errSSOBusy
	}
	r.until[state] = until
	heap.Push(&r.order, expiry{state, until})
	return true, 0, nil
}

// size is the number of states remembered.
func (r *replaySet) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.until)
}

// onceRetry runs a fetch once for all its concurrent callers and keeps
// its result if it succeeded; after a failure the next call fetches
// again. The fetch runs outside the lock, on a context that outlives any
// one caller (fetch bounds it): a caller that gives up (its request ends)
// leaves the others waiting for the same fetch.
type onceRetry[T any] struct {
	mu       sync.Mutex
	done     bool
	val      T
	inflight *fetchCall[T]
}

type fetchCall[T any] struct {
	ready chan struct{}
	val   T
	err   error
}

func (o *onceRetry[T]) get(ctx context.Context, fetch func(context.Context) (T, error)) (T, error) {
	o.mu.Lock()
	if o.done {
		defer o.mu.Unlock()
		return o.val, nil
	}
	c := o.inflight
	if c == nil {
		c = &fetchCall[T]{ready: make(chan struct{})}
		o.inflight = c
		go func() {
			v, err := fetch(context.WithoutCancel(ctx))
			o.mu.Lock()
			c.val, c.err = v, err
			if err == nil {
				o.done, o.val = true, v
			}
			o.inflight = nil
			o.mu.Unlock()
			close(c.ready)
		}()
	}
	o.mu.Unlock()
	select {
	case <-c.ready:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
