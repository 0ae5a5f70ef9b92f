// Package invgen generates large, realistic-looking inventories for
// benchmarks and load tests. The same size and seed give the same inventory.
package invgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// Size is how large an inventory to make.
type Size struct {
	Vendors, Systems, Flows int
}

// Generate builds a valid inventory. About one vendor in fifty is an
// infrastructure provider that other vendors name as a subprocessor; links
// only point at providers, so there are no cycles. Flows join distinct
// (system, vendor) pairs and carry two to five leaf categories.
func Generate(size Size, seed uint64) inventory.Inventory {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	tax := taxonomy.Default()
	var leaves []string
	for _, k := range tax.Keys() {
		if len(tax.Descendants(k)) == 0 && k != "system.operations" {
			leaves = append(leaves, k)
		}
	}
	providers := max(1, size.Vendors/50)
	inv := inventory.Inventory{
		Vendors: make([]inventory.Vendor, 0, size.Vendors),
		Systems: make([]inventory.System, 0, size.Systems),
		Flows:   make([]inventory.Flow, 0, size.Flows),
	}
	for i := range size.Vendors {
		id := fmt.Sprintf("vendor-%05d", i)
		v := inventory.Vendor{
			ID: id, Name: fmt.Sprintf("Vendor %d Inc.", i), Website: fmt.Sprintf("https://%s.example", id),
			Domains:  []string{id + ".example", "api." + id + ".example"},
			Category: inventory.VendorCategories[r.IntN(len(inventory.VendorCategories))],
			Status:   inventory.VendorStatuses[r.IntN(len(inventory.VendorStatuses))],
			Owner:    fmt.Sprintf("team-%d", r.IntN(40)), Tags: []string{fmt.Sprintf("region-%d", r.IntN(5))},
		}
		if i < providers {
			v.Category = "cloud-infrastructure"
		} else if r.IntN(3) == 0 {
			v.Subprocessors = []string{fmt.Sprintf("vendor-%05d", r.IntN(providers))}
		}
		inv.Vendors = append(inv.Vendors, v)
	}
	for i := range size.Systems {
		inv.Systems = append(inv.Systems, inventory.System{
			ID: fmt.Sprintf("system-%04d", i), Name: fmt.Sprintf("System %d", i),
			Environment: inventory.Environments[r.IntN(2)], Owner: fmt.Sprintf("team-%d", r.IntN(40)),
		})
	}
	seen := make(map[[2]int]bool, size.Flows)
	for len(inv.Flows) < size.Flows && len(seen) < size.Vendors*size.Systems {
		s, v := r.IntN(size.Systems), r.IntN(size.Vendors)
		if seen[[2]int{s, v}] {
			continue
		}
		seen[[2]int{s, v}] = true
		cats := make([]string, 2+r.IntN(4))
		for j := range cats {
			cats[j] = leaves[r.IntN(len(leaves))]
		}
		sys, ven := inv.Systems[s].ID, inv.Vendors[v].ID
		inv.Flows = append(inv.Flows, inventory.Flow{
			ID: inventory.DefaultFlowID(sys, ven), System: sys, Vendor: ven, Categories: cats,
			Subjects: []string{inventory.DataSubjects[r.IntN(len(inventory.DataSubjects))]},
			Purpose:  inventory.Purposes[r.IntN(len(inventory.Purposes))], Source: inventory.SourceDeclared,
			EstimatedSubjects: int64(r.IntN(1_000_000)),
		})
	}
	inv.Sort()
	return inv
}
