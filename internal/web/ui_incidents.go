package web

import (
	"archive/zip"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// The incident room: the list of incidents with a form to open one, and
// one incident's page with its legal clocks, blast radius, containment,
// notification pack and timeline, and the actions (update, contain,
// notify, close) as plain forms. Every action is a POST that redirects to
// the page (Post/Redirect/Get); bad input shows the form again with the
// problem next to its field, and changes nothing. The handlers parse forms
// and call internal/service; the logic lives there.

// incidentTimeLayout is how the pages show an instant.
const incidentTimeLayout = "2006-01-02 15:04 MST"

// maxIncidentForm bounds an incident form's body.
const maxIncidentForm = 64 << 10

// incTime is an instant as a page shows it: text, and RFC 3339 for
// <time datetime>.
type incTime struct{ Text, ISO string }

func incTimeOf(t time.Time) incTime {
	if t.IsZero() {
		return incTime{}
	}
	t = t.UTC()
	return incTime{Text: t.Format(incidentTimeLayout), ISO: t.Format(time.RFC3339)}
}

// incidentDone are the notes a page shows after an action redirected to
// it (?done=), keyed by action.
var incidentDone = map[string]string{
	"opened":    "Incident opened. Check the legal clocks and the blast radius, then contain.",
	"updated":   "Changes saved; they are on the timeline.",
	"unchanged": "Nothing changed.",
	"contained": "Contained: the kill switch is on. Work through the checklist below.",
	"notified":  "Notification pack prepared: download it below. The letters are drafts for your privacy team and counsel.",
	"closed":    "Incident closed. Blocked vendors stay blocked until someone unblocks them.",
}

// --- The list ---

type incidentRow struct {
	ID, Title, Vendor, VendorName, Status, Severity string
	Opened, Aware                                   incTime
	// NextRule, NextTitle, Next, Left and Overdue are the earliest open
	// deadline.
	NextRule, NextTitle string
	Next                incTime
	Left                string
	Overdue             bool
	Closed              bool
}

// incidentOpenForm is the form that opens an incident, as typed.
type incidentOpenForm struct {
	Vendor, Title, Severity, Aware, WindowFrom, WindowTo, Categories, Summary string
}

type incidentsPage struct {
	page
	CanWrite bool
	Show     string
	Shows    []option
	Rows     []incidentRow
	Total    int
	// From, To, Page, Pages, Prev and Next page the list.
	From, To, Page, Pages int
	Prev, Next            string
	Done                  string
	// Problem is about the list's query; FormProblem about the open form.
	Problem, FormProblem string
	// The open form: its values, its choices and its field problems.
	Form       incidentOpenForm
	Vendors    []option
	Severities []option
	Errors     map[string]string
}

// incidentShows are the list's filters: "" is every incident.
var incidentShows = func() []string {
	out := []string{"open"}
	for _, s := range incident.Statuses {
		out = append(out, string(s))
	}
	return out
}()

func (s *Server) uiIncidents(c *uiCall) {
	q := c.r.URL.Query()
	ip := incidentsPage{page: c.page("Incidents", "incidents"), Done: incidentDone[q.Get("done")], Page: 1,
		Form: incidentOpenForm{Severity: "high"}}
	if v := q.Get("show"); v != "" {
		if slices.Contains(incidentShows, v) {
			ip.Show = v
		} else {
			ip.Problem = "Ignored: unknown filter " + strconv.Quote(v) + "."
		}
	}
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 {
			ip.Page = n
		}
	}
	s.renderIncidents(c, http.StatusOK, ip)
}

