package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/weaklink/weaklink/internal/service"
)

// The gateway API: what an edge gateway started with --server needs, with
// a token of the gateway role and no database credentials (docs/gateway.md).
const (
	// maxGateVendors bounds the vendors of one gates request.
	maxGateVendors = 1000
	// maxGatewayLedgerBody bounds one ledger flush; a gateway splits a
	// bigger flush into several requests.
	maxGatewayLedgerBody = 16 << 20
	// maxGatewayObservedBody and maxObservedFlows bound one write of
	// observed flows.
	maxGatewayObservedBody = 4 << 20
	maxObservedFlows       = 1000
	// maxGatewayProblems bounds the problems one error lists.
	maxGatewayProblems = 20
	// maxGatewayID bounds a vendor, system, action or category.
	maxGatewayID = 256
)

func (s *Server) gatewayGates(c *call) (any, error) {
	vendors := c.query["vendor"]
	if len(vendors) > maxGateVendors {
		return nil, badField("vendor", fmt.Errorf("%d vendors: give at most %d per request", len(vendors), maxGateVendors))
	}
	seen := make(map[string]bool, len(vendors))
	ids := make([]string, 0, len(vendors))
	for _, v := range vendors {
		if v == "" || len(v) > maxGatewayID {
			return nil, badField("vendor", fmt.Errorf("%q: give a vendor id of 1 to %d bytes", gwShort(v, 40), maxGatewayID))
		}
		if !seen[v] {
			seen[v] = true
			ids = append(ids, v)
		}
	}
	gates, err := s.svc.Store.Gates(c.ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]service.GatewayGate, 0, len(ids))
	for _, v := range ids {
		g := gates[v]
		out = append(out, service.GatewayGate{Vendor: v, Exists: g.Exists, Status: g.Status, Block: g.Block})
	}
	return out, nil
}

func (s *Server) gatewayLedger(c *call) (any, error) {
	var req service.GatewayLedger
	if err := s.decodeLimited(c, &req, false, maxGatewayLedgerBody); err != nil {
		return nil, err
	}
	var p problems
	tax := s.svc.Checker.Taxonomy
	for i, e := range req.Entries {
		f := fmt.Sprintf("entries[%d].", i)
		p.id(f+"vendor", e.Vendor)
		p.check(f+"subject", e.Subject == "", "required")
		p.id(f+"category", e.Category)
		if e.Category != "" && tax != nil && !tax.Has(e.Category) {
			p.add(f+"category", fmt.Sprintf("%q is not a category of the taxonomy", gwShort(e.Category, 60)))
		}
		p.check(f+"messages", e.Messages < 0, "must be 0 or more")
		p.check(f+"first_seen", e.FirstSeen.IsZero(), "required")
		p.check(f+"last_seen", e.LastSeen.IsZero(), "required")
		p.check(f+"last_seen", !e.FirstSeen.IsZero() && e.LastSeen.Before(e.FirstSeen), "before first_seen")
		p.check(f+"jurisdiction", e.Jurisdiction != "", "not recorded by gateways: leave it out")
		p.check(f+"external_id", e.ExternalID != "", "not recorded by gateways: leave it out")
	}
	for i, a := range req.Actions {
		f := fmt.Sprintf("actions[%d].", i)
		p.id(f+"vendor", a.Vendor)
		p.id(f+"action", a.Action)
		p.id(f+"category", a.Category)
		p.check(f+"count", a.Count < 0, "must be 0 or more")
	}
	if err := p.err("ledger"); err != nil {
		return nil, err
	}
	if len(req.Entries) == 0 && len(req.Actions) == 0 {
		return nil, nil
	}
	return nil, s.svc.Store.RecordLedger(c.ctx, req.Entries, req.Actions)
}

func (s *Server) gatewayObserved(c *call) (any, error) {
	var req service.ObservedFlows
	if err := s.decodeLimited(c, &req, false, maxGatewayObservedBody); err != nil {
		return nil, err
	}
	if len(req.Flows) > maxObservedFlows {
		return nil, badField("flows", fmt.Errorf("%d flows: give at most %d per request", len(req.Flows), maxObservedFlows))
	}
	var p problems
	tax := s.svc.Checker.Taxonomy
	for i, o := range req.Flows {
		f := fmt.Sprintf("flows[%d].", i)
		p.id(f+"system", o.System)
		p.id(f+"vendor", o.Vendor)
		p.check(f+"route", o.Route == "" || len(o.Route) > maxGatewayID, fmt.Sprintf("give 1 to %d bytes", maxGatewayID))
		p.check(f+"purpose", len(o.Purpose) > maxGatewayID, fmt.Sprintf("at most %d bytes", maxGatewayID))
		p.check(f+"categories", len(o.Categories) == 0, "required")
		for j, cat := range o.Categories {
			if cat == "" || tax != nil && !tax.Has(cat) {
				p.add(fmt.Sprintf("%scategories[%d]", f, j), fmt.Sprintf("%q is not a category of the taxonomy", gwShort(cat, 60)))
			}
		}
		p.check(f+"first_seen", o.FirstSeen.IsZero(), "required")
		p.check(f+"last_seen", o.LastSeen.IsZero(), "required")
		p.check(f+"last_seen", !o.FirstSeen.IsZero() && o.LastSeen.Before(o.FirstSeen), "before first_seen")
	}
	if err := p.err("observed flows"); err != nil {
		return nil, err
	}
	return nil, s.svc.RecordObserved(c.ctx, req.Flows)
}

// problems collects the field problems of a body, to refuse it whole.
type problems struct {
	list []FieldProblem
	n    int
}

func (p *problems) add(field, msg string) {
	p.n++
	if len(p.list) < maxGatewayProblems {
		p.list = append(p.list, FieldProblem{Field: field, Message: msg})
	}
}

func (p *problems) check(field string, bad bool, msg string) {
	if bad {
		p.add(field, msg)
	}
}

// id checks a required identifier.
func (p *problems) id(field, v string) {
	switch {
	case v == "":
		p.add(field, "required")
	case len(v) > maxGatewayID:
		p.add(field, fmt.Sprintf("longer than %d bytes", maxGatewayID))
	}
}

// err is the 400 of the problems found, or nil.
func (p *problems) err(what string) error {
	if p.n == 0 {
		return nil
	}
	first := p.list[0]
	e := newError(http.StatusBadRequest, "invalid", "%s: %s", first.Field, first.Message)
	e.info.Field = first.Field
	if p.n > 1 {
		e.info.Message = fmt.Sprintf("%d problems in the %s, the first: %s: %s; nothing was recorded", p.n, what, first.Field, first.Message)
		e.info.Details = p.list
	} else {
		e.info.Message += "; nothing was recorded"
	}
	return e
}

// gwShort shortens s for an error message.
func gwShort(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
