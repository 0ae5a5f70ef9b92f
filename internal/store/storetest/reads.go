package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// testNarrowReads: the aggregate and lean reads behind the web pages
// (the explorer's holder counts, vendor names) agree with the inventory,
// and the version moves with every Apply and only then.
func testNarrowReads(t *testing.T, open Opener) {
	s := open(t, nil)
	version := func() int64 {
		t.Helper()
		v, err := s.InventoryVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if snap := snapshot(t, s); snap.Version != v {
			t.Fatalf("InventoryVersion = %d, Snapshot.Version = %d", v, snap.Version)
		}
		return v
	}
	v0 := version()
	if got, err := s.CategoryVendors(ctx); err != nil || len(got) != 0 {
		t.Fatalf("CategoryVendors of an empty store = %v, %v", got, err)
	}

	inv := fixture()
	// A second flow of user.unique_id to sentry: the pair comes out once.
	inv.Flows = append(inv.Flows, inventory.Flow{ID: "platform-dashboard.sentry", System: "platform-dashboard", Vendor: "sentry",
		Categories: []string{"user.unique_id", "user.device"}, Purpose: "operations", Source: "observed"})
	inv.Sort()
	apply(t, s, inv, false)
	v1 := version()
	if v1 <= v0 {
		t.Errorf("version after Apply = %d, before %d", v1, v0)
	}
	got, err := s.CategoryVendors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "CategoryVendors", got, map[string][]string{
		"user.contact":               {"stripe"},
		"user.contact.email":         {"mixpanel"},
		"user.device":                {"sentry"},
		"user.device.user_agent":     {"mixpanel"},
		"user.financial.credit_card": {"stripe"},
		"user.location.imprecise":    {"mixpanel"},
		"user.name":                  {"mixpanel"},
		"user.unique_id":             {"mixpanel", "sentry"},
	})
	if v := version(); v != v1 {
		t.Errorf("version moved on reads: %d, then %d", v1, v)
	}

	// A change moves the version and the pairs.
	inv.Flows = slices.DeleteFunc(inv.Flows, func(f inventory.Flow) bool { return f.ID == "api.stripe" })
	apply(t, s, inv, true)
	if v := version(); v <= v1 {
		t.Errorf("version after a second Apply = %d, before %d", v, v1)
	}
	got, _ = s.CategoryVendors(ctx)
	if _, ok := got["user.financial.credit_card"]; ok || len(got["user.unique_id"]) != 2 {
		t.Errorf("CategoryVendors after deleting api.stripe = %v", got)
	}

	// An id holding the aggregate's separator (the inventory's checks
	// refuse it; the store does not rely on them) still comes out whole.
	odd := "odd\x1fvendor"
	inv.Vendors = append(inv.Vendors, inventory.Vendor{ID: odd, Name: "Odd", Category: "analytics", Status: "active"})
	inv.Flows = append(inv.Flows, inventory.Flow{ID: "api.odd", System: "api", Vendor: odd, Categories: []string{"user.name", "user.unique_id"},
		Purpose: "analytics", Source: "declared"})
	inv.Sort()
	apply(t, s, inv, true)
	got, err = s.CategoryVendors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "user.name", got["user.name"], []string{"mixpanel", odd})
	mustEqual(t, "user.unique_id", got["user.unique_id"], []string{"mixpanel", odd, "sentry"})
	inv.Vendors = slices.DeleteFunc(inv.Vendors, func(v inventory.Vendor) bool { return v.ID == odd })
	inv.Flows = slices.DeleteFunc(inv.Flows, func(f inventory.Flow) bool { return f.ID == "api.odd" })
	apply(t, s, inv, true)

	names := func(f store.VendorFilter) []string {
		t.Helper()
		vs, err := s.VendorNames(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			out = append(out, v.ID+"/"+v.Name)
		}
		return out
	}
	mustEqual(t, "by name", names(store.VendorFilter{Sort: "name"}), []string{"gcp/Google Cloud", "mixpanel/Mixpanel", "sentry/Sentry", "stripe/Stripe"})
	mustEqual(t, "ids", names(store.VendorFilter{IDs: []string{"stripe", "gcp", "nobody"}}), []string{"gcp/Google Cloud", "stripe/Stripe"})
	mustEqual(t, "page", names(store.VendorFilter{Sort: "-name", Limit: 2, Offset: 1}), []string{"sentry/Sentry", "mixpanel/Mixpanel"})
	mustEqual(t, "filter", names(store.VendorFilter{Status: "active", Tag: "us"}), []string{"mixpanel/Mixpanel"})
	if _, err := s.VendorNames(ctx, store.VendorFilter{Sort: "shoe_size"}); err == nil {
		t.Error("an unknown sort key was accepted")
	}
}

// testIncidentPaging: incidents page in the database, newest first, and
// the count ignores the page.
func testIncidentPaging(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	var all, open2 []string // newest first
	for i := range 7 {
		in := mixpanelIncident(clock)
		in.ID = fmt.Sprintf("0193a1b2-0000-7000-8000-%012d", i)
		if i%3 != 0 {
			in.Status = incident.StatusClosed
		} else {
			open2 = append([]string{in.ID}, open2...)
		}
		if _, err := s.CreateIncident(ctx, in, incident.Event{ID: in.ID + "-e", Incident: in.ID, At: clock.Now(), Kind: "opened"}); err != nil {
			t.Fatal(err)
		}
		all = append([]string{in.ID}, all...)
		clock.Advance(time.Minute)
	}
	ids := func(f store.IncidentFilter) []string {
		t.Helper()
		l, err := s.ListIncidents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range l {
			out = append(out, in.ID)
		}
		return out
	}
	mustEqual(t, "all", ids(store.IncidentFilter{}), all)
	mustEqual(t, "page", ids(store.IncidentFilter{Limit: 3, Offset: 2}), all[2:5])
	mustEqual(t, "first page", ids(store.IncidentFilter{Limit: 3}), all[:3])
	mustEqual(t, "offset only", ids(store.IncidentFilter{Offset: 5}), all[5:])
	mustEqual(t, "past the end", ids(store.IncidentFilter{Limit: 3, Offset: 9}), []string(nil))
	mustEqual(t, "open, paged", ids(store.IncidentFilter{Open: true, Limit: 2, Offset: 1}), open2[1:3])
	for _, c := range []struct {
		f    store.IncidentFilter
		want int64
	}{
		{store.IncidentFilter{Limit: 2, Offset: 1}, 7},
		{store.IncidentFilter{Open: true, Limit: 1}, 3},
		{store.IncidentFilter{Status: string(incident.StatusClosed)}, 4},
		{store.IncidentFilter{Vendor: "gcp"}, 0},
	} {
		if n, err := s.CountIncidents(ctx, c.f); err != nil || n != c.want {
			t.Errorf("CountIncidents(%+v) = %d, %v; want %d", c.f, n, err, c.want)
		}
	}
}