// renderIncidents fills the list and the form's choices, and renders.
func (s *Server) renderIncidents(c *uiCall, status int, ip incidentsPage) {
	ip.CanWrite = c.p.Can(auth.IncidentsWrite)
	f := store.IncidentFilter{}
	switch ip.Show {
	case "":
	case "open":
		f.Open = true
	default:
		f.Status = ip.Show
	}
	total, err := s.svc.Store.CountIncidents(c.ctx, f)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	ip.Total = int(total)
	ip.Pages = max(1, (ip.Total+uiPageSize-1)/uiPageSize)
	ip.Page = min(ip.Page, ip.Pages)
	from := (ip.Page - 1) * uiPageSize
	f.Limit, f.Offset = uiPageSize, from
	list, err := s.svc.Store.ListIncidents(c.ctx, f)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	if len(list) > 0 {
		ip.From, ip.To = from+1, from+len(list)
	}
	href := func(page int) string {
		v := url.Values{}
		if ip.Show != "" {
			v.Set("show", ip.Show)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/incidents"
		}
		return "/incidents?" + v.Encode()
	}
	if ip.Page > 1 {
		ip.Prev = href(ip.Page - 1)
	}
	if ip.Page < ip.Pages {
		ip.Next = href(ip.Page + 1)
	}
	clocks, err := s.openClocks(c.ctx, list)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	// Name the page's vendors only; a visitor who may open an incident
	// needs every vendor for the form anyway, read once.
	var ids []string
	for _, in := range list {
		if !slices.Contains(ids, in.Vendor) {
			ids = append(ids, in.Vendor)
		}
	}
	var vendors []store.VendorName
	switch {
	case ip.CanWrite:
		vendors, err = s.svc.Store.VendorNames(c.ctx, store.VendorFilter{Sort: "name"})
	case len(ids) > 0:
		vendors, err = s.svc.Store.VendorNames(c.ctx, store.VendorFilter{IDs: ids})
	}
	if err != nil {
		s.uiFail(c, err)
		return
	}
	names := map[string]string{}
	for _, v := range vendors {
		names[v.ID] = cmp.Or(v.Name, v.ID)
	}
	now := s.now()
	for _, in := range list {
		row := incidentRow{ID: in.ID, Title: in.Title, Vendor: in.Vendor, VendorName: cmp.Or(names[in.Vendor], in.Vendor),
			Status: string(in.Status), Severity: in.Severity, Opened: incTimeOf(in.CreatedAt), Closed: in.Status == incident.StatusClosed}
		if t, ok := in.Times[incident.AnchorAware]; ok {
			row.Aware = incTimeOf(t)
		}
		if rep, ok := clocks[in.ID]; ok && rep.Summary.Next != nil {
			next := rep.Summary.Next
			row.NextRule, row.NextTitle, row.Next = next.Rule, next.Rule, incTimeOf(next.Deadline)
			if d := rep.NextDuty(); d != nil {
				row.NextTitle = d.Title
			}
			row.Left, row.Overdue = timeLeft(next.Deadline, now), next.Deadline.Before(now)
		}
		ip.Rows = append(ip.Rows, row)
	}
	ip.Shows = options(incidentShows, ip.Show, "every incident")
	ip.Shows[1].Label = "open (not closed)"
	if ip.CanWrite {
		ip.Vendors = []option{{Value: "", Label: "Choose a vendor", Selected: ip.Form.Vendor == ""}}
		for _, v := range vendors {
			label := v.ID
			if v.Name != "" && v.Name != v.ID {
				label = v.Name + " (" + v.ID + ")"
			}
			ip.Vendors = append(ip.Vendors, option{Value: v.ID, Label: label, Selected: v.ID == ip.Form.Vendor})
		}
		for _, sev := range incident.Severities {
			ip.Severities = append(ip.Severities, option{Value: sev, Label: sev, Selected: sev == ip.Form.Severity})
		}
	}
	s.render(c.w, c.r, status, "incidents.html", ip)
}

// readIncidentForm parses a form body of at most maxIncidentForm bytes; false
// means it could not (the error page is written).
func (s *Server) readIncidentForm(c *uiCall) bool {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxIncidentForm)
	if err := c.r.ParseForm(); err != nil {
		s.uiError(c.w, c.r, c.p, http.StatusBadRequest, "The form could not be read (it may be too long).")
		return false
	}
	return true
}

// parseIncidentTime reads a time from a form: a browser's datetime-local
// value (2025-11-25T18:00, taken as UTC), RFC 3339 with a zone, or a date
// (00:00 UTC that day).
func parseIncidentTime(label, v string) (t time.Time, dateOnly bool, err error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), false, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, false, nil
		}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("%s: %q is not a date and time: use 2025-11-25T18:00 (UTC), 2025-11-25T13:00:00-05:00 or 2025-11-25", label, v)
}

