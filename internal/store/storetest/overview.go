package storetest

import (
	"testing"

	"github.com/weaklink/weaklink/internal/store"
)

// testOverview: the dashboard's aggregates count what the fixture holds,
// and the gateway's action counts add up per vendor and action.
func testOverview(t *testing.T, open Opener) {
	s := open(t, nil)
	empty, err := s.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Vendors)+len(empty.Categories)+len(empty.Sources)+len(empty.Recent)+len(empty.Gateway) != 0 ||
		empty.Vendors == nil || empty.Recent == nil || empty.Gateway == nil {
		t.Errorf("empty store: %+v (want empty, non-nil lists)", empty)
	}
	apply(t, s, fixture(), false)
	if err := s.RecordLedger(ctx, nil, []store.ActionCount{
		{Vendor: "mixpanel", Action: "hash", Category: "user.unique_id", Count: 3},
		{Vendor: "mixpanel", Action: "drop", Category: "user.contact.email", Count: 5},
		{Vendor: "mixpanel", Action: "drop", Category: "user.name", Count: 2},
	}); err != nil {
		t.Fatal(err)
	}
	o, err := s.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	vc := func(category, status string, n int64) store.VendorCount {
		return store.VendorCount{Category: category, Status: status, N: n}
	}
	cc := func(category string, flows, vendors int64) store.CategoryCount {
		return store.CategoryCount{Category: category, Flows: flows, Vendors: vendors}
	}
	mustEqual(t, "vendors", o.Vendors, []store.VendorCount{
		vc("analytics", "active", 1), vc("cloud-infrastructure", "active", 1), vc("error-tracking", "approved", 1), vc("payments", "proposed", 1)})
	mustEqual(t, "categories", o.Categories, []store.CategoryCount{
		cc("user.contact", 1, 1), cc("user.contact.email", 1, 1), cc("user.device", 1, 1), cc("user.device.user_agent", 1, 1),
		cc("user.financial.credit_card", 1, 1), cc("user.location.imprecise", 1, 1), cc("user.name", 1, 1), cc("user.unique_id", 2, 2)})
	mustEqual(t, "sources", o.Sources, []store.SourceCount{{Source: "declared", N: 2}, {Source: "discovered", N: 1}})
	if len(o.Recent) != 1 || o.Recent[0].ID != "api.sentry" || o.Recent[0].Source != "discovered" {
		t.Errorf("recent: %+v", o.Recent)
	}
	mustEqual(t, "gateway", o.Gateway, []store.ActionTotal{{Vendor: "mixpanel", Action: "drop", Count: 7}, {Vendor: "mixpanel", Action: "hash", Count: 3}})
}
