// Package audit is weaklink's tamper-evident record of every change: who
// changed what, when, and the object before and after. Entries form a hash
// chain: each entry's hash covers its content and the previous entry's
// hash, and the store keeps the head of the chain apart, so an edited,
// deleted, inserted or reordered entry, or a truncated tail, is detected by
// Verify.
//
// The store writes entries in the same transaction as the change they
// record; the actor comes from the request's context (WithActor).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Entry is one recorded change.
type Entry struct {
	// Seq numbers entries from 1 without gaps.
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// Action is what happened: create, update, delete, block, unblock,
	// open, and the like.
	Action string `json:"action"`
	// Object names what changed: "vendor:mixpanel", "incident:0193…".
	Object string `json:"object"`
	// Before and After are JSON renderings of the object (or of the fields
	// that changed); null where there is none.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Prev is the previous entry's hash ("" for the first); Hash is this
	// entry's, both in hex.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// Sum computes the entry's hash from its content and Prev: SHA-256 over
// each field, length-prefixed so that no two entries encode alike. Times
// count to the microsecond, in UTC, as both databases keep them.
func (e *Entry) Sum() string {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	field([]byte(e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)))
	field([]byte(e.Actor))
	field([]byte(e.Action))
	field([]byte(e.Object))
	field(e.Before)
	field(e.After)
	field([]byte(e.Prev))
	return hex.EncodeToString(h.Sum(nil))
}

// Chain sets e's Seq, Prev and Hash to follow the entry with sequence
// number seq and hash prev (0 and "" for the first entry).
func Chain(e *Entry, seq int64, prev string) {
	e.Seq = seq + 1
	e.Prev = prev
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = e.Sum()
}

// Head is the last entry's sequence number and hash, kept by the store
// apart from the entries.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Problem is the first place where the chain is broken.
type Problem struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

func (p *Problem) Error() string { return fmt.Sprintf("audit log entry %d: %s", p.Seq, p.Reason) }

// Verifier checks entries one at a time, in sequence order, so a log of any
// length is verified in constant memory.
type Verifier struct {
	seq     int64
	prev    string
	problem *Problem
}

// Add checks the next entry. After the first problem it does nothing.
func (v *Verifier) Add(e Entry) {
	if v.problem != nil {
		return
	}
	switch {
	case e.Seq != v.seq+1:
		if e.Seq > v.seq+1 {
			v.problem = &Problem{v.seq + 1, fmt.Sprintf("missing: the log goes from entry %d to entry %d (deleted entries)", v.seq, e.Seq)}
		} else {
			v.problem = &Problem{e.Seq, "out of order or repeated"}
		}
	case e.Prev != v.prev:
		v.problem = &Problem{e.Seq, "does not link to the entry before it (an entry was replaced or reordered)"}
	case e.Sum() != e.Hash:
		v.problem = &Problem{e.Seq, "its content does not match its hash (edited)"}
	}
	v.seq, v.prev = e.Seq, e.Hash
}

// Done checks the end of the log against the stored head and returns the
// first problem, or nil when the log is intact. entries is how many were
// checked.
func (v *Verifier) Done(head Head) (entries int64, err error) {
	if v.problem != nil {
		return v.seq, v.problem
	}
	if head.Seq != v.seq || head.Hash != v.prev {
		if head.Seq > v.seq {
			return v.seq, &Problem{v.seq + 1, fmt.Sprintf("the log ends at entry %d but its head says %d (entries deleted from the end)", v.seq, head.Seq)}
		}
		return v.seq, &Problem{head.Seq, "the log does not end where its head says (entries added or edited around the head)"}
	}
	return v.seq, nil
}

type actorKey struct{}

// WithActor returns a context whose changes are recorded as made by actor.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// Actor returns the context's actor, or "system".
func Actor(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}
