package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/inventory/invgen"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// treeCountRe reads a category and its holder count from the tree.
var treeCountRe = regexp.MustCompile(`<a href="/data\?category=([a-z0-9_.]+)"[^>]*><code>[^<]*</code></a>\s*<span class="cat-name">[^<]*</span>\s*(?:<span class="holders">(\d+) vendors?</span>)?`)

// TestUIDataCountsFollowInventory: over a generated inventory with
// parent categories and subprocessor chains, the tree's counts are
// who-has's for every category; after a change to the inventory they are
// the new who-has's at once (the counts are kept per inventory version).
func TestUIDataCountsFollowInventory(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, false)
		sess := e.session("viewer")
		apply := func(inv inventory.Inventory) {
			t.Helper()
			inv.Sort()
			plan, base, err := e.svc.Plan(ctx, inventory.FromInventory(inv), true)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.svc.ApplyPlan(ctx, base, plan); err != nil {
				t.Fatal(err)
			}
		}
		check := func(what string) map[string]string {
			t.Helper()
			body := e.okPage("/data", sess)
			counts := map[string]string{}
			for _, m := range treeCountRe.FindAllStringSubmatch(body, -1) {
				counts[m[1]] = m[2]
			}
			tax := taxonomy.Default()
			if len(counts) != len(tax.Keys()) {
				t.Fatalf("%s: the tree shows %d categories, the taxonomy has %d", what, len(counts), len(tax.Keys()))
			}
			for _, k := range tax.Keys() {
				w, err := e.svc.WhoHas(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				want := ""
				if len(w.Holders) > 0 {
					want = fmt.Sprint(len(w.Holders))
				}
				if counts[k] != want {
					t.Errorf("%s: %s: the tree says %q vendors, who-has %q", what, k, counts[k], want)
				}
			}
			return counts
		}

		inv := invgen.Generate(invgen.Size{Vendors: 120, Systems: 8, Flows: 240}, 7)
		vendor := func(id string) *inventory.Vendor {
			i := slices.IndexFunc(inv.Vendors, func(v inventory.Vendor) bool { return v.ID == id })
			return &inv.Vendors[i]
		}
		// Parent categories (their children's who-has lists them) and a
		// chain: vendor-00000 → vendor-00050 → vendor-00051.
		inv.Flows[0].Categories = append(inv.Flows[0].Categories, "user.contact")
		inv.Flows[1].Categories = []string{"user"}
		vendor("vendor-00000").Subprocessors = []string{"vendor-00050"}
		vendor("vendor-00050").Subprocessors = []string{"vendor-00051"}
		apply(inv)
		before := check("first inventory")

		// A flow goes, a flow of a category nobody had comes, a link
		// lengthens the chains.
		inv.Flows = slices.Delete(inv.Flows, 1, 2)
		inv.Vendors = append(inv.Vendors, inventory.Vendor{ID: "newcomer", Name: "Newcomer", Category: inventory.VendorCategories[0],
			Status: inventory.VendorStatuses[0], Subprocessors: []string{"vendor-00050"}})
		inv.Flows = append(inv.Flows, inventory.Flow{ID: "system-0000.newcomer", System: "system-0000", Vendor: "newcomer",
			Categories: []string{"user.financial"}, Purpose: inventory.Purposes[0], Source: inventory.SourceObserved})
		vendor("vendor-00051").Subprocessors = []string{"vendor-00098"}
		apply(inv)
		if after := check("changed inventory"); fmt.Sprint(after) == fmt.Sprint(before) {
			t.Error("the change moved no count")
		}
		e.checkLogs()
	})
}
