// Package storetest is the conformance suite of store.Store. Every backend
// runs it (see the sqlite and postgres packages' tests): one contract, the
// same assertions, against the real database.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// Opener opens a fresh, empty, migrated store for one test. Calling it again
// within the same test returns a second handle on the same database (another
// process, as far as the store can tell).
type Opener func(t *testing.T, now func() time.Time) store.Store

// Clock is a settable clock for exact timestamps.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at a fixed instant.
func NewClock() *Clock { return &Clock{t: time.Date(2025, 11, 9, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Run runs every conformance test against the backend.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Migrate", testMigrate},
		{"ApplyAndRead", testApplyAndRead},
		{"RoundTripValues", testRoundTripValues},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"VendorFilters", testVendorFilters},
		{"VendorPaging", testVendorPaging},
		{"NarrowReads", testNarrowReads},
		{"IncidentPaging", testIncidentPaging},
		{"Overview", testOverview},
		{"FlowFilters", testFlowFilters},
		{"CategoryHierarchy", testCategoryHierarchy},
		{"StaleBase", testStaleBase},
		{"StaleRevision", testStaleRevision},
		{"AtomicOnConflict", testAtomicOnConflict},
		{"ReferentialIntegrity", testReferentialIntegrity},
		{"NotFound", testNotFound},
		{"ConcurrentWriters", testConcurrentWriters},
		{"LargePlan", testLargePlan},
		{"Blocks", testBlocks},
		{"Ledger", testLedger},
		{"LedgerConcurrent", testLedgerConcurrent},
		{"LedgerResidence", testLedgerResidence},
		{"Incidents", testIncidents},
		{"TimelineAppendOnly", testTimelineAppendOnly},
		{"Audit", testAudit},
		{"AuditConcurrent", testAuditConcurrent},
		{"AuditTamper", testAuditTamper},
		{"Users", testUsers}, {"Sessions", testSessions}, {"Tokens", testTokens}, {"AuthCascade", testAuthCascade}, {"AuthAudit", testAuthAudit}, {"AuthConcurrent", testAuthConcurrent},
		{"MustChangePassword", testMustChangePassword},
		{"ChangePassword", testChangePassword}, {"Identities", testIdentities}, {"IdentitiesConcurrent", testIdentitiesConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

var ctx = context.Background()

// fixture is a small inventory: the Mixpanel case and its neighbours.
func fixture() inventory.Inventory {
	first := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	last := time.Date(2025, 11, 8, 23, 59, 59, 0, time.UTC)
	inv := inventory.Inventory{
		Vendors: []inventory.Vendor{
			{ID: "mixpanel", Name: "Mixpanel", LegalEntity: "Mixpanel, Inc.", Website: "https://mixpanel.com",
				Domains: []string{"mixpanel.com", "mxpnl.com"}, Category: "analytics", Owner: "growth", Status: "active",
				Criticality: "high", Description: "Product analytics", Tags: []string{"tier-1", "us"}, Subprocessors: []string{"gcp"}, Catalog: "mixpanel"},
			{ID: "gcp", Name: "Google Cloud", Category: "cloud-infrastructure", Status: "active", Domains: []string{"cloud.google.com"}},
			{ID: "sentry", Name: "Sentry", Category: "error-tracking", Status: "approved", Tags: []string{"us"}, Subprocessors: []string{"gcp"}},
			{ID: "stripe", Name: "Stripe", Category: "payments", Status: "proposed"},
		},
		Systems: []inventory.System{
			{ID: "platform-dashboard", Name: "Platform dashboard frontend", Owner: "web", Environment: "production", Tags: []string{"frontend"}},
			{ID: "api", Name: "API backend", Environment: "production", Repository: "https://git.example.com/api"},
		},
		Flows: []inventory.Flow{
			{ID: "platform-dashboard.mixpanel", System: "platform-dashboard", Vendor: "mixpanel",
				Categories: []string{"user.contact.email", "user.device.user_agent", "user.location.imprecise", "user.name", "user.unique_id"},
				Subjects:   []string{"customer", "end_user"}, Purpose: "analytics", LegalBasis: "legitimate_interests",
				EstimatedSubjects: 2400000, Source: "declared", FirstSeen: &first, LastSeen: &last,
				Evidence: []inventory.Evidence{{Kind: "document", Ref: "DPA-2024-17", Detail: "signed DPA"}}},
			{ID: "api.sentry", System: "api", Vendor: "sentry", Categories: []string{"user.device", "user.unique_id"},
				Purpose: "operations", Source: "discovered"},
			{ID: "api.stripe", System: "api", Vendor: "stripe", Categories: []string{"user.financial.credit_card", "user.contact"},
				Purpose: "billing", Source: "declared"},
		},
	}
	inv.Sort()
	return inv
}

// apply plans desired against the current snapshot and applies it.
func apply(t *testing.T, s store.Store, desired inventory.Inventory, prune bool) inventory.Plan {
	t.Helper()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan := inventory.Diff(snap.Inventory, desired, prune)
	if err := s.Apply(ctx, snap.Version, plan); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return plan
}

// stripMeta clears what the store adds so inventories compare by content.
func stripMeta(inv inventory.Inventory) inventory.Inventory {
	out := inventory.Inventory{
		Vendors: slices.Clone(inv.Vendors), Systems: slices.Clone(inv.Systems), Flows: slices.Clone(inv.Flows),
	}
	for i := range out.Vendors {
		out.Vendors[i].Meta = inventory.Meta{}
	}
	for i := range out.Systems {
		out.Systems[i].Meta = inventory.Meta{}
	}
	for i := range out.Flows {
		out.Flows[i].Meta = inventory.Meta{}
	}
	out.Sort()
	return out
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func snapshot(t *testing.T, s store.Store) store.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func testMigrate(t *testing.T, open Opener) {
	s := open(t, nil)
	v1, err := s.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v1, err)
	}
	// Migrating again, and from a second handle at the same time, is a no-op.
	s2 := open(t, nil)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, st := range []store.Store{s, s2} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = st.Migrate(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v2, _ := s.SchemaVersion(ctx); v2 != v1 {
		t.Fatalf("SchemaVersion changed from %d to %d on re-migrate", v1, v2)
	}
	snap := snapshot(t, s)
	if snap.Version != 0 || len(snap.Vendors) != 0 {
		t.Fatalf("fresh store not empty: %+v", snap)
	}
}

func testApplyAndRead(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	want := fixture()
	plan := apply(t, s, want, false)
	if c, u, d := plan.Counts(); c != 9 || u != 0 || d != 0 {
		t.Fatalf("plan counts = %d/%d/%d, want 9 creates", c, u, d)
	}
	snap := snapshot(t, s)
	if snap.Version != 1 {
		t.Errorf("version = %d, want 1", snap.Version)
	}
	mustEqual(t, "snapshot", stripMeta(snap.Inventory), want)
	for _, v := range snap.Vendors {
		if v.Revision != 1 || !v.CreatedAt.Equal(clock.Now()) || !v.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("vendor %s meta = %+v, want revision 1 at %v", v.ID, v.Meta, clock.Now())
		}
	}
	v, err := s.GetVendor(ctx, "mixpanel")
	if err != nil {
		t.Fatal(err)
	}
	v.Meta = inventory.Meta{}
	mustEqual(t, "GetVendor", v, want.Vendors[slices.IndexFunc(want.Vendors, func(v inventory.Vendor) bool { return v.ID == "mixpanel" })])
	f, err := s.GetFlow(ctx, "platform-dashboard.mixpanel")
	if err != nil {
		t.Fatal(err)
	}
	if f.FirstSeen == nil || !f.FirstSeen.Equal(time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)) || f.LastSeen == nil {
		t.Errorf("flow times = %v %v", f.FirstSeen, f.LastSeen)
	}
	sys, err := s.GetSystem(ctx, "api")
	if err != nil || sys.Repository != "https://git.example.com/api" {
		t.Fatalf("GetSystem = %+v, %v", sys, err)
	}
	// Re-applying the same inventory is a no-op plan that changes nothing.
	again := apply(t, s, want, true)
	if !again.Empty() {
		t.Fatalf("re-apply plan not empty: %+v", again.Changes)
	}
	if snapshot(t, s).Version != 1 {
		t.Error("an empty plan moved the version")
	}
}

func testRoundTripValues(t *testing.T, open Opener) {
	s := open(t, nil)
	hostile := []string{
		`Robert'); DROP TABLE vendors;--`, `<script>alert(1)</script>`, "ünïcødé — 日本語 🚀", `100% _literal_ \ backslash`,
		`"quoted" and 'single'`, "line one\nline two",
	}
	inv := inventory.Inventory{Systems: []inventory.System{{ID: "s", Name: "S", Environment: "test"}}}
	for i, h := range hostile {
		inv.Vendors = append(inv.Vendors, inventory.Vendor{ID: fmt.Sprintf("v%d", i), Name: h, Description: h,
			Category: "other", Status: "proposed", Tags: []string{h}})
		inv.Flows = append(inv.Flows, inventory.Flow{ID: fmt.Sprintf("s.v%d", i), System: "s", Vendor: fmt.Sprintf("v%d", i),
			Categories: []string{"user.name"}, Purpose: "support", Source: "declared", Description: h,
			Evidence: []inventory.Evidence{{Kind: "note", Ref: h, Detail: h}}})
	}
	inv.Sort()
	apply(t, s, inv, false)
	mustEqual(t, "hostile round trip", stripMeta(snapshot(t, s).Inventory), inv)
	// LIKE wildcards in a search are literal.
	got, err := s.ListVendors(ctx, store.VendorFilter{Text: "100%"})
	if err != nil || len(got) != 1 || got[0].ID != "v3" {
		t.Fatalf("search 100%% = %v, %v", ids(got), err)
	}
	got, _ = s.ListVendors(ctx, store.VendorFilter{Text: "_literal_"})
	if len(got) != 1 {
		t.Fatalf("search _literal_ = %v", ids(got))
	}
	got, _ = s.ListVendors(ctx, store.VendorFilter{Tag: `"quoted" and 'single'`})
	if len(got) != 1 || got[0].ID != "v4" {
		t.Fatalf("tag filter with quotes = %v", ids(got))
	}
}

func testUpdate(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	inv := fixture()
	apply(t, s, inv, false)
	created := clock.Now()
	clock.Advance(time.Hour)

	inv.Vendors[0].Subprocessors = []string{"mixpanel"} // gcp → mixpanel (index 0 is gcp after sort)
	if inv.Vendors[0].ID != "gcp" {
		t.Fatalf("fixture order changed: %s", inv.Vendors[0].ID)
	}
	mi := slices.IndexFunc(inv.Vendors, func(v inventory.Vendor) bool { return v.ID == "mixpanel" })
	inv.Vendors[mi].Status = "offboarding"
	inv.Vendors[mi].Subprocessors = []string{"sentry"}
	inv.Vendors[mi].Tags = nil
	fi := slices.IndexFunc(inv.Flows, func(f inventory.Flow) bool { return f.ID == "platform-dashboard.mixpanel" })
	inv.Flows[fi].Categories = []string{"user.unique_id.pseudonymous"}
	inv.Flows[fi].LastSeen = nil
	si := slices.IndexFunc(inv.Flows, func(f inventory.Flow) bool { return f.ID == "api.sentry" })
	inv.Flows[si].Vendor = "stripe" // the flow moves to another vendor
	plan := apply(t, s, inv, false)
	if c, u, d := plan.Counts(); c != 0 || u != 4 || d != 0 {
		t.Fatalf("plan = %d/%d/%d, want 4 updates", c, u, d)
	}
	matches, err := s.FlowMatches(ctx, "user.device")
	if err != nil || len(matches) != 1 || matches[0].Flow != "api.sentry" || matches[0].Vendor != "stripe" || matches[0].VendorName != "Stripe" {
		t.Fatalf("FlowMatches after the flow moved to stripe = %+v, %v", matches, err)
	}
	snap := snapshot(t, s)
	mustEqual(t, "after update", stripMeta(snap.Inventory), inv)
	v, _ := s.GetVendor(ctx, "mixpanel")
	if v.Revision != 2 || !v.CreatedAt.Equal(created) || !v.UpdatedAt.Equal(clock.Now()) {
		t.Errorf("updated vendor meta = %+v", v.Meta)
	}
	untouched, _ := s.GetVendor(ctx, "stripe")
	if untouched.Revision != 1 {
		t.Errorf("untouched vendor revision = %d", untouched.Revision)
	}
	// The category index follows the update.
	flows, _ := s.ListFlows(ctx, store.FlowFilter{Category: "user.contact.email"})
	if slices.Contains(flowIDs(flows), "platform-dashboard.mixpanel") {
		t.Error("category index still has the old categories")
	}
	flows, _ = s.ListFlows(ctx, store.FlowFilter{Category: "user.unique_id.pseudonymous"})
	if !slices.Contains(flowIDs(flows), "platform-dashboard.mixpanel") {
		t.Error("category index misses the new category")
	}
}

func testDelete(t *testing.T, open Opener) {
	s := open(t, nil)
	inv := fixture()
	apply(t, s, inv, false)
	// Prune down to gcp alone: flows go first, then systems and vendors.
	keep := inventory.Inventory{Vendors: []inventory.Vendor{inv.Vendors[0]}}
	keep.Vendors[0].Subprocessors = nil
	plan := apply(t, s, keep, true)
	if c, u, d := plan.Counts(); c != 0 || u != 0 || d != 8 {
		t.Fatalf("prune plan = %d/%d/%d, want 8 deletes", c, u, d)
	}
	snap := snapshot(t, s)
	mustEqual(t, "after prune", stripMeta(snap.Inventory), keep)
	links, err := s.SubprocessorLinks(ctx)
	if err != nil || len(links) != 0 {
		t.Fatalf("links after prune = %v, %v", links, err)
	}
	flows, _ := s.ListFlows(ctx, store.FlowFilter{Category: "user"})
	if len(flows) != 0 {
		t.Fatalf("category index kept deleted flows: %v", flowIDs(flows))
	}
}

func testVendorFilters(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	for _, tt := range []struct {
		f    store.VendorFilter
		want []string
	}{
		{store.VendorFilter{}, []string{"gcp", "mixpanel", "sentry", "stripe"}},
		{store.VendorFilter{Status: "active"}, []string{"gcp", "mixpanel"}},
		{store.VendorFilter{Category: "payments"}, []string{"stripe"}},
		{store.VendorFilter{Tag: "us"}, []string{"mixpanel", "sentry"}},
		{store.VendorFilter{Tag: "u"}, nil},
		{store.VendorFilter{Text: "ANALYTICS"}, []string{"mixpanel"}},
		{store.VendorFilter{Text: "google"}, []string{"gcp"}},
		{store.VendorFilter{IDs: []string{"stripe", "gcp", "nope"}}, []string{"gcp", "stripe"}},
		{store.VendorFilter{Status: "active", Tag: "us"}, []string{"mixpanel"}},
	} {
		got, err := s.ListVendors(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, fmt.Sprintf("ListVendors(%+v)", tt.f), ids(got), tt.want)
	}
	got, _ := s.ListVendors(ctx, store.VendorFilter{IDs: []string{"mixpanel"}})
	if len(got) != 1 || !slices.Equal(got[0].Subprocessors, []string{"gcp"}) {
		t.Fatalf("ListVendors does not load subprocessors: %+v", got)
	}
	links, _ := s.SubprocessorLinks(ctx)
	mustEqual(t, "links", links, map[string][]string{"mixpanel": {"gcp"}, "sentry": {"gcp"}})
}

func testFlowFilters(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	for _, tt := range []struct {
		f    store.FlowFilter
		want []string
	}{
		{store.FlowFilter{}, []string{"api.sentry", "api.stripe", "platform-dashboard.mixpanel"}},
		{store.FlowFilter{Vendor: "stripe"}, []string{"api.stripe"}},
		{store.FlowFilter{System: "api"}, []string{"api.sentry", "api.stripe"}},
		{store.FlowFilter{Source: "discovered"}, []string{"api.sentry"}},
		{store.FlowFilter{System: "api", Category: "user.financial"}, []string{"api.stripe"}},
		{store.FlowFilter{Vendor: "nope"}, nil},
	} {
		got, err := s.ListFlows(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, fmt.Sprintf("ListFlows(%+v)", tt.f), flowIDs(got), tt.want)
	}
}

func testCategoryHierarchy(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	for _, tt := range []struct {
		category string
		want     []string
	}{
		// exact key
		{"user.contact.email", []string{"api.stripe", "platform-dashboard.mixpanel"}}, // stripe declares the parent user.contact
		// a parent key finds flows of its children
		{"user.contact", []string{"api.stripe", "platform-dashboard.mixpanel"}},
		{"user.device", []string{"api.sentry", "platform-dashboard.mixpanel"}},
		// a child key finds flows that declared a parent
		{"user.device.ip_address", []string{"api.sentry"}},
		{"user", []string{"api.sentry", "api.stripe", "platform-dashboard.mixpanel"}},
		{"user.financial.credit_card", []string{"api.stripe"}},
		{"user.financial.bank_account", nil},
		// a prefix that is not a parent matches nothing
		{"user.contac", nil},
		{"user.unique", nil},
		{"system", nil},
	} {
		got, err := s.ListFlows(ctx, store.FlowFilter{Category: tt.category})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "flows carrying "+tt.category, flowIDs(got), tt.want)
		// FlowMatches agrees with ListFlows, row by matching category.
		matches, err := s.FlowMatches(ctx, tt.category)
		if err != nil {
			t.Fatal(err)
		}
		var fromMatches []string
		for _, m := range matches {
			if !slices.Contains(fromMatches, m.Flow) {
				fromMatches = append(fromMatches, m.Flow)
			}
		}
		slices.Sort(fromMatches)
		mustEqual(t, "FlowMatches of "+tt.category, fromMatches, tt.want)
	}
	matches, err := s.FlowMatches(ctx, "user.contact.email")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(matches, func(a, b store.FlowMatch) int { return strings.Compare(a.Flow+a.Category, b.Flow+b.Category) })
	mustEqual(t, "FlowMatches rows", matches, []store.FlowMatch{
		{Flow: "api.stripe", System: "api", Vendor: "stripe", Category: "user.contact", VendorName: "Stripe", VendorStatus: "proposed", VendorCategory: "payments"},
		{Flow: "platform-dashboard.mixpanel", System: "platform-dashboard", Vendor: "mixpanel", Category: "user.contact.email", VendorName: "Mixpanel", VendorStatus: "active", VendorCategory: "analytics"},
	})
	matches, _ = s.FlowMatches(ctx, "user")
	if len(matches) != 9 {
		t.Errorf("FlowMatches(user) = %d rows, want one per declared user.* category (9)", len(matches))
	}
}