// splitCategories reads a comma- or space-separated list.
func splitCategories(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// incidentFieldErrors maps the service's field problems to form fields, and
// returns every problem as one text.
func incidentFieldErrors(err error, into map[string]string) string {
	var all []string
	for _, x := range flatten(err) {
		all = append(all, x.Error())
		var ie service.IncidentError
		if !errors.As(x, &ie) {
			continue
		}
		field := ie.Field
		if i := strings.IndexByte(field, '['); i > 0 {
			field = field[:i]
		}
		switch field {
		case "window":
			field = "window_to"
		case "notes":
			field = "summary"
		}
		msg := ie.Field + ": " + ie.Msg
		if prev, ok := into[field]; ok {
			msg = prev + "; " + msg
		}
		into[field] = msg
	}
	return strings.Join(all, "; ")
}

// uiOpenIncident opens an incident from the form, then shows its room.
func (s *Server) uiOpenIncident(c *uiCall) {
	if !s.readIncidentForm(c) {
		return
	}
	f := c.r.PostForm
	form := incidentOpenForm{Vendor: strings.TrimSpace(f.Get("vendor")), Title: strings.TrimSpace(f.Get("title")), Severity: f.Get("severity"),
		Aware: f.Get("aware"), WindowFrom: f.Get("window_from"), WindowTo: f.Get("window_to"), Categories: f.Get("categories"),
		Summary: f.Get("summary")}
	ip := incidentsPage{page: c.page("Incidents", "incidents"), Page: 1, Form: form, Errors: map[string]string{}}
	in := incident.Incident{Vendor: form.Vendor, Title: form.Title, Severity: form.Severity, Notes: strings.TrimSpace(form.Summary),
		Categories: splitCategories(form.Categories), Times: map[incident.Anchor]time.Time{}}
	if form.Aware != "" {
		t, _, err := parseIncidentTime("aware", form.Aware)
		if err != nil {
			ip.Errors["aware"] = err.Error()
		} else {
			in.Times[incident.AnchorAware] = t
		}
	}
	for name, dst := range map[string]*time.Time{"window_from": &in.WindowFrom, "window_to": &in.WindowTo} {
		v := f.Get(name)
		if v == "" {
			continue
		}
		t, dateOnly, err := parseIncidentTime(name, v)
		if err != nil {
			ip.Errors[name] = err.Error()
			continue
		}
		if dateOnly && name == "window_to" {
			t = t.Add(24*time.Hour - time.Microsecond) // the whole day
		}
		*dst = t
	}
	if len(ip.Errors) == 0 {
		out, err := s.svc.OpenIncident(c.ctx, in, c.p.Actor())
		if err == nil {
			http.Redirect(c.w, c.r, "/incidents/"+out.ID+"?done=opened", http.StatusSeeOther)
			return
		}
		if e, internal := toAPIError(err); internal || e.status != http.StatusBadRequest {
			s.uiFail(c, err)
			return
		}
		ip.FormProblem = "The incident was not opened: " + incidentFieldErrors(err, ip.Errors) + "."
	} else {
		ip.FormProblem = "The incident was not opened: correct the fields marked below."
	}
	s.renderIncidents(c, http.StatusBadRequest, ip)
}

// --- The room ---

type roomDuty struct {
	Rule, Title, Regime, Audience, Jurisdictions, Applies, Status string
	Rationale, Citation, Note, DeadlineText                       string
	Deadline                                                      incTime
	// Left is the time left, "… overdue", or "missed by …"; Countdown
	// asks app.js to keep it live.
	Left      string
	Overdue   bool
	Countdown bool
	Affected  int64
	// Thresholds are further notices owed by head count.
	Thresholds []string
}

type roomEvent struct {
	At                   incTime
	Actor, Kind, Message string
}

type roomAnchor struct {
	Label string
	At    incTime
}

// newRoomChart is a one-series bar chart of people by label, described
// for screen readers with every value (the table beside it has them too).
func newRoomChart(id, title, unit string, labels []string, values []int64) stackChart {
	rows := make([][]int64, len(values))
	var desc []string
	for i, l := range labels {
		rows[i] = []int64{values[i]}
		u := unit
		if values[i] == 1 {
			u = strings.TrimSuffix(unit, "people") + "person"
		}
		desc = append(desc, fmt.Sprintf("%s: %d %s", l, values[i], u))
	}
	return stackedBars(id, title, "Bar chart. "+strings.Join(desc, "; ")+".", labels, nil, []string{unit}, []string{"s-people"}, rows)
}

type roomCount struct {
	Label string
	Count int64
}

// roomVendorChoice is a vendor contain may block.
type roomVendorChoice struct {
	ID, Label string
	Checked   bool
}

// roomUpdateForm is the update form's values: Orig* are the values the page
// showed, so that only what the user changed is applied (another change
// made meanwhile, such as contain moving the status, is kept).
type roomUpdateForm struct {
	Status, Severity, Owner, HighRisk, Material, Notes, Note string
	Times                                                    map[incident.Anchor]string
}

type roomTimeField struct {
	Anchor, Name, Label, Value, Orig, Error string
}

type roomPage struct {
	page
	R          *service.Room
	In         *incident.Incident
	VendorName string
	CanWrite   bool
	Closed     bool
	Done       string
	// Problem is an action's failure, incTime at the form named ProblemAt
	// (update, contain, notify, close); Errors are the update form's
	// field problems.
	Problem, ProblemAt string
	Errors             map[string]string

	Opened, Updated incTime
	Times           []roomAnchor
	HighRisk        string
	Material        string
	Window          string

	Headline   string
	Next       *roomDuty
	Duties     []roomDuty
	NotApplies []roomDuty
	Summary    []string
	Disclaimer string
	Now        incTime

	Blast          *incident.BlastRadius
	People         int64
	Estimated      bool
	ByCategory     []roomCount
	ByJurisdiction []roomCount
	CategoryChart  stackChart
	PlaceChart     stackChart

	Contained   bool
	BlockChoice []roomVendorChoice
	BlockHint   string
	Blocks      []store.Block

	NotifyProblem string
	PackFiles     []incident.PackFile

	Timeline []roomEvent

	Form       roomUpdateForm
	Orig       roomUpdateForm
	Statuses   []option
	Severities []option
	Decisions  []roomDecision
	TimeFields []roomTimeField
}

type roomDecision struct {
	Name, Label, Help, Orig, Error string
	Options                        []option
}

// roomState is what an action's failure carries into the page.
type roomState struct {
	problem, at string
	errors      map[string]string
	form        *roomUpdateForm
}

var roomAnchorLabels = map[incident.Anchor]string{
	incident.AnchorStart:            "Breach began",
	incident.AnchorVendorDiscovered: "Vendor discovered it",
	incident.AnchorVendorNotified:   "Vendor told us",
	incident.AnchorDatasetReceived:  "Affected dataset received",
	incident.AnchorAware:            "We became aware",
	incident.AnchorDiscovered:       "We discovered it",
	incident.AnchorDetermined:       "We determined a breach occurred",
	incident.AnchorMaterial:         "Materiality determined",
	incident.AnchorContained:        "Contained",
	incident.AnchorClosed:           "Closed",
}

// roomAnchors are the anchors the update form sets; contain and close
// set the others.
var roomAnchors = []incident.Anchor{incident.AnchorStart, incident.AnchorVendorDiscovered, incident.AnchorVendorNotified,
	incident.AnchorDatasetReceived, incident.AnchorAware, incident.AnchorDiscovered, incident.AnchorDetermined, incident.AnchorMaterial}

func decisionValue(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

func decisionLabel(b *bool) string {
	if b == nil {
		return "not assessed"
	}
	return decisionValue(b)
}

// roomFormTime is an instant as a datetime-local input holds it (UTC).
func roomFormTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

func (s *Server) uiIncident(c *uiCall) {
	s.renderRoom(c, http.StatusOK, c.r.PathValue("id"), roomState{})
}

// renderRoom reads the incident and renders its room.
func (s *Server) renderRoom(c *uiCall, status int, ref string, st roomState) {
	r, err := s.svc.Room(c.ctx, ref, s.opts.Rules, s.opts.Profile)
	if errors.Is(err, store.ErrNotFound) {
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "There is no such incident.")
		return
	}
	if err != nil {
		s.uiFail(c, err)
		return
	}
	in := &r.Incident
	now := s.now()
	rp := roomPage{page: c.page(in.Title, "incidents"), R: r, In: in, VendorName: in.Vendor,
		CanWrite: c.p.Can(auth.IncidentsWrite), Closed: in.Status == incident.StatusClosed,
		Done: incidentDone[c.r.URL.Query().Get("done")], Problem: st.problem, ProblemAt: st.at, Errors: st.errors,
		Opened: incTimeOf(in.CreatedAt), Updated: incTimeOf(in.UpdatedAt), HighRisk: decisionLabel(in.HighRisk), Material: decisionLabel(in.Material),
		Now: incTimeOf(now)}
	if rp.Title == "" {
		rp.Title = "Incident " + in.ID
	}
	if v, err := s.svc.Store.GetVendor(c.ctx, in.Vendor); err == nil && v.Name != "" {
		rp.VendorName = v.Name
	}
	for _, a := range incident.Anchors {
		if t, ok := in.Times[a]; ok && !t.IsZero() {
			rp.Times = append(rp.Times, roomAnchor{Label: roomAnchorLabels[a], At: incTimeOf(t)})
		}
	}
	if !in.WindowFrom.IsZero() || !in.WindowTo.IsZero() {
		from, to := "open", "open"
		if !in.WindowFrom.IsZero() {
			from = incTimeOf(in.WindowFrom).Text
		}
		if !in.WindowTo.IsZero() {
			to = incTimeOf(in.WindowTo).Text
		}
		rp.Window = from + " to " + to
	}

	// Clocks.
	rep := r.Clocks
	rp.Headline, rp.Disclaimer = rep.Summary.Headline, rep.Summary.Disclaimer
	rp.Summary = slices.DeleteFunc(slices.Clone(rep.Summary.Lines), func(l string) bool {
		return l == rep.Summary.Disclaimer || l == rep.Summary.Headline
	})
	for _, d := range rep.Duties {
		row := roomDuty{Rule: d.Rule, Title: d.Title, Regime: d.Regime, Audience: d.Audience, Jurisdictions: strings.Join(d.Jurisdictions, ", "),
			Applies: string(d.Applies), Status: string(d.Status), Rationale: d.Rationale, Citation: d.Citation, Note: d.Note,
			DeadlineText: d.DeadlineText, Affected: d.Subjects}
		if d.Deadline != nil {
			row.Deadline = incTimeOf(*d.Deadline)
		}
		switch {
		case d.LateBy != nil:
			row.Left = "missed by " + incident.FormatSpan(*d.LateBy)
		case d.Deadline != nil && (d.Status == incident.DutyOpen || d.Status == incident.DutyOverdue):
			row.Left, row.Overdue = timeLeft(*d.Deadline, now), d.Deadline.Before(now)
			row.Countdown = true
		}
		for _, th := range d.Thresholds {
			row.Thresholds = append(row.Thresholds, th.Text)
		}
		if d.Applies == incident.AppliesNo {
			rp.NotApplies = append(rp.NotApplies, row)
			continue
		}
		if next := rep.Summary.Next; next != nil && next.Rule == d.Rule && rp.Next == nil {
			n := row
			rp.Next = &n
		}
		rp.Duties = append(rp.Duties, row)
	}

	// Blast radius.
	b := rep.Blast
	rp.Blast = b
	rp.People = rep.Exposure.Subjects
	rp.Estimated = b.Rows == 0 && b.Estimated > 0
	var labels []string
	var values []int64
	for _, cc := range b.ByCategory {
		rp.ByCategory = append(rp.ByCategory, roomCount{cc.Category, cc.Subjects})
		labels, values = append(labels, cc.Category), append(values, cc.Subjects)
	}
	rp.CategoryChart = newRoomChart("chart-category", "People affected by data category", "people", labels, values)
	labels, values = nil, nil
	for _, j := range slices.Sorted(maps.Keys(b.ByJurisdiction)) {
		rp.ByJurisdiction = append(rp.ByJurisdiction, roomCount{j, b.ByJurisdiction[j]})
		labels, values = append(labels, j), append(values, b.ByJurisdiction[j])
	}
	rp.PlaceChart = newRoomChart("chart-jurisdiction", "People affected by where they live", "people", labels, values)

	// Containment.
	_, rp.Contained = in.Times[incident.AnchorContained]
	for _, v := range r.Checklist.Blocked {
		rp.Blocks = append(rp.Blocks, r.Blocks[v])
	}
	direct := false
	for _, av := range b.Affected {
		label := cmp.Or(av.Name, av.Vendor)
		if len(av.Via) > 0 {
			label += " (uses it through " + strings.Join(av.Via, " → ") + ")"
		}
		rp.BlockChoice = append(rp.BlockChoice, roomVendorChoice{ID: av.Vendor, Label: label, Checked: av.Vendor == in.Vendor})
		direct = direct || av.Vendor == in.Vendor
	}
	switch {
	case len(b.Affected) == 0:
		rp.BlockHint = "No vendor receives data from us through " + in.Vendor + " (no flow, no ledger row): there is nothing to block."
	case !direct:
		rp.BlockHint = in.Vendor + " receives nothing from us directly: choose which of the vendors that use it to block."
	}

	// Notification.
	if s.opts.Profile.Name == "" {
		rp.NotifyProblem = "This server has no organization profile (serve --org FILE), so the letters cannot be signed: Notify will refuse."
	}
	rp.PackFiles = incident.PackFiles

	for _, e := range r.Timeline {
		rp.Timeline = append(rp.Timeline, roomEvent{At: incTimeOf(e.At), Actor: e.Actor, Kind: e.Kind, Message: e.Message})
	}

	// The update form.
	rp.Orig = roomUpdateForm{Status: string(in.Status), Severity: in.Severity, Owner: in.Owner, HighRisk: decisionValue(in.HighRisk),
		Material: decisionValue(in.Material), Notes: normalizeText(in.Notes), Times: map[incident.Anchor]string{}}
	for _, a := range roomAnchors {
		rp.Orig.Times[a] = roomFormTime(in.Times[a])
	}
	rp.Form = rp.Orig
	if st.form != nil {
		rp.Form = *st.form
	}
	for _, v := range incident.Statuses {
		rp.Statuses = append(rp.Statuses, option{Value: string(v), Label: string(v), Selected: string(v) == rp.Form.Status})
	}
	for _, v := range incident.Severities {
		rp.Severities = append(rp.Severities, option{Value: v, Label: v, Selected: v == rp.Form.Severity})
	}
	yesNo := func(sel string) []option {
		return []option{{Value: "", Label: "not assessed", Selected: sel == ""}, {Value: "yes", Label: "yes", Selected: sel == "yes"},
			{Value: "no", Label: "no", Selected: sel == "no"}}
	}
	rp.Decisions = []roomDecision{
		{Name: "high_risk", Label: "High risk to people?", Help: "GDPR Art. 34: notice to the people affected depends on it.",
			Orig: rp.Orig.HighRisk, Options: yesNo(rp.Form.HighRisk), Error: st.errors["high_risk"]},
		{Name: "material", Label: "Material to investors?", Help: "SEC Form 8-K Item 1.05 depends on it.",
			Orig: rp.Orig.Material, Options: yesNo(rp.Form.Material), Error: st.errors["material"]},
	}
	for _, a := range roomAnchors {
		name := "time_" + string(a)
		rp.TimeFields = append(rp.TimeFields, roomTimeField{Anchor: string(a), Name: name, Label: roomAnchorLabels[a],
			Value: rp.Form.Times[a], Orig: rp.Orig.Times[a], Error: st.errors[name]})
	}
	s.render(c.w, c.r, status, "incident.html", rp)
}

// incidentActionFailed shows the room again with an action's failure at its
// form: the service's status for a problem with the request, the error
// page for the rest.
func (s *Server) incidentActionFailed(c *uiCall, ref, at string, err error, form *roomUpdateForm) {
	e, internal := toAPIError(err)
	status := e.status
	switch {
	case internal:
		s.uiFail(c, err)
		return
	case status == http.StatusNotFound && at != "contain":
		// The incident went away meanwhile.
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "There is no such incident.")
		return
	case status == http.StatusNotFound:
		status = http.StatusBadRequest // a vendor to block that is not in the inventory
	}
	st := roomState{at: at, errors: map[string]string{}, form: form}
	st.problem = "Not done: " + incidentFieldErrors(err, st.errors) + "."
	s.renderRoom(c, status, ref, st)
}

