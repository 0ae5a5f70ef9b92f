package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// Limits of the gateway's client of the server's gateway API.
var (
	// gatewayGatesTimeout bounds one read of the gates: the gateway polls
	// every second, and a slow answer must not hold back the next poll.
	gatewayGatesTimeout = 5 * time.Second
	// gatewayWriteTimeout bounds one ledger or observed-flows write.
	gatewayWriteTimeout = time.Minute
	// gatewayLedgerChunk is the size a ledger flush is split at: well
	// below the server's 16 MiB limit of one request.
	gatewayLedgerChunk = 8 << 20
	// gatewayGatesPerRequest is the server's limit of vendors per read.
	gatewayGatesPerRequest = 1000
	// gatewayObservedPerRequest is the server's limit of flows per write.
	gatewayObservedPerRequest = 1000
)

// gatewayRemote is the gateway's backend over the server's gateway API
// (GET /api/v1/gateway/gates, POST /api/v1/gateway/ledger and observed),
// with a token of the gateway role: the gateway needs no database
// credentials. It reuses the command line's client (remote.go): its URL
// checks, its bearer token that is never logged nor put in a URL, its
// unfollowed redirects and its bounded answers.
type gatewayRemote struct{ r *remote }

var _ gateway.Backend = gatewayRemote{}

func (g gatewayRemote) Gates(ctx context.Context, vendors []string) (map[string]store.Gate, error) {
	out := make(map[string]store.Gate, len(vendors))
	for start := 0; start < len(vendors); start += gatewayGatesPerRequest {
		q := url.Values{"vendor": vendors[start:min(start+gatewayGatesPerRequest, len(vendors))]}
		var gates []service.GatewayGate
		cctx, cancel := context.WithTimeout(ctx, gatewayGatesTimeout)
		err := g.r.get(cctx, "/gateway/gates", q, &gates)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, x := range gates {
			out[x.Vendor] = store.Gate{Exists: x.Exists, Status: x.Status, Block: x.Block}
		}
	}
	return out, nil
}

// RecordLedger sends the flush in requests of at most gatewayLedgerChunk
// bytes, actions first. When one fails after others got through, the
// error says how much was written (gateway.PartialLedgerError), so the
// ledger keeps only the rest for the next flush.
func (g gatewayRemote) RecordLedger(ctx context.Context, entries []store.LedgerEntry, actions []store.ActionCount) error {
	var ents, acts bytes.Buffer
	nEnt, nAct := 0, 0 // in the chunk being built
	doneEnt, doneAct := 0, 0
	send := func() error {
		if nEnt == 0 && nAct == 0 {
			return nil
		}
		var body bytes.Buffer
		body.Grow(ents.Len() + acts.Len() + 32)
		body.WriteString(`{"entries":[`)
		body.Write(ents.Bytes())
		body.WriteString(`],"actions":[`)
		body.Write(acts.Bytes())
		body.WriteString(`]}`)
		cctx, cancel := context.WithTimeout(ctx, gatewayWriteTimeout)
		_, _, err := g.r.call(cctx, http.MethodPost, "/gateway/ledger", nil, rawBody{"application/json", body.Bytes()}, nil)
		cancel()
		if err != nil {
			if doneEnt > 0 || doneAct > 0 {
				return &gateway.PartialLedgerError{Entries: doneEnt, Actions: doneAct, Err: err}
			}
			return err
		}
		doneEnt, doneAct = doneEnt+nEnt, doneAct+nAct
		ents.Reset()
		acts.Reset()
		nEnt, nAct = 0, 0
		return nil
	}
	add := func(buf *bytes.Buffer, n *int, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if ents.Len()+acts.Len()+len(b) > gatewayLedgerChunk {
			if err := send(); err != nil {
				return err
			}
		}
		if *n > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
		*n++
		return nil
	}
	for _, a := range actions {
		if err := add(&acts, &nAct, a); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := add(&ents, &nEnt, e); err != nil {
			return err
		}
	}
	return send()
}

func (g gatewayRemote) RecordObserved(ctx context.Context, flows []service.ObservedFlow) error {
	for start := 0; start < len(flows); start += gatewayObservedPerRequest {
		body := service.ObservedFlows{Flows: flows[start:min(start+gatewayObservedPerRequest, len(flows))]}
		cctx, cancel := context.WithTimeout(ctx, gatewayWriteTimeout)
		_, _, err := g.r.call(cctx, http.MethodPost, "/gateway/observed", nil, body, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("observed flows: %w", err)
		}
	}
	return nil
}