func testStaleBase(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	snap := snapshot(t, s)
	desired := stripMeta(snap.Inventory)
	desired.Vendors[0].Description = "changed by someone else"
	apply(t, s, desired, false) // moves the version

	mine := stripMeta(snap.Inventory)
	mine.Vendors[1].Description = "my stale change"
	plan := inventory.Diff(snap.Inventory, mine, false)
	err := s.Apply(ctx, snap.Version, plan)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Apply with a stale base = %v, want ErrConflict", err)
	}
	v, _ := s.GetVendor(ctx, mine.Vendors[1].ID)
	if v.Description == "my stale change" {
		t.Fatal("a refused plan was written")
	}
}

func testStaleRevision(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	snap := snapshot(t, s)
	a := stripMeta(snap.Inventory)
	a.Vendors[0].Owner = "alice"
	if err := s.Apply(ctx, 0, inventory.Diff(snap.Inventory, a, false)); err != nil {
		t.Fatal(err)
	}
	b := stripMeta(snap.Inventory)
	b.Vendors[0].Owner = "bob"
	// base 0 skips the version check; the revision still catches the race.
	err := s.Apply(ctx, 0, inventory.Diff(snap.Inventory, b, false))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update at a stale revision = %v, want ErrConflict", err)
	}
	if v, _ := s.GetVendor(ctx, a.Vendors[0].ID); v.Owner != "alice" {
		t.Fatalf("owner = %q, want alice (the lost update must not win)", v.Owner)
	}
	// A stale delete is refused too.
	del := inventory.Diff(snap.Inventory, inventory.Inventory{}, true)
	if err := s.Apply(ctx, 0, del); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("delete at a stale revision = %v, want ErrConflict", err)
	}
	if n := len(snapshot(t, s).Vendors); n != 4 {
		t.Fatalf("a refused delete removed vendors: %d left", n)
	}
}