// postedIncident reads an action's form and resolves the incident it
// names; false means the error page is written.
func (s *Server) postedIncident(c *uiCall) (incident.Incident, bool) {
	if !s.readIncidentForm(c) {
		return incident.Incident{}, false
	}
	return s.findIncidentForAction(c)
}

// findIncidentForAction resolves the incident the path names; false means
// the error page is written.
func (s *Server) findIncidentForAction(c *uiCall) (incident.Incident, bool) {
	in, err := s.svc.FindIncident(c.ctx, c.r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.uiError(c.w, c.r, c.p, http.StatusNotFound, "There is no such incident.")
		return in, false
	}
	if err != nil {
		s.uiFail(c, err)
		return in, false
	}
	return in, true
}

func roomURL(id, done, fragment string) string {
	return "/incidents/" + id + "?done=" + done + "#" + fragment
}

// uiUpdateIncident applies the fields the user changed, and a note.
func (s *Server) uiUpdateIncident(c *uiCall) {
	in, ok := s.postedIncident(c)
	if !ok {
		return
	}
	f := c.r.PostForm
	form := roomUpdateForm{Status: f.Get("status"), Severity: f.Get("severity"), Owner: strings.TrimSpace(f.Get("owner")),
		HighRisk: f.Get("high_risk"), Material: f.Get("material"), Notes: normalizeText(f.Get("notes")), Note: strings.TrimSpace(f.Get("note")),
		Times: map[incident.Anchor]string{}}
	// changed: the user changed the field from what the page showed.
	changed := func(name, v string) bool {
		if name == "notes" {
			return f.Has(name) && v != normalizeText(f.Get("orig_notes"))
		}
		return f.Has(name) && v != strings.TrimSpace(f.Get("orig_"+name))
	}
	errs := map[string]string{}
	times := map[incident.Anchor]*time.Time{}
	for _, a := range roomAnchors {
		name := "time_" + string(a)
		v := strings.TrimSpace(f.Get(name))
		form.Times[a] = v
		if !changed(name, v) {
			continue
		}
		if v == "" {
			times[a] = nil
			continue
		}
		t, _, err := parseIncidentTime(roomAnchorLabels[a], v)
		if err != nil {
			errs[name] = err.Error()
			continue
		}
		times[a] = &t
	}
	var decisions [2]*bool
	for i, name := range []string{"high_risk", "material"} {
		switch v := f.Get(name); v {
		case "":
		case "yes", "no":
			b := v == "yes"
			decisions[i] = &b
		default:
			errs[name] = fmt.Sprintf("%s: %q: use yes, no or not assessed", name, v)
		}
	}
	if len(errs) > 0 {
		s.renderRoom(c, http.StatusBadRequest, in.ID, roomState{problem: "Not saved: correct the fields marked below.", at: "update", errors: errs, form: &form})
		return
	}
	actor := c.p.Actor()
	var extra []incident.Event
	if form.Note != "" {
		extra = append(extra, s.svc.NoteEvent(actor, form.Note))
	}
	kind := "updated"
	if changed("status", form.Status) && form.Status == string(incident.StatusClosed) {
		kind = "closed"
	}
	out, err := s.svc.ChangeIncident(c.ctx, in.ID, actor, kind, "", func(x *incident.Incident) error {
		if changed("status", form.Status) {
			x.Status = incident.Status(form.Status)
		}
		if changed("severity", form.Severity) {
			x.Severity = form.Severity
		}
		if changed("owner", form.Owner) {
			x.Owner = form.Owner
		}
		if changed("notes", form.Notes) {
			x.Notes = form.Notes
		}
		if changed("high_risk", form.HighRisk) {
			x.HighRisk = decisions[0]
		}
		if changed("material", form.Material) {
			x.Material = decisions[1]
		}
		for a, t := range times {
			if t == nil {
				delete(x.Times, a)
			} else {
				x.Times[a] = *t
			}
		}
		return nil
	}, extra...)
	if err != nil {
		s.incidentActionFailed(c, in.ID, "update", err, &form)
		return
	}
	done := "updated"
	if out.Revision == in.Revision && len(extra) == 0 {
		done = "unchanged"
	}
	http.Redirect(c.w, c.r, roomURL(in.ID, done, "update"), http.StatusSeeOther)
}

