package service

import (
	"context"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// SystemDetail is a system and the data flows it sends: `systems show
// --format json` and GET /api/v1/systems/{id}.
type SystemDetail struct {
	System inventory.System `json:"system"`
	// Flows are the data flows from the system.
	Flows []inventory.Flow `json:"flows"`
}

// SystemDetail reads a system and its outbound flows.
func (s *Service) SystemDetail(ctx context.Context, id string) (SystemDetail, error) {
	sys, err := s.Store.GetSystem(ctx, id)
	if err != nil {
		return SystemDetail{}, err
	}
	flows, err := s.Store.ListFlows(ctx, store.FlowFilter{System: sys.ID})
	if err != nil {
		return SystemDetail{}, err
	}
	if flows == nil {
		flows = []inventory.Flow{}
	}
	return SystemDetail{System: sys, Flows: flows}, nil
}
