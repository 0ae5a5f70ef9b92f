package storetest

import (
	"testing"

	"github.com/weaklink/weaklink/internal/store"
)

// testVendorPaging: sorting and paging happen in the database, in the same
// order on both, and the count ignores the page.
func testVendorPaging(t *testing.T, open Opener) {
	s := open(t, nil)
	inv := fixture() // gcp active, mixpanel active, sentry approved, stripe proposed
	for i := range inv.Vendors {
		switch inv.Vendors[i].ID {
		case "gcp":
			inv.Vendors[i].Criticality = "critical"
		case "sentry":
			inv.Vendors[i].Criticality = "low"
		}
	}
	apply(t, s, inv, false)
	ids := func(f store.VendorFilter) []string {
		t.Helper()
		vs, err := s.ListVendors(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.ID)
		}
		return out
	}
	mustEqual(t, "by id", ids(store.VendorFilter{}), []string{"gcp", "mixpanel", "sentry", "stripe"})
	mustEqual(t, "by name", ids(store.VendorFilter{Sort: "name"}), []string{"gcp", "mixpanel", "sentry", "stripe"}) // Google, Mixpanel, Sentry, Stripe
	mustEqual(t, "by status", ids(store.VendorFilter{Sort: "status"}), []string{"stripe", "sentry", "gcp", "mixpanel"})
	mustEqual(t, "by status, descending", ids(store.VendorFilter{Sort: "-status"}), []string{"mixpanel", "gcp", "sentry", "stripe"})
	mustEqual(t, "by criticality", ids(store.VendorFilter{Sort: "criticality"}), []string{"stripe", "sentry", "mixpanel", "gcp"})
	mustEqual(t, "page", ids(store.VendorFilter{Sort: "status", Limit: 2, Offset: 1}), []string{"sentry", "gcp"})
	mustEqual(t, "offset only", ids(store.VendorFilter{Offset: 3}), []string{"stripe"})
	mustEqual(t, "past the end", ids(store.VendorFilter{Limit: 2, Offset: 9}), []string(nil))
	if n, err := s.CountVendors(ctx, store.VendorFilter{Status: "active", Limit: 1}); err != nil || n != 2 {
		t.Errorf("CountVendors(active) = %d, %v", n, err)
	}
	// A page carries its vendors' subprocessors, as the whole list does.
	all, err := s.ListVendors(ctx, store.VendorFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for off := range all {
		page, err := s.ListVendors(ctx, store.VendorFilter{Limit: 1, Offset: off})
		if err != nil || len(page) != 1 {
			t.Fatalf("page %d: %v %v", off, page, err)
		}
		mustEqual(t, "subprocessors of "+page[0].ID, page[0].Subprocessors, all[off].Subprocessors)
	}
	if _, err := s.ListVendors(ctx, store.VendorFilter{Sort: "shoe_size"}); err == nil {
		t.Error("an unknown sort key was accepted")
	}
}
