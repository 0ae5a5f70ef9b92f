package web

import (
	"context"
	"sync"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

// holderCache keeps the explorer's per-category holder counts for one
// inventory version: they change only when the inventory does.
type holderCache struct {
	mu      sync.Mutex
	tax     *taxonomy.Tree
	version int64
	counts  map[string]int
}

// holderCounts counts, for every category, the vendors who-has would
// list: those receiving a flow that declares the category, one below it
// or one above it, and every vendor reachable from them through
// subprocessor links. It reads the inventory's version and, when that
// moved, the distinct (category, vendor) pairs and the subprocessor
// links: aggregate reads, whatever the number of flows.
func (s *Server) holderCounts(ctx context.Context, tax *taxonomy.Tree) (map[string]int, error) {
	// The version is read before the pairs, so the counts are never older
	// than the version they are kept under.
	version, err := s.svc.Store.InventoryVersion(ctx)
	if err != nil {
		return nil, err
	}
	c := &s.holders
	c.mu.Lock() // one computation at a time: the others wait for it
	defer c.mu.Unlock()
	// A newer version's counts serve a request that read an older one (it
	// began before a change); they are never replaced by older ones.
	if c.counts != nil && c.tax == tax && c.version >= version {
		return c.counts, nil
	}
	pairs, err := s.svc.Store.CategoryVendors(ctx)
	if err != nil {
		return nil, err
	}
	links, err := s.svc.Store.SubprocessorLinks(ctx)
	if err != nil {
		return nil, err
	}
	counts := countHolders(tax, pairs, links)
	c.tax, c.version, c.counts = tax, version, counts
	return counts, nil
}

// countHolders expands each declared category to the keys whose who-has
// it answers (itself, its ancestors and its descendants), and counts for
// each key the vendors of its categories and those reachable from them
// through subprocessor links. Vendors are numbered, and one stamp per
// vendor marks those counted for the current key.
func countHolders(tax *taxonomy.Tree, pairs, links map[string][]string) map[string]int {
	num := map[string]int32{}
	number := func(id string) int32 {
		n, ok := num[id]
		if !ok {
			n = int32(len(num))
			num[id] = n
		}
		return n
	}
	vendors := make(map[string][]int32, len(pairs)) // by declared category
	keyCats := map[string][]string{}                // the declared categories each key answers for
	for cat, ids := range pairs {
		ns := make([]int32, len(ids))
		for i, id := range ids {
			ns[i] = number(id)
		}
		vendors[cat] = ns
		keys := append([]string{cat}, taxonomy.Ancestors(cat)...)
		for _, k := range append(keys, tax.Descendants(cat)...) {
			keyCats[k] = append(keyCats[k], cat)
		}
	}
	subs := map[int32][]int32{}
	for v, ss := range links {
		for _, sub := range ss {
			subs[number(v)] = append(subs[number(v)], number(sub))
		}
	}
	stamp := make([]int32, len(num)) // the key's generation that counted the vendor
	counts := make(map[string]int, len(keyCats))
	var queue []int32
	gen := int32(0)
	for key, cats := range keyCats {
		gen++
		n := 0
		queue = queue[:0]
		visit := func(v int32) {
			if stamp[v] != gen {
				stamp[v] = gen
				n++
				if len(subs[v]) > 0 {
					queue = append(queue, v)
				}
			}
		}
		for _, cat := range cats {
			for _, v := range vendors[cat] {
				visit(v)
			}
		}
		for i := 0; i < len(queue); i++ {
			for _, sub := range subs[queue[i]] {
				visit(sub)
			}
		}
		counts[key] = n
	}
	return counts
}
