package web

import (
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"strings"
	"time"
)

// Charts and diagrams are inline SVG drawn by the templates from the
// geometry computed here: no script, no style attributes (the CSP forbids
// them), colours from classes in the style sheet. Every chart has role="img"
// with a title and a description, and the page shows the same numbers in a
// table for screen readers and for copying.

// stackChart is a horizontal stacked bar chart: one row per label, one
// segment per series.
type stackChart struct {
	// ID is the SVG element's id (and its title's and description's prefix).
	ID          string
	Title, Desc string
	// Width and Height are the viewBox; the chart scales to its container.
	Width, Height int
	Rows          []stackRow
	// Legend names the series in order, with their classes.
	Legend []legendItem
}

type stackRow struct {
	// Label is written above the bar, shortened to labelRunes; Full is
	// the whole label, for the tooltip.
	Label, Full string
	Href        string
	Y           int // top of the bar
	TextY       int // baseline of the label
	Total       int64
	// TotalX is where the total is written, after the bar.
	TotalX float64
	Segs   []stackSeg
}

type stackSeg struct {
	X, W  float64
	Class string
	// Title is the segment's tooltip: "analytics, active: 3".
	Title string
}

type legendItem struct{ Label, Class string }

// Bars are laid out with the label above each bar, so that a phone, which
// shrinks the chart to its width, keeps the whole width for the bars and
// the labels stay legible.
const (
	chartBarW = 520 // the longest bar
	chartW    = chartBarW + 60
	chartRowH = 36 // label line and bar
	chartBarH = 14
	// barLabelRunes is as much of a label as fits above a bar.
	barLabelRunes = 60
)

// stackedBars lays out rows of counts by series. values[i][j] is row i's
// count in series j; classes[j] is series j's CSS class.
func stackedBars(id, title, desc string, labels, hrefs []string, series, classes []string, values [][]int64) stackChart {
	c := stackChart{ID: id, Title: title, Desc: desc, Width: chartW}
	var longest int64
	for _, row := range values {
		var t int64
		for _, v := range row {
			t += v
		}
		longest = max(longest, t)
	}
	scale := 0.0
	if longest > 0 {
		scale = float64(chartBarW) / float64(longest)
	}
	for i, label := range labels {
		r := stackRow{Label: textutil.Shorten(label, barLabelRunes), Full: label, TextY: i*chartRowH + 13, Y: i*chartRowH + 17}
		if hrefs != nil {
			r.Href = hrefs[i]
		}
		x := 0.0
		for j, v := range values[i] {
			r.Total += v
			if v == 0 {
				continue
			}
			w := float64(v) * scale
			r.Segs = append(r.Segs, stackSeg{X: x, W: max(w, 1), Class: classes[j], Title: fmt.Sprintf("%s, %s: %d", label, series[j], v)})
			x += w
		}
		r.TotalX = x + 6
		c.Rows = append(c.Rows, r)
	}
	c.Height = len(labels)*chartRowH + 4
	for j, s := range series {
		c.Legend = append(c.Legend, legendItem{Label: s, Class: classes[j]})
	}
	return c
}

// seriesClass is a CSS class for a series name: "s-" and the name with
// anything but letters, digits and dashes dropped.
func seriesClass(name string) string {
	var b strings.Builder
	b.WriteString("s-")
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r == '_' || r == ' ' || r == '.':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// timeLeft says how long until t from now, in the largest two units:
// "2d 5h left", "3h 10m left", "4m left", or "1d 2h overdue".
func timeLeft(t, now time.Time) string {
	d := t.Sub(now)
	suffix := " left"
	if d < 0 {
		d, suffix = -d, " overdue"
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d/time.Hour)%24, int(d/time.Minute)%60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh%s", days, hours, suffix)
	case hours > 0:
		return fmt.Sprintf("%dh %dm%s", hours, mins, suffix)
	default:
		return fmt.Sprintf("%dm%s", mins, suffix)
	}
}

// flowDiagram is a vendor's data-flow diagram: the systems that send it
// data on the left, the vendor in the middle, its subprocessors on the
// right, an arrow per flow or link.
type flowDiagram struct {
	Width, Height int
	Title, Desc   string
	Nodes         []flowNode
	Edges         []flowEdge
}

