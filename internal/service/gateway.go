package service

import (
	"context"
	"slices"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// GatewayGate is what a gateway needs to know to forward to one vendor, as
// the gateway API sends it (GET /api/v1/gateway/gates).
type GatewayGate struct {
	Vendor string `json:"vendor"`
	// Exists is false for a vendor that is not in the inventory.
	Exists bool   `json:"exists"`
	Status string `json:"status,omitempty"`
	// Block is set while the vendor is blocked.
	Block *store.Block `json:"block,omitempty"`
}

// GatewayLedger is one flush of a gateway's ledger (POST
// /api/v1/gateway/ledger): recorded in one transaction.
type GatewayLedger struct {
	Entries []store.LedgerEntry `json:"entries"`
	Actions []store.ActionCount `json:"actions"`
}

// ObservedFlow is what a gateway saw going from a system to a vendor on one
// of its routes: the categories that really went, and when.
type ObservedFlow struct {
	System     string    `json:"system"`
	Vendor     string    `json:"vendor"`
	Route      string    `json:"route"`
	Purpose    string    `json:"purpose"`
	Categories []string  `json:"categories"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// ObservedFlows is the body of POST /api/v1/gateway/observed.
type ObservedFlows struct {
	Flows []ObservedFlow `json:"flows"`
}

// RecordObserved writes what gateways saw into the inventory as observed
// flows (source: observed), one per system, vendor and route: a new flow,
// or the categories added and first and last seen widened on the flow the
// gateway wrote before. It is one edit, validated as a whole and safe
// against concurrent writers.
func (s *Service) RecordObserved(ctx context.Context, flows []ObservedFlow) error {
	if len(flows) == 0 {
		return nil
	}
	todo := make([]inventory.Flow, 0, len(flows))
	for _, o := range flows {
		first, last := o.FirstSeen, o.LastSeen
		todo = append(todo, inventory.Flow{
			ID: o.System + "." + o.Vendor + ".observed", System: o.System, Vendor: o.Vendor, Categories: slices.Clip(slices.Clone(o.Categories)),
			Purpose: o.Purpose, Source: inventory.SourceObserved, FirstSeen: &first, LastSeen: &last,
			Evidence: []inventory.Evidence{{Kind: "traffic", Ref: "gateway route " + o.Route, Detail: "seen by the weaklink gateway"}},
		})
	}
	_, err := s.Edit(ctx, func(inv *inventory.Inventory) error {
		for _, f := range todo {
			i := slices.IndexFunc(inv.Flows, func(x inventory.Flow) bool { return x.ID == f.ID })
			if i < 0 {
				inv.Flows = append(inv.Flows, f)
				continue
			}
			cur := &inv.Flows[i]
			cur.Categories = append(cur.Categories, f.Categories...)
			if cur.FirstSeen == nil || f.FirstSeen.Before(*cur.FirstSeen) {
				cur.FirstSeen = f.FirstSeen
			}
			if cur.LastSeen == nil || f.LastSeen.After(*cur.LastSeen) {
				cur.LastSeen = f.LastSeen
			}
		}
		return nil
	})
	return err
}
