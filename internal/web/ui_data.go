package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/taxonomy"
	"github.com/weaklink/weaklink/internal/textutil"
)

// The "who has this data?" explorer: the taxonomy as a tree, each
// category with how many vendors hold it, and for the chosen category
// the service's who-has answer as a table and a diagram.

// maxCategoryQuery bounds the search box's text.
const maxCategoryQuery = 200

type dataPage struct {
	page
	// Query is the search box's text.
	Query string
	// Keys are every category key, for the search box's suggestions.
	Keys []string
	Tree []*catNode
	// Problem says why the query shows no category; Suggest is the
	// nearest key, if any.
	Problem string
	Suggest *catNode
	// Matches are the categories a text search found.
	Matches []*catNode
	Result  *whoHasView
}

// catNode is a category in the tree.
type catNode struct {
	Key, Name string
	// Holders counts the vendors that hold the category (directly or as
	// subprocessors), as who-has would list them.
	Holders int
	// Current marks the chosen category; Open the ones on the way to it.
	Current, Open bool
	Children      []*catNode
}

// whoHasView is who-has for one category, arranged for the page.
type whoHasView struct {
	service.WhoHas
	Description      string
	Sensitivity      int
	Direct, Indirect int
	Rows             []holderRow
	Diagram          *diagram
	// TooBig says why there is no diagram.
	TooBig string
}

// holderRow is one vendor of the answer.
type holderRow struct {
	service.Holder
	// Routes are the paths; Shown the first few, More the rest.
	Routes, Shown, More []route
	Systems             []string
	Sources             []string
}

// route is one way the data reaches a vendor: a system and a chain of
// vendors, with the flows (and their sources) that take it.
type route struct {
	System  string
	Chain   []string
	Flows   []string
	Sources []string
}

// uiData is GET /data: the tree, and with ?category= the answer.
func (s *Server) uiData(c *uiCall) {
	tax := s.svc.Checker.Taxonomy
	q := strings.TrimSpace(c.r.URL.Query().Get("category"))
	dp := dataPage{page: c.page("Who has this data?", "data"), Query: q, Keys: tax.Keys()}
	counts, err := s.holderCounts(c.ctx, tax)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	nodes := map[string]*catNode{}
	node := func(key string) *catNode {
		n := nodes[key]
		if n == nil {
			cat, _ := tax.Get(key)
			n = &catNode{Key: key, Name: cat.Name, Holders: counts[key]}
			nodes[key] = n
		}
		return n
	}
	for _, k := range tax.Keys() { // sorted: parents before children
		n := node(k)
		if p := taxonomy.Parent(k); p != "" && tax.Has(p) {
			node(p).Children = append(node(p).Children, n)
		} else {
			n.Open = true // the first level shows its children
			dp.Tree = append(dp.Tree, n)
		}
	}
	status := http.StatusOK
	switch {
	case q == "":
	case len(q) > maxCategoryQuery:
		status, dp.Problem = http.StatusBadRequest, fmt.Sprintf("The search text is longer than %d characters.", maxCategoryQuery)
	case tax.Has(q):
		n := nodes[q]
		n.Current, n.Open = true, true
		for _, a := range taxonomy.Ancestors(q) {
			if an := nodes[a]; an != nil {
				an.Open = true
			}
		}
		dp.Title = q + " · who has it?"
		dp.Result, err = s.whoHasView(c.ctx, tax, q)
		if err != nil {
			s.uiFail(c, err)
			return
		}
	default:
		// Not a key: search keys and names, and go to the only match.
		text := strings.ToLower(q)
		for _, k := range tax.Keys() {
			if n := nodes[k]; strings.Contains(k, text) || strings.Contains(strings.ToLower(n.Name), text) {
				dp.Matches = append(dp.Matches, n)
			}
		}
		if len(dp.Matches) == 1 {
			http.Redirect(c.w, c.r, "/data?"+url.Values{"category": {dp.Matches[0].Key}}.Encode(), http.StatusSeeOther)
			return
		}
		if len(dp.Matches) == 0 {
			status = http.StatusBadRequest
			dp.Problem = fmt.Sprintf("Unknown data category %q: no category key or name contains it.", q)
			if sug := textutil.Closest(q, tax.Keys()); sug != "" {
				dp.Suggest = nodes[sug]
			}
		}
	}
	s.render(c.w, c.r, status, "data.html", dp)
}

