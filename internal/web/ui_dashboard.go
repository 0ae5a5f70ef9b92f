package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// The dashboard: the inventory, the flows of sensitive data, the open
// incidents with their clocks, what discovery and the gateway recorded
// lately, and what the gateway did to the data it passed on.

// dashboardIncidents is how many open incidents the dashboard lists, the
// most urgent first; the incident list has the rest.
const dashboardIncidents = 5

// sensitiveFrom is the lowest sensitivity the dashboard calls sensitive:
// 3 (sensitive) and 4 (special category / high harm), as the taxonomy
// grades them.
const sensitiveFrom = 3

type dashboardPage struct {
	page
	Vendors, Flows int64
	Categories     int
	ByCategory     stackChart
	// ByCategoryTable is the chart's numbers: a row per category, a
	// column per status.
	Statuses        []string
	ByCategoryTable []tallyRow
	Sensitive       []sensitiveRow
	CanIncidents    bool
	// OpenIncidents counts them all; Incidents are the most urgent few.
	OpenIncidents int
	Incidents     []dashIncident
	MoreIncidents int
	CanLedger     bool
	Recent        []inventory.Flow
	Sources       []store.SourceCount
	Gateway       stackChart
	Actions       []string
	GatewayTable  []tallyRow
	Now           time.Time
}

type tallyRow struct {
	Label, Href string
	Counts      []int64
	Total       int64
}

type sensitiveRow struct {
	Key, Name   string
	Sensitivity int
	Flows       int64
	Vendors     int64
}

type dashIncident struct {
	incident.Incident
	// Next is the nearest deadline still running or overdue, if any.
	Next *incident.Duty
	// Running and Overdue count the duties by status.
	Running, Overdue int
}

func (s *Server) uiDashboard(c *uiCall) {
	o, err := s.svc.Store.Overview(c.ctx)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	now := s.now()
	dp := dashboardPage{page: c.page("Dashboard", "dashboard"), Now: now, Statuses: inventory.VendorStatuses,
		Recent: o.Recent, Sources: o.Sources, Categories: len(o.Categories)}

	// Vendors by category (rows) and status (series).
	byCat := map[string][]int64{}
	var cats []string
	for _, vc := range o.Vendors {
		row, ok := byCat[vc.Category]
		if !ok {
			row = make([]int64, len(inventory.VendorStatuses))
			cats = append(cats, vc.Category)
		}
		if i := slices.Index(inventory.VendorStatuses, vc.Status); i >= 0 {
			row[i] += vc.N
		}
		byCat[vc.Category] = row
		dp.Vendors += vc.N
	}
	slices.Sort(cats)
	var values [][]int64
	var hrefs []string
	for _, cat := range cats {
		values = append(values, byCat[cat])
		href := "/vendors?" + url.Values{"category": {cat}}.Encode()
		hrefs = append(hrefs, href)
		dp.ByCategoryTable = append(dp.ByCategoryTable, tallyRow{Label: cat, Href: href, Counts: byCat[cat], Total: sum(byCat[cat])})
	}
	classes := make([]string, len(inventory.VendorStatuses))
	for i, st := range inventory.VendorStatuses {
		classes[i] = seriesClass(st)
	}
	dp.ByCategory = stackedBars("vendors-chart", "Vendors by category and lifecycle status",
		"A bar per vendor category, split by status; the table below has the same numbers.", cats, hrefs, inventory.VendorStatuses, classes, values)
	for _, sc := range o.Sources {
		dp.Flows += sc.N
	}

	// Flows of sensitive categories.
	tree := s.svc.Checker.Taxonomy
	if tree == nil {
		tree = taxonomy.Default()
	}
	for _, cc := range o.Categories {
		cat, ok := tree.Get(cc.Category)
		if !ok || cat.Sensitivity < sensitiveFrom {
			continue
		}
		dp.Sensitive = append(dp.Sensitive, sensitiveRow{Key: cc.Category, Name: cat.Name, Sensitivity: cat.Sensitivity, Flows: cc.Flows, Vendors: cc.Vendors})
	}
	slices.SortStableFunc(dp.Sensitive, func(a, b sensitiveRow) int { return cmp.Compare(b.Flows, a.Flows) })

	// Open incidents, the most urgent first: the nearest deadline.
	if dp.CanIncidents = c.p.Can(auth.IncidentsRead); dp.CanIncidents {
		open, err := s.svc.Store.ListIncidents(c.ctx, store.IncidentFilter{Open: true})
		if err != nil {
			s.uiFail(c, err)
			return
		}
		dp.OpenIncidents = len(open)
		clocks, err := s.openClocks(c.ctx, open)
		if err != nil {
			s.uiFail(c, err)
			return
		}
		for _, in := range open {
			di := dashIncident{Incident: in}
			if rep := clocks[in.ID]; rep != nil {
				for _, d := range rep.Duties {
					switch d.Status {
					case incident.DutyOpen:
						di.Running++
					case incident.DutyOverdue:
						di.Overdue++
					}
				}
				di.Next = rep.NextDuty()
			}
			dp.Incidents = append(dp.Incidents, di)
		}
		// Soonest deadline first (overdue ones are the soonest); incidents
		// without a running deadline last, newest first.
		slices.SortStableFunc(dp.Incidents, func(a, b dashIncident) int {
			switch {
			case a.Next != nil && b.Next != nil:
				return a.Next.Deadline.Compare(*b.Next.Deadline)
			case a.Next != nil:
				return -1
			case b.Next != nil:
				return 1
			}
			return b.CreatedAt.Compare(a.CreatedAt)
		})
		if len(dp.Incidents) > dashboardIncidents {
			dp.MoreIncidents = len(dp.Incidents) - dashboardIncidents
			dp.Incidents = dp.Incidents[:dashboardIncidents]
		}
	}

	// The gateway: fields by action, per vendor (what the ledger says).
	if dp.CanLedger = c.p.Can(auth.LedgerRead); !dp.CanLedger {
		o.Gateway = nil
	}
	byVendor := map[string]map[string]int64{}
	var vendors []string
	for _, a := range o.Gateway {
		if byVendor[a.Vendor] == nil {
			byVendor[a.Vendor] = map[string]int64{}
			vendors = append(vendors, a.Vendor)
		}
		byVendor[a.Vendor][a.Action] += a.Count
		if !slices.Contains(dp.Actions, a.Action) {
			dp.Actions = append(dp.Actions, a.Action)
		}
	}
	slices.Sort(dp.Actions)
	values, hrefs = nil, nil
	for _, v := range vendors {
		row := make([]int64, len(dp.Actions))
		for i, a := range dp.Actions {
			row[i] = byVendor[v][a]
		}
		values = append(values, row)
		href := "/vendors/" + url.PathEscape(v)
		hrefs = append(hrefs, href)
		dp.GatewayTable = append(dp.GatewayTable, tallyRow{Label: v, Href: href, Counts: row, Total: sum(row)})
	}
	classes = make([]string, len(dp.Actions))
	for i, a := range dp.Actions {
		classes[i] = seriesClass("act-" + a)
	}
	dp.Gateway = stackedBars("gateway-chart", "Fields the gateway handled, by vendor and action",
		"A bar per vendor, split by what the policy did to each field; the table below has the same numbers.", vendors, hrefs, dp.Actions, classes, values)
	s.render(c.w, c.r, http.StatusOK, "dashboard.html", dp)
}

func sum(xs []int64) int64 {
	var t int64
	for _, x := range xs {
		t += x
	}
	return t
}
