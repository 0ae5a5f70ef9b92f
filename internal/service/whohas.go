package service

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/weaklink/weaklink/internal/store"
)

// WhoHas answers "which vendors receive this category of data?".
type WhoHas struct {
	Category string   `json:"category"`
	Name     string   `json:"name"`
	Holders  []Holder `json:"holders"`
}

// Holder is a vendor that receives the data, directly from one of our
// systems or as a subprocessor (fourth party) of a vendor that does.
type Holder struct {
	Vendor   string `json:"vendor"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Category string `json:"vendor_category"`
	// Direct is true when one of our systems sends to the vendor itself.
	Direct bool `json:"direct"`
	// Categories are the declared categories, among those the vendor
	// receives, that overlap the asked category (equal, parent or child).
	Categories []string `json:"categories"`
	// Paths are the routes the data takes to the vendor.
	Paths []Path `json:"paths"`
}

// Path is one route: a system, the flow it sends on, and the chain of
// vendors from the one the flow names to the holder.
type Path struct {
	System string   `json:"system"`
	Flow   string   `json:"flow"`
	Chain  []string `json:"chain"`
}

// WhoHas finds every vendor that receives category or any category below
// it (a flow that declares a parent key counts too), directly or through
// subprocessor links, with the path the data takes.
func (s *Service) WhoHas(ctx context.Context, category string) (WhoHas, error) {
	if err := s.Checker.Taxonomy.Check(category); err != nil {
		return WhoHas{}, err
	}
	c, _ := s.Checker.Taxonomy.Get(category)
	out := WhoHas{Category: category, Name: c.Name, Holders: []Holder{}}
	matches, err := s.Store.FlowMatches(ctx, category)
	if err != nil || len(matches) == 0 {
		return out, err
	}
	links, err := s.Store.SubprocessorLinks(ctx)
	if err != nil {
		return out, err
	}
	holders := map[string]*Holder{}
	get := func(id string) *Holder {
		h := holders[id]
		if h == nil {
			h = &Holder{Vendor: id}
			holders[id] = h
		}
		return h
	}
	// Matches come one row per (flow, category), in no order: gather each
	// flow's categories first.
	type flowMatch struct {
		store.FlowMatch
		cats []string
	}
	byFlow := make(map[string]*flowMatch, len(matches))
	for _, m := range matches {
		f := byFlow[m.Flow]
		if f == nil {
			f = &flowMatch{FlowMatch: m}
			byFlow[m.Flow] = f
		}
		f.cats = append(f.cats, m.Category)
	}
	// Subprocessor chains from each vendor, breadth-first; a chain never
	// revisits a vendor. Computed once per vendor.
	chains := map[string][][]string{}
	chainsFrom := func(vendor string) [][]string {
		if c, ok := chains[vendor]; ok {
			return c
		}
		var out [][]string
		for queue := [][]string{{vendor}}; len(queue) > 0; queue = queue[1:] {
			chain := queue[0]
			for _, sub := range links[chain[len(chain)-1]] {
				if slices.Contains(chain, sub) {
					continue
				}
				next := append(slices.Clone(chain), sub)
				out = append(out, next)
				queue = append(queue, next)
			}
		}
		chains[vendor] = out
		return out
	}
	for _, m := range byFlow {
		direct := get(m.Vendor)
		direct.Name, direct.Status, direct.Category, direct.Direct = m.VendorName, m.VendorStatus, m.VendorCategory, true
		direct.Categories = append(direct.Categories, m.cats...)
		direct.Paths = append(direct.Paths, Path{System: m.System, Flow: m.Flow, Chain: []string{m.Vendor}})
		for _, chain := range chainsFrom(m.Vendor) {
			h := get(chain[len(chain)-1])
			h.Categories = append(h.Categories, m.cats...)
			h.Paths = append(h.Paths, Path{System: m.System, Flow: m.Flow, Chain: chain})
		}
	}
	// Vendors reached only as subprocessors: read their details.
	var indirect []string
	for id, h := range holders {
		if !h.Direct {
			indirect = append(indirect, id)
		}
	}
	if len(indirect) > 0 {
		vendors, err := s.Store.ListVendors(ctx, store.VendorFilter{IDs: indirect})
		if err != nil {
			return out, err
		}
		for _, v := range vendors {
			h := holders[v.ID]
			h.Name, h.Status, h.Category = v.Name, v.Status, v.Category
		}
	}
	out.Holders = make([]Holder, 0, len(holders))
	for _, h := range holders {
		if h.Name == "" {
			return out, fmt.Errorf("who-has: vendor %q vanished during the query; try again", h.Vendor)
		}
		slices.Sort(h.Categories)
		h.Categories = slices.Compact(h.Categories)
		sort.Slice(h.Paths, func(i, j int) bool {
			a, b := h.Paths[i], h.Paths[j]
			if len(a.Chain) != len(b.Chain) {
				return len(a.Chain) < len(b.Chain)
			}
			if a.System != b.System {
				return a.System < b.System
			}
			return a.Flow < b.Flow
		})
		out.Holders = append(out.Holders, *h)
	}
	// Direct recipients first, then by vendor id.
	sort.Slice(out.Holders, func(i, j int) bool {
		a, b := out.Holders[i], out.Holders[j]
		if a.Direct != b.Direct {
			return a.Direct
		}
		return a.Vendor < b.Vendor
	})
	return out, nil
}
