package service

import (
	"context"
	"slices"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// VendorDetail is a vendor with what surrounds it in the inventory.
type VendorDetail struct {
	Vendor inventory.Vendor `json:"vendor"`
	// Flows are the data flows into the vendor.
	Flows []inventory.Flow `json:"flows"`
	// SubprocessorOf lists the vendors that name this one as a subprocessor.
	SubprocessorOf []string `json:"subprocessor_of"`
	// Categories is the union of the categories of the flows into the vendor.
	Categories []string `json:"categories"`
}

// VendorDetail reads a vendor, its inbound flows and its reverse
// subprocessor links.
func (s *Service) VendorDetail(ctx context.Context, id string) (VendorDetail, error) {
	v, err := s.Store.GetVendor(ctx, id)
	if err != nil {
		return VendorDetail{}, err
	}
	flows, err := s.Store.ListFlows(ctx, store.FlowFilter{Vendor: id})
	if err != nil {
		return VendorDetail{}, err
	}
	links, err := s.Store.SubprocessorLinks(ctx)
	if err != nil {
		return VendorDetail{}, err
	}
	d := VendorDetail{Vendor: v, Flows: flows, SubprocessorOf: []string{}, Categories: []string{}}
	if d.Flows == nil {
		d.Flows = []inventory.Flow{}
	}
	for user, subs := range links {
		if slices.Contains(subs, id) {
			d.SubprocessorOf = append(d.SubprocessorOf, user)
		}
	}
	slices.Sort(d.SubprocessorOf)
	for _, f := range flows {
		d.Categories = append(d.Categories, f.Categories...)
	}
	slices.Sort(d.Categories)
	d.Categories = slices.Compact(d.Categories)
	return d, nil
}