// normalizeText is a text area's value as stored: browsers send line
// breaks as CRLF; surrounding space goes.
func normalizeText(v string) string {
	return strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n"))
}

// uiContain turns the kill switch on for the vendors chosen (or the
// breached vendor) and shows the room with the checklist.
func (s *Server) uiContain(c *uiCall) {
	in, ok := s.postedIncident(c)
	if !ok {
		return
	}
	f := c.r.PostForm
	reason := strings.TrimSpace(f.Get("reason"))
	if _, err := s.svc.Contain(c.ctx, in.ID, c.p.Actor(), reason, f["block"]); err != nil {
		s.incidentActionFailed(c, in.ID, "contain", err, nil)
		return
	}
	http.Redirect(c.w, c.r, roomURL(in.ID, "contained", "containment"), http.StatusSeeOther)
}

// uiNotify prepares the notification pack and records it; the room then
// offers it for download.
func (s *Server) uiNotify(c *uiCall) {
	in, ok := s.postedIncident(c)
	if !ok {
		return
	}
	o := service.NotifyOptions{Profile: s.opts.Profile, Rules: s.opts.Rules, Actor: c.p.Actor()}
	if err := s.svc.PrepareNotify(c.ctx, in.ID, o); err != nil {
		s.incidentActionFailed(c, in.ID, "notify", err, nil)
		return
	}
	http.Redirect(c.w, c.r, roomURL(in.ID, "notified", "notification"), http.StatusSeeOther)
}