// maxRoutes is how many paths a vendor's row shows before the rest fold
// away.
const maxRoutes = 4

// maxDiagram bounds the boxes of one column of the diagram; past it the
// table alone answers.
const maxDiagram = 60

func (s *Server) whoHasView(ctx context.Context, tax *taxonomy.Tree, key string) (*whoHasView, error) {
	wh, err := s.svc.WhoHas(ctx, key)
	if err != nil {
		return nil, err
	}
	flows, err := s.svc.Store.ListFlows(ctx, store.FlowFilter{Category: key})
	if err != nil {
		return nil, err
	}
	source := make(map[string]string, len(flows))
	for _, f := range flows {
		source[f.ID] = f.Source
	}
	cat, _ := tax.Get(key)
	v := &whoHasView{WhoHas: wh, Description: cat.Description, Sensitivity: tax.Sensitivity(key)}
	for _, h := range wh.Holders {
		if h.Direct {
			v.Direct++
		} else {
			v.Indirect++
		}
		row := holderRow{Holder: h}
		for _, p := range h.Paths {
			i := slices.IndexFunc(row.Routes, func(r route) bool { return r.System == p.System && slices.Equal(r.Chain, p.Chain) })
			if i < 0 {
				row.Routes = append(row.Routes, route{System: p.System, Chain: p.Chain})
				i = len(row.Routes) - 1
			}
			r := &row.Routes[i]
			r.Flows = append(r.Flows, p.Flow)
			if !slices.Contains(row.Systems, p.System) {
				row.Systems = append(row.Systems, p.System)
			}
			if src := source[p.Flow]; src != "" {
				if !slices.Contains(r.Sources, src) {
					r.Sources = append(r.Sources, src)
				}
				if !slices.Contains(row.Sources, src) {
					row.Sources = append(row.Sources, src)
				}
			}
		}
		slices.Sort(row.Systems)
		row.Sources = sortSources(row.Sources)
		for i := range row.Routes {
			row.Routes[i].Sources = sortSources(row.Routes[i].Sources)
		}
		row.Shown = row.Routes
		if len(row.Routes) > maxRoutes+1 {
			row.Shown, row.More = row.Routes[:maxRoutes], row.Routes[maxRoutes:]
		}
		v.Rows = append(v.Rows, row)
	}
	if len(wh.Holders) > 0 {
		v.Diagram = newDiagram(wh)
		if v.Diagram.tallest > maxDiagram {
			v.Diagram = nil
			v.TooBig = fmt.Sprintf("Too many systems or vendors to draw (more than %d in a column): the table lists them.", maxDiagram)
		}
	}
	return v, nil
}

// sortSources puts flow sources in the order of inventory.Sources.
func sortSources(srcs []string) []string {
	slices.SortFunc(srcs, func(a, b string) int {
		return slices.Index(inventory.Sources, a) - slices.Index(inventory.Sources, b)
	})
	return srcs
}

// diagram is the who-has answer drawn as SVG: systems on the left, then
// the vendors that receive the data from them, then their
// subprocessors, one column per step.
type diagram struct {
	Width, Height int
	Title, Desc   string
	Columns       []diagramColumn
	Nodes         []diagramNode
	Edges         []diagramEdge
	tallest       int
}

type diagramColumn struct {
	X, Y  int
	Label string
}

type diagramNode struct {
	X, Y, W, H int
	// TX and TY place the label.
	TX, TY int
	// Label is the id, shortened to fit; Full the id and name.
	Label, Full string
	Class       string
}

// diagramEdge is one link; the table after the diagram lists the same.
type diagramEdge struct {
	From, To string
	// Kind is "sends to" (a system's flow) or "passes to" (a
	// subprocessor link).
	Kind string
	D    string // the SVG path
}

// Diagram geometry, in SVG user units.
const (
	dgColWidth  = 236
	dgBoxWidth  = 168
	dgBoxHeight = 22
	dgRow       = 28
	dgTop       = 34
	dgMargin    = 8
	dgMaxLabel  = 24
	dgMaxCols   = 4
)

