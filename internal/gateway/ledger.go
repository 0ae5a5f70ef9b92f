package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// MaxPendingLedger bounds the ledger entries held in memory between flushes;
// past it, the next Add triggers a flush.
const MaxPendingLedger = 200_000

// Ledger aggregates what vendors received in memory and flushes it to the
// backend in batches. Several gateways may write to one database: the store
// merges rows.
type Ledger struct {
	backend  Backend
	hash     func(string) string // keyed hash of subjects; nil keeps them in plaintext
	mu       sync.Mutex
	entries  map[ledgerKey]*store.LedgerEntry
	actions  map[actionKey]int64
	observed map[flowKey]*observation
	flushNow chan struct{}
}

type ledgerKey struct{ vendor, subject, category string }
type actionKey struct{ vendor, action, category string }
type flowKey struct{ system, vendor, route string }

type observation struct {
	categories  map[string]bool
	first, last time.Time
	messages    int64
	changed     bool
}

// NewLedger makes a ledger writing to b. hash, when not nil, turns subject
// keys into keyed hashes before they are stored.
func NewLedger(b Backend, hash func(string) string) *Ledger {
	return &Ledger{
		backend: b, hash: hash,
		entries:  map[ledgerKey]*store.LedgerEntry{},
		actions:  map[actionKey]int64{},
		observed: map[flowKey]*observation{},
		flushNow: make(chan struct{}, 1),
	}
}

// Add records one forwarded batch: per message, the subject and the
// categories it carried after the policy; per decision, the action counts.
func (l *Ledger) Add(vendor, system, route string, out Outcome, at time.Time) {
	at = at.UTC().Truncate(time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	fk := flowKey{system, vendor, route}
	obs := l.observed[fk]
	if obs == nil {
		obs = &observation{categories: map[string]bool{}, first: at}
		l.observed[fk] = obs
	}
	hashed := map[string]string{} // a batch carries one person's id many times
	for i, cats := range out.Sent {
		obs.messages++
		obs.last = at
		for _, c := range cats {
			if !obs.categories[c] {
				obs.categories[c] = true
				obs.changed = true
			}
		}
		subject := out.Subjects[i]
		if subject == "" {
			continue
		}
		if l.hash != nil {
			h, ok := hashed[subject]
			if !ok {
				h = l.hash(subject)
				hashed[subject] = h
			}
			subject = h
		}
		for _, c := range cats {
			k := ledgerKey{vendor, subject, c}
			if e := l.entries[k]; e != nil {
				e.LastSeen = at
				e.Messages++
			} else {
				l.entries[k] = &store.LedgerEntry{Vendor: vendor, Subject: subject, Category: c, FirstSeen: at, LastSeen: at, Messages: 1}
			}
		}
	}
	for k, n := range out.Counts {
		if k.Action == ActKeep {
			continue
		}
		cat := k.Category
		if cat == "" {
			cat = "unclassified"
		}
		l.actions[actionKey{vendor, actionName(k.Action), cat}] += int64(n)
	}
	if len(l.entries) >= MaxPendingLedger {
		select {
		case l.flushNow <- struct{}{}:
		default:
		}
	}
}

// CountBlocked records messages a gateway refused for a vendor.
func (l *Ledger) CountBlocked(vendor, reason string, messages int64) {
	l.mu.Lock()
	l.actions[actionKey{vendor, "blocked", reason}] += messages
	l.mu.Unlock()
}

func actionName(a string) string {
	switch a {
	case ActDrop:
		return "dropped"
	case ActHash:
		return "hashed"
	case ActRedact:
		return "redacted"
	case ActTruncateIP:
		return "truncated"
	case ActGeneralize:
		return "generalized"
	case ActBucket:
		return "bucketed"
	}
	return a
}

// Pending is how many ledger entries wait for the next flush.
func (l *Ledger) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Flush writes pending entries and counts. On failure they stay pending,
// merged with whatever arrives meanwhile, for the next flush.
func (l *Ledger) Flush(ctx context.Context) error {
	l.mu.Lock()
	entries := make([]store.LedgerEntry, 0, len(l.entries))
	for _, e := range l.entries {
		entries = append(entries, *e)
	}
	actions := make([]store.ActionCount, 0, len(l.actions))
	for k, n := range l.actions {
		actions = append(actions, store.ActionCount{Vendor: k.vendor, Action: k.action, Category: k.category, Count: n})
	}
	l.entries = map[ledgerKey]*store.LedgerEntry{}
	l.actions = map[actionKey]int64{}
	l.mu.Unlock()

	err := l.backend.RecordLedger(ctx, entries, actions)
	if err != nil {
		// What a split write got through is not kept again.
		var part *PartialLedgerError
		if errors.As(err, &part) {
			entries, actions = entries[min(part.Entries, len(entries)):], actions[min(part.Actions, len(actions)):]
		}
		l.mu.Lock()
		for _, e := range entries {
			k := ledgerKey{e.Vendor, e.Subject, e.Category}
			if cur := l.entries[k]; cur != nil {
				cur.FirstSeen = minTime(cur.FirstSeen, e.FirstSeen)
				cur.LastSeen = maxTime(cur.LastSeen, e.LastSeen)
				cur.Messages += e.Messages
			} else {
				e := e
				l.entries[k] = &e
			}
		}
		for _, a := range actions {
			l.actions[actionKey{a.Vendor, a.Action, a.Category}] += a.Count
		}
		l.mu.Unlock()
		return fmt.Errorf("ledger flush: %w", err)
	}
	return nil
}

// UpdateObserved writes what the gateway saw into the inventory as observed
// flows (source: observed), one per route: the categories that really went
// to each vendor, with first and last seen (service.RecordObserved, on
// the database or through the server's API).
func (l *Ledger) UpdateObserved(ctx context.Context, purpose func(vendor string) string) error {
	l.mu.Lock()
	var todo []service.ObservedFlow
	for k, o := range l.observed {
		if !o.changed && o.messages == 0 {
			continue
		}
		cats := make([]string, 0, len(o.categories))
		for c := range o.categories {
			cats = append(cats, c)
		}
		if len(cats) == 0 {
			continue
		}
		todo = append(todo, service.ObservedFlow{
			System: k.system, Vendor: k.vendor, Route: k.route, Purpose: purpose(k.vendor),
			Categories: cats, FirstSeen: o.first, LastSeen: o.last,
		})
		o.changed, o.messages = false, 0
	}
	l.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	return l.backend.RecordObserved(ctx, todo)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
