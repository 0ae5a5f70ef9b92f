package gateway

import (
	"context"

	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// Backend is what a gateway needs from weaklink: the vendors' gates, and
// somewhere to write the ledger and the flows it observed. Local works on
// the database through the service; a client of the server's gateway API
// (weaklink gateway --server) needs no database credentials.
//
// Failures behave the same either way: gates that cannot be read keep the
// last known state (and before the first read, nothing is forwarded); a
// ledger write that fails leaves the entries pending for the next flush.
type Backend interface {
	Gates(ctx context.Context, vendors []string) (map[string]store.Gate, error)
	// RecordLedger writes entries and actions. An error that wraps a
	// *PartialLedgerError says which of them were written all the same.
	RecordLedger(ctx context.Context, entries []store.LedgerEntry, actions []store.ActionCount) error
	RecordObserved(ctx context.Context, flows []service.ObservedFlow) error
}

// PartialLedgerError reports a ledger write that was split into several
// and failed part way: the first Entries entries and the first Actions
// actions were written, the rest were not.
type PartialLedgerError struct {
	Entries, Actions int
	Err              error
}

func (e *PartialLedgerError) Error() string { return e.Err.Error() }
func (e *PartialLedgerError) Unwrap() error { return e.Err }

// Local is the backend over the database.
func Local(svc *service.Service) Backend { return localBackend{svc} }

type localBackend struct{ svc *service.Service }

func (l localBackend) Gates(ctx context.Context, vendors []string) (map[string]store.Gate, error) {
	return l.svc.Store.Gates(ctx, vendors)
}

func (l localBackend) RecordLedger(ctx context.Context, entries []store.LedgerEntry, actions []store.ActionCount) error {
	return l.svc.Store.RecordLedger(ctx, entries, actions)
}

func (l localBackend) RecordObserved(ctx context.Context, flows []service.ObservedFlow) error {
	return l.svc.RecordObserved(ctx, flows)
}