type flowNode struct {
	X, Y, W, H int
	// TextX and TextY place the label (centred).
	TextX, TextY int
	Label        string
	// Full is the untruncated label, for the tooltip.
	Full  string
	Kind  string // system, vendor, subprocessor
	Href  string
	Class string
}

type flowEdge struct {
	// Path is an SVG path (a cubic curve) from one node to the next.
	Path  string
	Title string
	// LabelX and LabelY place the edge's label (a count of categories).
	LabelX, LabelY int
	Label          string
	Class          string
}

const (
	nodeW, nodeH = 190, 34
	nodeGap      = 14
	colGap       = 90
	diagramPad   = 8
	labelRunes   = 24
)

// flowSide is one system or subprocessor beside the vendor.
type flowSide struct {
	Label string
	// Categories are what the edge carries (systems), none for a
	// subprocessor link.
	Categories []string
	Href       string
}

// vendorDiagram lays out systems → vendor → subprocessors in three
// columns, each centred vertically.
func vendorDiagram(vendorName string, systems, subs []flowSide) flowDiagram {
	rows := max(len(systems), len(subs), 1)
	d := flowDiagram{Width: 3*nodeW + 2*colGap + 2*diagramPad, Height: rows*(nodeH+nodeGap) - nodeGap + 2*diagramPad}
	d.Title = "Data flows of " + vendorName
	d.Desc = fmt.Sprintf("%s send data to %s; %s passes it to %s. The tables below list the same flows.",
		textutil.Plural(len(systems), "system"), vendorName, vendorName, textutil.Plural(len(subs), "subprocessor"))
	col := func(i int) int { return diagramPad + i*(nodeW+colGap) }
	top := func(n, i int) int {
		h := n*(nodeH+nodeGap) - nodeGap
		return (d.Height-h)/2 + i*(nodeH+nodeGap)
	}
	node := func(x, y int, label, kind, href string) flowNode {
		return flowNode{X: x, Y: y, W: nodeW, H: nodeH, TextX: x + nodeW/2, TextY: y + nodeH/2 + 5,
			Label: textutil.Shorten(label, labelRunes), Full: label, Kind: kind, Href: href, Class: "node-" + kind}
	}
	center := node(col(1), top(1, 0), vendorName, "vendor", "")
	d.Nodes = append(d.Nodes, center)
	curve := func(x1, y1, x2, y2 int) string {
		mid := (x1 + x2) / 2
		return cubicPath(x1, y1, mid, mid, x2, y2)
	}
	cy := center.Y + nodeH/2
	for i, s := range systems {
		n := node(col(0), top(len(systems), i), s.Label, "system", s.Href)
		d.Nodes = append(d.Nodes, n)
		y := n.Y + nodeH/2
		label := fmt.Sprintf("%d", len(s.Categories))
		d.Edges = append(d.Edges, flowEdge{Path: curve(n.X+nodeW, y, center.X-2, cy), Class: "edge-flow",
			Title: fmt.Sprintf("%s → %s: %s", s.Label, vendorName, strings.Join(s.Categories, ", ")),
			Label: label, LabelX: n.X + nodeW + 10, LabelY: y - 4})
	}
	for i, s := range subs {
		n := node(col(2), top(len(subs), i), s.Label, "subprocessor", s.Href)
		d.Nodes = append(d.Nodes, n)
		d.Edges = append(d.Edges, flowEdge{Path: curve(center.X+nodeW, cy, n.X-2, n.Y+nodeH/2), Class: "edge-sub",
			Title: fmt.Sprintf("%s passes data to its subprocessor %s", vendorName, s.Label)})
	}
	return d
}

// cubicPath is an SVG path from (x1, y1) to (x2, y2) along a cubic curve
// that leaves horizontally towards x = c1 and arrives horizontally from
// x = c2: the arrows of the vendor and who-has diagrams.
func cubicPath(x1, y1, c1, c2, x2, y2 int) string {
	return fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, c1, y1, c2, y2, x2, y2)
}