func testAtomicOnConflict(t *testing.T, open Opener) {
	s := open(t, nil)
	inv := fixture()
	apply(t, s, inv, false)
	before := snapshot(t, s)
	// A plan that creates new objects and then one that exists already.
	plan := inventory.Plan{Changes: []inventory.Change{
		{Op: inventory.OpCreate, Kind: inventory.KindVendor, ID: "new-one", Vendor: &inventory.Vendor{ID: "new-one", Name: "New", Category: "other", Status: "proposed"}},
		{Op: inventory.OpCreate, Kind: inventory.KindVendor, ID: "stripe", Vendor: &inventory.Vendor{ID: "stripe", Name: "Dup", Category: "other", Status: "proposed"}},
	}}
	if err := s.Apply(ctx, 0, plan); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate create = %v, want ErrConflict", err)
	}
	after := snapshot(t, s)
	mustEqual(t, "state after a failed plan", after, before)
}

func testReferentialIntegrity(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	before := snapshot(t, s)
	v, _ := s.GetVendor(ctx, "stripe")
	cases := map[string]inventory.Plan{
		"delete a vendor that flows use": {Changes: []inventory.Change{
			{Op: inventory.OpDelete, Kind: inventory.KindVendor, ID: "stripe", Revision: v.Revision, Vendor: &v}}},
		"delete a vendor that is a subprocessor": {Changes: []inventory.Change{
			{Op: inventory.OpDelete, Kind: inventory.KindVendor, ID: "gcp", Revision: 1, Vendor: &inventory.Vendor{ID: "gcp"}}}},
		"a flow to a missing vendor": {Changes: []inventory.Change{
			{Op: inventory.OpCreate, Kind: inventory.KindFlow, ID: "api.ghost", Flow: &inventory.Flow{ID: "api.ghost", System: "api", Vendor: "ghost",
				Categories: []string{"user.name"}, Purpose: "support", Source: "declared"}}}},
		"a subprocessor that does not exist": {Changes: []inventory.Change{
			{Op: inventory.OpCreate, Kind: inventory.KindVendor, ID: "x", Vendor: &inventory.Vendor{ID: "x", Name: "X", Category: "other",
				Status: "proposed", Subprocessors: []string{"ghost"}}}}},
	}
	for name, plan := range cases {
		if err := s.Apply(ctx, 0, plan); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: err = %v, want ErrConflict", name, err)
		}
	}
	mustEqual(t, "state after refused plans", snapshot(t, s), before)
}