// uiCloseIncident closes an incident, with an optional note for the
// timeline.
func (s *Server) uiCloseIncident(c *uiCall) {
	in, ok := s.postedIncident(c)
	if !ok {
		return
	}
	note := strings.TrimSpace(c.r.PostForm.Get("note"))
	now := s.now().UTC()
	_, err := s.svc.ChangeIncident(c.ctx, in.ID, c.p.Actor(), "closed", note, func(x *incident.Incident) error {
		x.Status = incident.StatusClosed
		if _, ok := x.Times[incident.AnchorClosed]; !ok {
			x.Times[incident.AnchorClosed] = now
		}
		return nil
	})
	if err != nil {
		s.incidentActionFailed(c, in.ID, "close", err, nil)
		return
	}
	http.Redirect(c.w, c.r, roomURL(in.ID, "closed", "timeline"), http.StatusSeeOther)
}

// uiPackZip serves the notification pack as a zip file, once Notify has
// recorded it on the timeline. The pack is assembled again (it is dated
// from the incident, so the same facts give the same letters), written to
// a temporary directory, and streamed.
func (s *Server) uiPackZip(c *uiCall) {
	in, ok := s.findIncidentForAction(c)
	if !ok {
		return
	}
	tl, err := s.svc.Store.Timeline(c.ctx, in.ID)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	if !slices.ContainsFunc(tl, func(e incident.Event) bool { return e.Kind == "notified" }) {
		s.uiError(c.w, c.r, c.p, http.StatusConflict, "No notification pack has been prepared for this incident yet: use Notify on its page first.")
		return
	}
	if s.opts.Profile.Name == "" {
		s.uiError(c.w, c.r, c.p, http.StatusConflict, "This server has no organization profile (serve --org FILE), so the letters cannot be signed.")
		return
	}
	pack, _, err := s.svc.PackFor(c.ctx, &in, service.NotifyOptions{Profile: s.opts.Profile, Rules: s.opts.Rules})
	if err != nil {
		s.uiFail(c, err)
		return
	}
	dir, err := os.MkdirTemp("", "weaklink-pack-")
	if err != nil {
		s.uiFail(c, err)
		return
	}
	defer os.RemoveAll(dir)
	files, err := incident.WritePack(c.ctx, dir, pack)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	short := in.ID
	if len(short) > 8 {
		short = short[:8]
	}
	name := "incident-" + short + "-pack"
	h := c.w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="`+name+`.zip"`)
	h.Set("Cache-Control", "no-store")
	zw := zip.NewWriter(c.w)
	for _, p := range files {
		if err := addZipFile(zw, p, name+"/"+filepath.Base(p), pack.GeneratedAt); err != nil {
			s.log.Error("ui: pack zip", "err", err.Error())
			return // the client sees a truncated archive
		}
	}
	if err := zw.Close(); err != nil {
		s.log.Error("ui: pack zip", "err", err.Error())
	}
}

func addZipFile(zw *zip.Writer, path, name string, mod time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod.UTC()})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