func newDiagram(wh service.WhoHas) *diagram {
	// Column 0 holds the systems, column 1 the vendors they send to,
	// column 2 those vendors' subprocessors, column 3 any further ones.
	// A vendor that is reached at several steps (it receives the data
	// directly and as a subprocessor) has a box in each of their columns,
	// so every link points right.
	type box struct {
		col int
		id  string
	}
	type edge struct{ from, to box }
	boxes := map[box]bool{}
	var edges []edge
	seen := map[edge]bool{}
	link := func(from, to box) {
		boxes[from], boxes[to] = true, true
		if e := (edge{from, to}); !seen[e] {
			seen[e] = true
			edges = append(edges, e)
		}
	}
	names := map[string]string{}
	for _, h := range wh.Holders {
		names[h.Vendor] = h.Name
		for _, p := range h.Paths {
			prev := box{0, p.System}
			for i, v := range p.Chain {
				next := box{min(i+1, dgMaxCols-1), v}
				link(prev, next)
				prev = next
			}
		}
	}
	byCol := make([][]string, dgMaxCols)
	cols := 0
	for b := range boxes {
		byCol[b.col] = append(byCol[b.col], b.id)
		cols = max(cols, b.col+1)
	}
	cols = max(cols, 2)
	dg := &diagram{}
	labels := []string{"Systems", "Receive it directly", "Their subprocessors", "Further subprocessors"}
	type pos struct{ x, y int }
	at := map[box]pos{}
	for col := range cols {
		ids := byCol[col]
		slices.Sort(ids)
		x := dgMargin + col*dgColWidth
		dg.Columns = append(dg.Columns, diagramColumn{X: x, Y: dgTop - 14, Label: labels[col]})
		dg.tallest = max(dg.tallest, len(ids))
		for i, id := range ids {
			y := dgTop + i*dgRow
			at[box{col, id}] = pos{x, y}
			n := diagramNode{X: x, Y: y, W: dgBoxWidth, H: dgBoxHeight, TX: x + 7, TY: y + 15, Label: textutil.Shorten(id, dgMaxLabel)}
			switch col {
			case 0:
				n.Class, n.Full = "dg-system", "system "+id
			case 1:
				n.Class, n.Full = "dg-vendor", id+" ("+names[id]+"), directly"
			default:
				n.Class, n.Full = "dg-sub", id+" ("+names[id]+"), as a subprocessor"
			}
			dg.Nodes = append(dg.Nodes, n)
		}
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.from.col - b.from.col; c != 0 {
			return c
		}
		if c := strings.Compare(a.from.id, b.from.id); c != 0 {
			return c
		}
		return strings.Compare(a.to.id, b.to.id)
	})
	for _, e := range edges {
		a, b := at[e.from], at[e.to]
		kind := "passes to"
		if e.from.col == 0 {
			kind = "sends to"
		}
		sx, sy := a.x+dgBoxWidth, a.y+dgBoxHeight/2
		ty := b.y + dgBoxHeight/2
		var d string
		if b.x > a.x {
			tx := b.x - 3 // the arrowhead ends at the box
			mx := (sx + tx) / 2
			d = cubicPath(sx, sy, mx, mx, tx, ty)
		} else {
			// Past the last column: loop round the right-hand side.
			tx := b.x + dgBoxWidth + 3
			d = cubicPath(sx, sy, sx+28, tx+28, tx, ty)
		}
		dg.Edges = append(dg.Edges, diagramEdge{From: e.from.id, To: e.to.id, Kind: kind, D: d})
	}
	dg.Width = dgMargin*2 + (cols-1)*dgColWidth + dgBoxWidth + 32
	dg.Height = dgTop + max(dg.tallest, 1)*dgRow + dgMargin
	dg.Title = fmt.Sprintf("Diagram of who has %s: %s send it to %s directly", wh.Category, textutil.Plural(len(byCol[0]), "system"), textutil.Plural(len(byCol[1]), "vendor"))
	subs := map[string]bool{}
	for _, id := range slices.Concat(byCol[2], byCol[3]) {
		subs[id] = true
	}
	if len(subs) > 0 {
		dg.Title += fmt.Sprintf(", which pass it on to %s as subprocessors", textutil.Plural(len(subs), "vendor"))
	}
	dg.Title += "."
	dg.Desc = "A vendor that receives the data at several steps has a box at each. The table after the diagram lists the same links."
	return dg
}
