package incident

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
)

// ledgerOf serves rows as the store does: filtered by vendor and window,
// in subject order.
func ledgerOf(rows []LedgerRow) func(context.Context, []string, time.Time, time.Time, func(LedgerRow) error) error {
	return func(_ context.Context, vendors []string, from, to time.Time, fn func(LedgerRow) error) error {
		sorted := slices.Clone(rows)
		slices.SortStableFunc(sorted, func(a, b LedgerRow) int {
			if a.Subject != b.Subject {
				if a.Subject < b.Subject {
					return -1
				}
				return 1
			}
			return 0
		})
		for _, r := range sorted {
			if !slices.Contains(vendors, r.Vendor) || (!from.IsZero() && r.LastSeen.Before(from)) || (!to.IsZero() && r.FirstSeen.After(to)) {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func blastFixture() Sources {
	d := func(day int) time.Time { return time.Date(2025, 11, day, 12, 0, 0, 0, time.UTC) }
	return Sources{
		Vendors: []inventory.Vendor{
			{ID: "mixpanel", Name: "Mixpanel", Subprocessors: []string{"gcp"}},
			{ID: "gcp", Name: "Google Cloud"},
			{ID: "sentry", Name: "Sentry", Subprocessors: []string{"gcp"}},
			{ID: "intercom", Name: "Intercom", Subprocessors: []string{"aws"}},
			{ID: "fullstory", Name: "FullStory", Subprocessors: []string{"mixpanel"}}, // a chain of two
		},
		Flows: []inventory.Flow{
			{ID: "platform-dashboard.mixpanel", System: "platform-dashboard", Vendor: "mixpanel", Source: "declared",
				Categories: []string{"user.name", "user.contact.email", "user.unique_id", "user.location.imprecise"}, EstimatedSubjects: 2_400_000},
			{ID: "platform-dashboard.mixpanel.observed", System: "platform-dashboard", Vendor: "mixpanel", Source: "observed",
				Categories: []string{"user.device.user_agent"}},
			{ID: "api.mixpanel", System: "api", Vendor: "mixpanel", Source: "declared", Categories: []string{"user.financial"}},
			{ID: "api.sentry", System: "api", Vendor: "sentry", Source: "discovered", Categories: []string{"user.unique_id"}},
		},
		Ledger: ledgerOf([]LedgerRow{
			{Vendor: "mixpanel", Subject: "a", Category: "user.contact.email", FirstSeen: d(2), LastSeen: d(8), Jurisdiction: "DE", ExternalID: "user_a"},
			{Vendor: "mixpanel", Subject: "a", Category: "user.name", FirstSeen: d(3), LastSeen: d(4), Jurisdiction: "DE", ExternalID: "user_a"},
			{Vendor: "mixpanel", Subject: "b", Category: "user.contact.email", FirstSeen: d(5), LastSeen: d(5), Jurisdiction: "US-CA"},
			{Vendor: "mixpanel", Subject: "c", Category: "user.device.user_agent", FirstSeen: d(5), LastSeen: d(6)}, // not stated
			{Vendor: "mixpanel", Subject: "d", Category: "user.contact.email", FirstSeen: d(10), LastSeen: d(12)},   // after the window
			{Vendor: "sentry", Subject: "a", Category: "user.unique_id", FirstSeen: d(2), LastSeen: d(2)},
		}),
	}
}

func TestBlastRadiusVendorBreach(t *testing.T) {
	in := &Incident{ID: "i1", Vendor: "mixpanel", Categories: []string{"user.name", "user.contact"},
		WindowFrom: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), WindowTo: time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC),
		Systems: []string{"platform-dashboard"}}
	var got []Affected
	b, err := ComputeBlastRadius(context.Background(), in, blastFixture(), func(a Affected) error { got = append(got, a); return nil })
	if err != nil {
		t.Fatal(err)
	}
	eq := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// mixpanel itself and fullstory through it; not sentry (it uses gcp,
	// not mixpanel), not the api system's flow.
	var ids []string
	for _, a := range b.Affected {
		ids = append(ids, a.Vendor)
	}
	eq("affected", ids, []string{"mixpanel"}) // fullstory has no flow or ledger row
	eq("systems", b.Systems, []string{"platform-dashboard"})
	eq("ledger", b.Ledger, []string{"user.contact.email", "user.device.user_agent", "user.name"})
	eq("inventory", b.Inventory, []string{"user.contact.email", "user.device.user_agent", "user.location.imprecise", "user.name", "user.unique_id"})
	eq("exposed", b.Exposed, []string{"user.contact.email", "user.name"})
	eq("possibly exposed", b.PossiblyExposed, []string{})
	eq("unmentioned", b.Unmentioned, []string{"user.device.user_agent", "user.location.imprecise", "user.unique_id"})
	eq("stated not sent", b.StatedNotSent, []string{})
	eq("subjects", b.Subjects, int64(2))
	eq("unmentioned subjects", b.UnmentionedSubjects, int64(1))
	eq("rows", b.Rows, int64(4))
	eq("by category", b.ByCategory, []CategoryCount{{"user.contact.email", 2}, {"user.name", 1}})
	eq("by jurisdiction", b.ByJurisdiction, map[string]int64{"DE": 1, "US-CA": 1})
	eq("estimated", b.Estimated, int64(2_400_000))
	if len(got) != 2 || got[0].Subject != "a" || got[0].ExternalID != "user_a" || !reflect.DeepEqual(got[0].Categories, []string{"user.contact.email", "user.name"}) ||
		!got[0].FirstSeen.Equal(time.Date(2025, 11, 2, 12, 0, 0, 0, time.UTC)) || got[1].Subject != "b" || got[1].Jurisdiction != "US-CA" {
		t.Errorf("emitted %+v", got)
	}
	ex := b.Exposure()
	eq("exposure", ex, Exposure{Categories: []string{"user.contact.email", "user.name"}, Subjects: 2, ByJurisdiction: map[string]int64{"DE": 1, "US-CA": 1}})
}

func TestBlastRadiusSubprocessorBreach(t *testing.T) {
	in := &Incident{ID: "i2", Vendor: "gcp"} // nothing stated: everything sent counts
	b, err := ComputeBlastRadius(context.Background(), in, blastFixture(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range b.Affected {
		got = append(got, a.Vendor+" via "+join(a.Via))
	}
	// fullstory reaches gcp through mixpanel, but has no flow: it drops out.
	if !slices.Equal(got, []string{"mixpanel via gcp", "sentry via gcp"}) {
		t.Errorf("affected = %v", got)
	}
	if b.Subjects != 4 { // a, b, c and d: no window, nothing stated
		t.Errorf("subjects = %d", b.Subjects)
	}
	// The api system's financial data is in a flow, but the gateway never
	// saw it: possibly exposed.
	if slices.Contains(b.Exposed, "user.financial") || !slices.Contains(b.PossiblyExposed, "user.financial") || !slices.Contains(b.Systems, "api") {
		t.Errorf("exposed %v, possibly %v, systems %v", b.Exposed, b.PossiblyExposed, b.Systems)
	}
	// With a flow, the two-step chain is found.
	src := blastFixture()
	src.Flows = append(src.Flows, inventory.Flow{ID: "web.fullstory", System: "web", Vendor: "fullstory", Categories: []string{"user.name"}})
	b, _ = ComputeBlastRadius(context.Background(), in, src, nil)
	if b.Affected[0].Vendor != "fullstory" || !slices.Equal(b.Affected[0].Via, []string{"mixpanel", "gcp"}) {
		t.Errorf("chain: %+v", b.Affected[0])
	}
}

func TestBlastRadiusNoLedger(t *testing.T) {
	src := blastFixture()
	src.Ledger = nil
	b, err := ComputeBlastRadius(context.Background(), &Incident{ID: "i3", Vendor: "mixpanel", Categories: []string{"user.contact.email"}}, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ex := b.Exposure()
	if b.Subjects != 0 || ex.Subjects != 2_400_000 || ex.ByJurisdiction[Unknown] != 2_400_000 || !slices.Equal(ex.Categories, []string{"user.contact.email"}) {
		t.Errorf("exposure without a ledger = %+v", ex)
	}
	// With ledger rows that lack a stated category a flow carries, that
	// category is possibly exposed, not exposed.
	src = blastFixture()
	b, _ = ComputeBlastRadius(context.Background(), &Incident{ID: "i4", Vendor: "mixpanel", Categories: []string{"user.contact.email", "user.location"}}, src, nil)
	if !slices.Equal(b.Exposed, []string{"user.contact.email"}) || !slices.Equal(b.PossiblyExposed, []string{"user.location.imprecise"}) {
		t.Errorf("exposed %v, possibly %v", b.Exposed, b.PossiblyExposed)
	}
}

func join(l []string) string {
	s := ""
	for i, v := range l {
		if i > 0 {
			s += ","
		}
		s += v
	}
	return s
}
