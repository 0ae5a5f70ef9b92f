package web

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// BlockRequest is the optional body of POST /api/v1/vendors/{id}/block.
type BlockRequest struct {
	// Reason is for the record and the audit log; gateways do not show it
	// to their clients.
	Reason string `json:"reason,omitempty"`
}

// listVendors pages and sorts in the database: a page of 50 out of 10,000
// vendors reads 50.
func (s *Server) listVendors(c *call) (any, error) {
	limit, off, err := c.page()
	if err != nil {
		return nil, err
	}
	sort := c.q("sort")
	if key, _ := strings.CutPrefix(sort, "-"); sort != "" && !slices.Contains(store.VendorSorts, key) {
		return nil, badField("sort", fmt.Errorf("%q: use one of %s, with - before it for descending order", sort, strings.Join(store.VendorSorts, ", ")))
	}
	f := store.VendorFilter{Status: c.q("status"), Category: c.q("category"), Tag: c.q("tag"), Text: c.q("q"),
		Sort: sort, Limit: limit, Offset: int(off)}
	total, err := s.svc.Store.CountVendors(c.ctx, f)
	if err != nil {
		return nil, err
	}
	vs, err := s.svc.Store.ListVendors(c.ctx, f)
	if err != nil {
		return nil, err
	}
	if vs == nil {
		vs = []inventory.Vendor{}
	}
	setPage(c, total, off+int64(len(vs)), limit)
	return vs, nil
}

func (s *Server) getVendor(c *call) (any, error) {
	return s.svc.VendorDetail(c.ctx, c.r.PathValue("id"))
}

func (s *Server) blockVendor(c *call) (any, error) {
	var req BlockRequest
	if err := s.decodeBody(c, &req, true); err != nil {
		return nil, err
	}
	b, err := s.svc.BlockVendor(c.ctx, c.r.PathValue("id"), req.Reason, c.p.Actor())
	if errors.Is(err, service.ErrInvalid) {
		return nil, badField("reason", err)
	}
	return b, err
}

func (s *Server) unblockVendor(c *call) (any, error) {
	return nil, s.svc.Store.UnblockVendor(c.ctx, c.r.PathValue("id"))
}

func (s *Server) listSystems(c *call) (any, error) {
	systems, err := s.svc.Store.ListSystems(c.ctx)
	if err != nil {
		return nil, err
	}
	if systems == nil {
		systems = []inventory.System{}
	}
	return paginate(c, systems)
}

func (s *Server) listFlows(c *call) (any, error) {
	f := store.FlowFilter{Vendor: c.q("vendor"), System: c.q("system"), Source: c.q("source"), Category: c.q("category")}
	if f.Category != "" {
		if err := s.svc.CheckCategory(f.Category); err != nil {
			return nil, badField("category", err)
		}
	}
	flows, err := s.svc.Store.ListFlows(c.ctx, f)
	if err != nil {
		return nil, err
	}
	if flows == nil {
		flows = []inventory.Flow{}
	}
	return paginate(c, flows)
}

func (s *Server) whoHas(c *call) (any, error) {
	cat := c.q("category")
	if err := s.svc.CheckCategory(cat); err != nil {
		return nil, badField("category", err)
	}
	return s.svc.WhoHas(c.ctx, cat)
}

func (s *Server) ledger(c *call) (any, error) {
	return s.svc.Store.LedgerSummary(c.ctx, c.r.PathValue("vendor"))
}