func testNotFound(t *testing.T, open Opener) {
	s := open(t, nil)
	if _, err := s.GetVendor(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetVendor = %v", err)
	}
	if _, err := s.GetSystem(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSystem = %v", err)
	}
	if _, err := s.GetFlow(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetFlow = %v", err)
	}
}

// testConcurrentWriters runs read-modify-write loops from two handles (two
// processes as far as the database can tell), each retrying on conflict, and
// checks that no update was lost and nothing was corrupted.
func testConcurrentWriters(t *testing.T, open Opener) {
	handles := []store.Store{open(t, nil), open(t, nil)}
	apply(t, handles[0], fixture(), false)
	const writers, rounds = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := handles[w%len(handles)]
			for r := range rounds {
				tag := fmt.Sprintf("w%d-r%d", w, r)
				for attempt := 0; ; attempt++ {
					if attempt == 200 {
						errs <- fmt.Errorf("writer %d: gave up after %d conflicts", w, attempt)
						return
					}
					snap, err := s.Snapshot(ctx)
					if err != nil {
						errs <- err
						return
					}
					desired := stripMeta(snap.Inventory)
					i := slices.IndexFunc(desired.Vendors, func(v inventory.Vendor) bool { return v.ID == "mixpanel" })
					desired.Vendors[i].Tags = append(desired.Vendors[i].Tags, tag)
					desired.Sort()
					err = s.Apply(ctx, snap.Version, inventory.Diff(snap.Inventory, desired, false))
					if errors.Is(err, store.ErrConflict) || isBusy(err) {
						continue
					}
					if err != nil {
						errs <- fmt.Errorf("writer %d: %w", w, err)
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, err := handles[1].GetVendor(ctx, "mixpanel")
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for r := range rounds {
			if tag := fmt.Sprintf("w%d-r%d", w, r); !slices.Contains(v.Tags, tag) {
				t.Errorf("lost update: tag %s missing", tag)
			}
		}
	}
	if want := int64(1 + writers*rounds); v.Revision != want {
		t.Errorf("revision = %d, want %d", v.Revision, want)
	}
	if snap := snapshot(t, handles[0]); snap.Version != int64(1+writers*rounds) {
		t.Errorf("version = %d, want %d", snap.Version, 1+writers*rounds)
	}
}

// isBusy reports a lock timeout, which a writer may retry like a conflict.
func isBusy(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked"))
}

// testLargePlan crosses the multi-row insert batch sizes.
func testLargePlan(t *testing.T, open Opener) {
	s := open(t, nil)
	var inv inventory.Inventory
	inv.Systems = []inventory.System{{ID: "app", Name: "App", Environment: "production"}}
	for i := range 1200 {
		id := fmt.Sprintf("vendor-%04d", i)
		inv.Vendors = append(inv.Vendors, inventory.Vendor{ID: id, Name: id, Category: "other", Status: "active"})
		inv.Flows = append(inv.Flows, inventory.Flow{ID: "app." + id, System: "app", Vendor: id,
			Categories: []string{"user.contact.email", "user.name"}, Purpose: "analytics", Source: "declared"})
	}
	inv.Sort()
	apply(t, s, inv, false)
	mustEqual(t, "large round trip", stripMeta(snapshot(t, s).Inventory), inv)
	flows, _ := s.ListFlows(ctx, store.FlowFilter{Category: "user.contact"})
	if len(flows) != 1200 {
		t.Fatalf("category query found %d flows, want 1200", len(flows))
	}
	plan := apply(t, s, inventory.Inventory{}, true)
	if _, _, d := plan.Counts(); d != 2401 {
		t.Fatalf("prune deleted %d, want 2401", d)
	}
	if snap := snapshot(t, s); len(snap.Vendors)+len(snap.Flows)+len(snap.Systems) != 0 {
		t.Fatal("prune left objects")
	}
}

func ids(vs []inventory.Vendor) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func flowIDs(fs []inventory.Flow) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func testBlocks(t *testing.T, open Opener) {
	s := open(t, nil)
	apply(t, s, fixture(), false)
	at := time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC)
	if err := s.BlockVendor(ctx, store.Block{Vendor: "mixpanel", Reason: "breach", BlockedBy: "alice", BlockedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.BlockVendor(ctx, store.Block{Vendor: "ghost", BlockedAt: at}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("block of an unknown vendor = %v", err)
	}
	gates, err := s.Gates(ctx, []string{"mixpanel", "stripe", "ghost"})
	if err != nil {
		t.Fatal(err)
	}
	if g := gates["mixpanel"]; !g.Exists || g.Status != "active" || g.Block == nil || g.Block.Reason != "breach" || g.Block.BlockedBy != "alice" || !g.Block.BlockedAt.Equal(at) {
		t.Errorf("mixpanel gate = %+v (block %+v)", g, g.Block)
	}
	if g := gates["stripe"]; !g.Exists || g.Status != "proposed" || g.Block != nil {
		t.Errorf("stripe gate = %+v", g)
	}
	if g, ok := gates["ghost"]; !ok || g.Exists {
		t.Errorf("ghost gate = %+v, %v", g, ok)
	}
	// Re-blocking updates the reason; an apply of the inventory leaves the block alone.
	if err := s.BlockVendor(ctx, store.Block{Vendor: "mixpanel", Reason: "still investigating", BlockedAt: at}); err != nil {
		t.Fatal(err)
	}
	apply(t, s, fixture(), true)
	gates, _ = s.Gates(ctx, []string{"mixpanel"})
	if b := gates["mixpanel"].Block; b == nil || b.Reason != "still investigating" {
		t.Errorf("block after re-block and apply = %+v", b)
	}
	if err := s.UnblockVendor(ctx, "mixpanel"); err != nil {
		t.Fatal(err)
	}
	if err := s.UnblockVendor(ctx, "mixpanel"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second unblock = %v", err)
	}
	gates, _ = s.Gates(ctx, []string{"mixpanel"})
	if gates["mixpanel"].Block != nil {
		t.Error("still blocked after unblock")
	}
}

func testLedger(t *testing.T, open Opener) {
	s := open(t, nil)
	t0 := time.Date(2025, 11, 1, 10, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	batch1 := []store.LedgerEntry{
		{Vendor: "mixpanel", Subject: "s1", Category: "user.unique_id.pseudonymous", FirstSeen: h(0), LastSeen: h(1), Messages: 3},
		{Vendor: "mixpanel", Subject: "s1", Category: "user.location.imprecise", FirstSeen: h(0), LastSeen: h(0), Messages: 1},
		{Vendor: "mixpanel", Subject: "s2", Category: "user.unique_id.pseudonymous", FirstSeen: h(2), LastSeen: h(2), Messages: 1},
		// the same key twice in one batch is merged, not an error
		{Vendor: "mixpanel", Subject: "s2", Category: "user.unique_id.pseudonymous", FirstSeen: h(3), LastSeen: h(3), Messages: 1},
		{Vendor: "segment", Subject: "s1", Category: "user.contact.email", FirstSeen: h(5), LastSeen: h(5), Messages: 1},
	}
	actions := []store.ActionCount{
		{Vendor: "mixpanel", Action: "dropped", Category: "user.contact.email", Count: 4},
		{Vendor: "mixpanel", Action: "hashed", Category: "user.unique_id", Count: 5},
		{Vendor: "mixpanel", Action: "dropped", Category: "user.contact.email", Count: 1},
	}
	if err := s.RecordLedger(ctx, batch1, actions); err != nil {
		t.Fatal(err)
	}
	// A later batch widens the window and adds messages.
	if err := s.RecordLedger(ctx, []store.LedgerEntry{
		{Vendor: "mixpanel", Subject: "s1", Category: "user.unique_id.pseudonymous", FirstSeen: h(-5), LastSeen: h(10), Messages: 2},
	}, []store.ActionCount{{Vendor: "mixpanel", Action: "hashed", Category: "user.unique_id", Count: 1}}); err != nil {
		t.Fatal(err)
	}
	sum, err := s.LedgerSummary(ctx, "mixpanel")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Subjects != 2 || len(sum.Categories) != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	c := sum.Categories[1] // user.unique_id.pseudonymous sorts after user.location.imprecise
	if c.Category != "user.unique_id.pseudonymous" || c.Subjects != 2 || c.Messages != 7 || !c.FirstSeen.Equal(h(-5)) || !c.LastSeen.Equal(h(10)) {
		t.Errorf("pseudonymous id summary = %+v", c)
	}
	mustEqual(t, "actions", sum.Actions, []store.ActionCount{
		{Vendor: "mixpanel", Action: "dropped", Category: "user.contact.email", Count: 5},
		{Vendor: "mixpanel", Action: "hashed", Category: "user.unique_id", Count: 6},
	})
	scan := func(f store.LedgerFilter) []string {
		var out []string
		if err := s.ScanLedger(ctx, f, func(e store.LedgerEntry) error {
			out = append(out, e.Vendor+"/"+e.Subject+"/"+e.Category)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	mustEqual(t, "all", scan(store.LedgerFilter{}), []string{
		"mixpanel/s1/user.location.imprecise", "mixpanel/s1/user.unique_id.pseudonymous", "mixpanel/s2/user.unique_id.pseudonymous", "segment/s1/user.contact.email"})
	mustEqual(t, "category parent", scan(store.LedgerFilter{Category: "user.unique_id"}), []string{
		"mixpanel/s1/user.unique_id.pseudonymous", "mixpanel/s2/user.unique_id.pseudonymous"})
	// A window: rows seen within [h(1), h(2)]: s1's location row (h0) is out.
	mustEqual(t, "window", scan(store.LedgerFilter{Vendor: "mixpanel", From: h(1), To: h(2)}), []string{
		"mixpanel/s1/user.unique_id.pseudonymous", "mixpanel/s2/user.unique_id.pseudonymous"})
	mustEqual(t, "before everything", scan(store.LedgerFilter{To: h(-6)}), []string(nil))
	empty, err := s.LedgerSummary(ctx, "nobody")
	if err != nil || empty.Subjects != 0 || empty.Categories == nil || len(empty.Categories) != 0 {
		t.Errorf("empty summary = %+v, %v", empty, err)
	}
}

// testLedgerConcurrent has two handles (two gateways) merge overlapping
// keys at once: no deadlock, no lost count.
func testLedgerConcurrent(t *testing.T, open Opener) {
	handles := []store.Store{open(t, nil), open(t, nil)}
	const writers, rounds, subjects = 4, 10, 50
	at := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := handles[w%2]
			for r := range rounds {
				var batch []store.LedgerEntry
				for i := range subjects {
					// writers walk the keys in opposite orders
					n := i
					if w%2 == 1 {
						n = subjects - 1 - i
					}
					batch = append(batch, store.LedgerEntry{Vendor: "v", Subject: fmt.Sprintf("s%03d", n), Category: "user.name",
						FirstSeen: at.Add(time.Duration(r) * time.Minute), LastSeen: at.Add(time.Duration(r) * time.Minute), Messages: 1})
				}
				for attempt := 0; ; attempt++ {
					err := s.RecordLedger(ctx, batch, []store.ActionCount{{Vendor: "v", Action: "dropped", Category: "user.contact.email", Count: 1}})
					if err == nil {
						break
					}
					if !isBusy(err) || attempt > 50 {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sum, err := handles[0].LedgerSummary(ctx, "v")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Subjects != subjects || sum.Categories[0].Messages != writers*rounds*subjects || sum.Actions[0].Count != writers*rounds {
		t.Errorf("after concurrent merges: %+v", sum)
	}
	if !sum.Categories[0].LastSeen.Equal(at.Add((rounds - 1) * time.Minute)) {
		t.Errorf("last seen = %v", sum.Categories[0].LastSeen)
	}
}
