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
	if c.counts != nil && c.tax == tax && c.version == version {
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
// it answers (itself, its ancestors and its descendants), and follows the
// subprocessor links from each key's vendors.
func countHolders(tax *taxonomy.Tree, pairs, links map[string][]string) map[string]int {
	direct := map[string]map[string]bool{}
	for cat, vendors := range pairs {
		keys := append([]string{cat}, taxonomy.Ancestors(cat)...)
		for _, k := range append(keys, tax.Descendants(cat)...) {
			set := direct[k]
			if set == nil {
				set = make(map[string]bool, len(vendors))
				direct[k] = set
			}
			for _, v := range vendors {
				set[v] = true
			}
		}
	}
	counts := make(map[string]int, len(direct))
	for key, seen := range direct {
		queue := make([]string, 0, len(seen))
		for v := range seen {
			queue = append(queue, v)
		}
		for ; len(queue) > 0; queue = queue[1:] {
			for _, sub := range links[queue[0]] {
				if !seen[sub] {
					seen[sub] = true
					queue = append(queue, sub)
				}
			}
		}
		counts[key] = len(seen)
	}
	return counts
}
