package web_test

import (
	"archive/zip"
	"github.com/weaklink/weaklink/internal/auth"
	"html"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// sameOrigin is what a browser sends with a form posted from this site's
// own page.
var sameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin"}

// mixpanelStated are the categories Mixpanel's November 2025 notice named.
var mixpanelStated = []string{"user.name", "user.contact.email", "user.unique_id", "user.contact.organization",
	"user.location.imprecise", "user.device.user_agent", "user.behavior.referrer"}

// newIncidentEnv is newEnv on acme with acme's organization profile (the
// clocks read it, the letters are signed with it) and the clock at
// 2025-11-26 12:00 UTC: the day after Mixpanel told its customers.
func newIncidentEnv(t *testing.T, db string, profile bool) *env {
	t.Helper()
	e := newEnv(t, db, true)
	e.advance(17 * 24 * time.Hour) // 2025-11-09 12:00 → 2025-11-26 12:00
	if !profile {
		return e
	}
	p, err := incident.LoadProfile(acme + "/organization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = web.New(web.Options{Service: e.svc, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: e.clock.Now,
		Version: "test", Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv)
	t.Cleanup(e.ts.Close)
	return e
}

// mixpanelLedger records what acme's gateway forwarded to Mixpanel (the
// policy keeps names and emails from it) for five people in the affected
// window and one after it, and where they live.
func mixpanelLedger(t *testing.T, e *env) {
	t.Helper()
	actx := audit.WithActor(ctx, "test")
	var entries []store.LedgerEntry
	var res []store.Residence
	people := map[string]string{"user_de1": "DE", "user_fr1": "FR", "user_gb1": "GB", "user_ca1": "US-CA", "user_tx1": "US-TX", "user_late": "DE"}
	for subject, where := range people {
		at := time.Date(2025, 11, 5, 10, 0, 0, 0, time.UTC)
		if subject == "user_late" {
			at = time.Date(2025, 11, 20, 10, 0, 0, 0, time.UTC)
		}
		for _, cat := range []string{"user.unique_id", "user.location.imprecise", "user.device.user_agent", "user.behavior.referrer"} {
			entries = append(entries, store.LedgerEntry{Vendor: "mixpanel", Subject: subject, Category: cat, FirstSeen: at, LastSeen: at, Messages: 2})
		}
		res = append(res, store.Residence{Subject: subject, ExternalID: subject, Jurisdiction: where})
	}
	if err := e.store.RecordLedger(actx, entries, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.store.PutResidence(actx, res); err != nil {
		t.Fatal(err)
	}
}

// post sends a same-origin form and wants a redirect (303) to a path
// starting with want; it returns the Location.
func (e *env) postForm(path, cookie string, form url.Values, want string) string {
	e.t.Helper()
	res := e.page(pageReq{method: "POST", path: path, form: form, cookie: cookie, header: sameOrigin})
	if res.status != 303 || !strings.HasPrefix(res.header.Get("Location"), want) {
		e.t.Fatalf("POST %s: %d to %q, want 303 to %s…\n%.2000s", path, res.status, res.header.Get("Location"), want, res.body)
	}
	return res.header.Get("Location")
}

// onlyIncident is the one incident in the store.
func (e *env) onlyIncident() incident.Incident {
	e.t.Helper()
	list, err := e.store.ListIncidents(ctx, store.IncidentFilter{})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("incidents: %d (%v)", len(list), err)
	}
	return list[0]
}

var (
	headingRe = regexp.MustCompile(`<h([1-6])[\s>]`)
	controlRe = regexp.MustCompile(`<(input|select|textarea)\b([^>]*)>`)
	idRe      = regexp.MustCompile(`\bid="([^"]+)"`)
	urlRe     = regexp.MustCompile(`(?i)https?:|www\.|<a\s|href=|://`)
)

// checkAccessible checks what a keyboard and a screen reader need of a
// page: one h1 and headings that never skip a level going down, a label
// for every visible form control, SVG charts with role="img", a title and
// a description, and no inline script or style.
func checkAccessible(t *testing.T, what, body string) {
	t.Helper()
	prev := 0
	for i, m := range headingRe.FindAllStringSubmatch(body, -1) {
		level, _ := strconv.Atoi(m[1])
		if i == 0 && level != 1 || level > prev+1 {
			t.Errorf("%s: heading h%d after h%d", what, level, prev)
		}
		prev = level
	}
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Errorf("%s: %d h1", what, n)
	}
	for _, m := range controlRe.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[2], `type="hidden"`) {
			continue
		}
		id := idRe.FindStringSubmatch(m[2])
		if id == nil || !strings.Contains(body, `<label for="`+id[1]+`"`) {
			t.Errorf("%s: a %s without a label: %s", what, m[1], m[0])
		}
	}
	for _, svg := range regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(body, -1) {
		if !strings.Contains(svg, `role="img"`) || !strings.Contains(svg, "<title id=") || !strings.Contains(svg, "<desc id=") {
			t.Errorf("%s: an SVG without role, title or description: %.300s", what, svg)
		}
	}
	rest := withoutAppScript(body)
	if strings.Contains(rest, "<script") || strings.Contains(rest, " style=") || strings.Contains(rest, "<style") {
		t.Errorf("%s: inline script or style", what)
	}
	if !strings.Contains(body, `href="/static/incidents.css"`) {
		t.Errorf("%s: the page's style sheet is not linked", what)
	}
}

// TestUIIncidentRoom is the Mixpanel breach through the web UI, on both
// databases: an editor opens the incident with the form, the room shows
// the GDPR clock (awareness + 72 h) and the blast radius from the ledger,
// contain blocks Mixpanel in the store and shows the checklist, notify
// prepares a pack whose people letter has no link, every step is on the
// timeline, an update keeps what it did not change, and close closes.
func TestUIIncidentRoom(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newIncidentEnv(t, db, true)
		mixpanelLedger(t, e)
		sess := e.session("editor")

		list := e.okPage("/incidents", sess)
		checkAccessible(t, "/incidents", list)
		for _, want := range []string{"No incidents.", `method="post" action="/incidents"`, `<label for="open-vendor">`,
			`<option value="mixpanel">`, `<button type="submit">Open incident</button>`, `aria-current="page">Incidents`} {
			if !strings.Contains(list, want) {
				t.Errorf("/incidents lacks %q", want)
			}
		}

		// Open it with the form, as the editor's browser would.
		loc := e.postForm("/incidents", sess, url.Values{"vendor": {"mixpanel"}, "title": {"Mixpanel: analytics dataset exported after smishing"},
			"severity": {"high"}, "aware": {"2025-11-25T18:00"}, "window_from": {"2025-11-01"}, "window_to": {"2025-11-09"},
			"categories": {strings.Join(mixpanelStated, ", ")}, "summary": {"Mixpanel says an attacker exported a dataset."}}, "/incidents/")
		in := e.onlyIncident()
		if loc != "/incidents/"+in.ID+"?done=opened" {
			t.Errorf("after opening: %s", loc)
		}
		if !in.Times[incident.AnchorAware].Equal(time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC)) ||
			!in.WindowFrom.Equal(time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)) ||
			!in.WindowTo.Equal(time.Date(2025, 11, 10, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond)) ||
			len(in.Categories) != len(mixpanelStated) || in.Status != incident.StatusTriage || in.Notes == "" {
			t.Errorf("opened: %+v", in)
		}
		room := "/incidents/" + in.ID
		body := e.okPage(loc, sess)
		checkAccessible(t, room, body)
		for _, want := range []string{`id="clocks"`, `id="blast-radius"`, `id="timeline"`, "Incident opened.",
			`href="/vendors/mixpanel">Mixpanel</a>`, `<span class="status incident-triage">triage</span>`, "severity-high",
			// GDPR Art. 33: awareness + 72 h, 2 days and 6 hours from now.
			`<time datetime="2025-11-28T18:00:00Z">2025-11-28 18:00 UTC</time>`,
			`data-countdown="2025-11-28T18:00:00Z">2d 6h left</time>`,
			"<strong>5 people</strong> affected", `role="img" aria-labelledby="chart-category-title chart-category-desc"`,
			`<th scope="row" data-label="Jurisdiction">US-CA</th><td data-label="People">1</td>`,
			`<button type="submit">Contain</button>`, `<button type="submit">Notify</button>`, `<button type="submit">Close incident</button>`,
			`<button type="submit">Save changes</button>`, "Not contained", "No pack yet."} {
			if !strings.Contains(body, want) {
				t.Errorf("the room lacks %q", want)
			}
		}
		rep, err := e.svc.Clocks(ctx, &in, nil, incident.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range rep.Duties {
			if d.Rule == "gdpr-art33" {
				if d.Applies != incident.AppliesYes || !strings.Contains(body, html.EscapeString(d.Citation)) || !strings.Contains(body, html.EscapeString(d.Title)) {
					t.Errorf("GDPR Art. 33: applies %s; citation %q or title %q not on the page", d.Applies, d.Citation, d.Title)
				}
			}
		}
		// The list shows the next deadline and the time left.
		list = e.okPage("/incidents?show=open", sess)
		if !strings.Contains(list, `href="`+room+`"`) || !strings.Contains(list, "2d 6h left") ||
			!strings.Contains(list, `<time datetime="2025-11-25T18:00:00Z">`) {
			t.Errorf("the list lacks the incident, its awareness time or its deadline:\n%.3000s", list)
		}

		// Contain: the kill switch is on in the store; the room shows the
		// block and the checklist.
		loc = e.postForm(room+"/contain", sess, url.Values{"block": {"mixpanel"}, "reason": {"breach at Mixpanel"}}, room)
		gates, err := e.store.Gates(ctx, []string{"mixpanel"})
		if err != nil || gates["mixpanel"].Block == nil || gates["mixpanel"].Block.Reason != "breach at Mixpanel" ||
			gates["mixpanel"].Block.BlockedBy != "user:editor" {
			t.Fatalf("mixpanel's gate after contain: %+v (%v)", gates["mixpanel"], err)
		}
		body = e.okPage(loc, sess)
		for _, want := range []string{"Contained: the kill switch is on.", "<strong>Blocked</strong>: <a href=\"/vendors/mixpanel\">mixpanel</a>",
			"<code>MIXPANEL_TOKEN</code>", "Ask the vendor", `<span class="status incident-contained">contained</span>`} {
			if !strings.Contains(body, want) {
				t.Errorf("after contain, the room lacks %q", want)
			}
		}

		// Notify, then download the pack.
		if res := e.page(pageReq{path: room + "/pack.zip", cookie: sess}); res.status != 409 || !strings.Contains(res.body, "use Notify") {
			t.Errorf("pack before notify: %d", res.status)
		}
		loc = e.postForm(room+"/notify", sess, url.Values{}, room)
		body = e.okPage(loc, sess)
		if !strings.Contains(body, `href="`+room+`/pack.zip"`) || !strings.Contains(body, "<code>people.md</code>") {
			t.Errorf("after notify, no download link or file list")
		}
		res := e.page(pageReq{path: room + "/pack.zip", cookie: sess})
		if res.status != 200 || res.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("pack.zip: %d %v", res.status, res.header)
		}
		zr, err := zip.NewReader(strings.NewReader(res.body), int64(len(res.body)))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			files[f.Name[strings.IndexByte(f.Name, '/')+1:]] = string(b)
		}
		for _, pf := range incident.PackFiles {
			if _, ok := files[pf.Name]; !ok {
				t.Errorf("the zip lacks %s", pf.Name)
			}
		}
		for _, f := range []string{"people.md", "people.html"} {
			if m := urlRe.FindString(files[f]); m != "" {
				t.Errorf("%s contains a URL: %q", f, m)
			}
			if !strings.Contains(files[f], "What Happened") || !strings.Contains(files[f], "Acme Cloud") {
				t.Errorf("%s does not read like a notice:\n%.500s", f, files[f])
			}
		}
		if n := strings.Count(strings.TrimSpace(files["recipients.csv"]), "\n"); n != 5 {
			t.Errorf("recipients.csv has %d people, want the 5 in the window", n)
		}

		// An update from a form loaded before contain and notify: only
		// the assessment changed, so the status stays as they left it.
		e.postForm(room+"/update", sess, url.Values{"status": {"triage"}, "orig_status": {"triage"}, "severity": {"high"}, "orig_severity": {"high"},
			"high_risk": {"no"}, "orig_high_risk": {""}, "notes": {in.Notes}, "orig_notes": {in.Notes},
			"time_vendor_discovered": {"2025-11-09T00:00"}, "orig_time_vendor_discovered": {""},
			"note": {"Mixpanel sent the affected records."}}, room+"?done=updated")
		got, err := e.svc.FindIncident(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != incident.StatusNotifying || got.HighRisk == nil || *got.HighRisk ||
			!got.Times[incident.AnchorVendorDiscovered].Equal(time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("after the update: status %s, high risk %v, times %v", got.Status, got.HighRisk, got.Times)
		}
		// Nothing changed: nothing is written.
		rev := got.Revision
		e.postForm(room+"/update", sess, url.Values{"status": {"notifying"}, "orig_status": {"notifying"}}, room+"?done=unchanged")
		if got, _ := e.svc.FindIncident(ctx, in.ID); got.Revision != rev {
			t.Errorf("an empty update wrote revision %d", got.Revision)
		}

		// Close.
		e.postForm(room+"/close", sess, url.Values{"note": {"vendor confirmed scope"}}, room+"?done=closed")
		if got := e.onlyIncident(); got.Status != incident.StatusClosed || got.Times[incident.AnchorClosed].IsZero() {
			t.Errorf("after close: %s %v", got.Status, got.Times)
		}
		body = e.okPage(room, sess)
		checkAccessible(t, "closed room", body)
		if strings.Contains(body, `<button type="submit">Contain</button>`) || strings.Contains(body, `<button type="submit">Close incident</button>`) {
			t.Error("a closed incident offers contain or close")
		}
		if list := e.okPage("/incidents?show=open", sess); strings.Contains(list, room) {
			t.Error("a closed incident is listed as open")
		}

		// The timeline, oldest first, has every step.
		tl := body[strings.Index(body, `id="timeline"`):]
		at := -1
		for _, step := range []string{"opened", "contained", "notified", "updated", "closed"} {
			i := strings.Index(tl, `<span class="kind kind-`+step+`">`)
			if i < at {
				t.Errorf("timeline: %s missing or out of order", step)
			}
			at = i
		}
		for _, want := range []string{`<span class="kind kind-note">note</span>`, "Mixpanel sent the affected records.", "vendor confirmed scope", "notification pack prepared for download (5 people"} {
			if !strings.Contains(tl, want) {
				t.Errorf("the timeline lacks %q", want)
			}
		}
		e.checkLogs()
	})
}

// TestUIIncidentViewer: a viewer reads the room but sees no action form
// and no download, and every action it posts anyway is refused (403)
// and changes nothing.
func TestUIIncidentViewer(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newIncidentEnv(t, db, true)
		mixpanelLedger(t, e)
		in, err := e.svc.OpenIncident(ctx, incident.Incident{Vendor: "mixpanel", Title: "Mixpanel breach", Categories: mixpanelStated,
			Times: map[incident.Anchor]time.Time{incident.AnchorAware: time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC)}}, "user:editor")
		if err != nil {
			t.Fatal(err)
		}
		p, err := incident.LoadProfile(acme + "/organization.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.PrepareNotify(ctx, in.ID, service.NotifyOptions{Profile: p, Actor: "user:editor"}); err != nil {
			t.Fatal(err)
		}
		in, _ = e.svc.FindIncident(ctx, in.ID)
		room := "/incidents/" + in.ID
		for _, role := range []string{"viewer", "auditor"} {
			sess := e.session(role)
			list := e.okPage("/incidents", sess)
			body := e.okPage(room, sess)
			checkAccessible(t, role, body)
			if !strings.Contains(list, room) || !strings.Contains(body, `id="clocks"`) || !strings.Contains(body, "2d 6h left") {
				t.Errorf("%s: cannot read the incident", role)
			}
			for _, page := range []string{list, body} {
				for _, bad := range []string{`method="post" action="/incidents`, "<button type=\"submit\">Contain", "<button type=\"submit\">Notify",
					"<button type=\"submit\">Close incident", "Save changes", "Open an incident", "pack.zip"} {
					if strings.Contains(page, bad) {
						t.Errorf("%s sees %q", role, bad)
					}
				}
			}
			for _, path := range []string{"/incidents", room + "/update", room + "/contain", room + "/notify", room + "/close"} {
				res := e.page(pageReq{method: "POST", path: path, cookie: sess, header: sameOrigin,
					form: url.Values{"vendor": {"mixpanel"}, "title": {"x"}, "status": {"closed"}, "orig_status": {"triage"}}})
				if res.status != 403 || !strings.Contains(res.body, "may not see this page") {
					t.Errorf("%s: POST %s: %d", role, path, res.status)
				}
			}
			if res := e.page(pageReq{path: room + "/pack.zip", cookie: sess}); res.status != 403 {
				t.Errorf("%s: pack.zip: %d", role, res.status)
			}
		}
		got := e.onlyIncident()
		gates, _ := e.store.Gates(ctx, []string{"mixpanel"})
		if got.Revision != in.Revision || got.Status != in.Status || gates["mixpanel"].Block != nil {
			t.Errorf("the refused posts changed something: revision %d→%d, block %+v", in.Revision, got.Revision, gates["mixpanel"].Block)
		}
		// A cross-site post is refused even for an editor.
		res := e.page(pageReq{method: "POST", path: room + "/contain", cookie: e.session("editor"), form: url.Values{},
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		if res.status != 403 || !strings.Contains(res.body, "Cross-site request refused") {
			t.Errorf("cross-site contain: %d", res.status)
		}
		if gates, _ := e.store.Gates(ctx, []string{"mixpanel"}); gates["mixpanel"].Block != nil {
			t.Error("a cross-site contain blocked the vendor")
		}
	})
}

// TestUIIncidentEscapes: hostile text in an incident's title, owner,
// notes and timeline note is shown as text.
func TestUIIncidentEscapes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newIncidentEnv(t, db, true)
		sess := e.session("editor")
		title := `<script>alert(1)</script>`
		notes := `"><img src=x onerror=alert(1)>`
		e.postForm("/incidents", sess, url.Values{"vendor": {"mixpanel"}, "title": {title}, "severity": {"high"}, "summary": {notes}}, "/incidents/")
		in := e.onlyIncident()
		room := "/incidents/" + in.ID
		e.postForm(room+"/update", sess, url.Values{"owner": {`<b>owner</b>`}, "orig_owner": {""}, "note": {`<a href="javascript:alert(1)">x</a>`}}, room)
		for _, p := range []string{"/incidents", room} {
			body := e.okPage(p, sess)
			rest := withoutAppScript(body)
			for _, bad := range []string{"<script", "<img", "<b>", `<a href="javascript`} {
				if strings.Contains(rest, bad) {
					t.Errorf("%s holds %q unescaped", p, bad)
				}
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: no escaped title", p)
			}
			if p == room {
				for _, want := range []string{"<title>&lt;script&gt;alert(1)&lt;/script&gt; · weaklink</title>", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
					"&lt;b&gt;owner&lt;/b&gt;", "&lt;a href=&#34;javascript:alert(1)&#34;&gt;x&lt;/a&gt;"} {
					if !strings.Contains(body, want) {
						t.Errorf("the room lacks the escaped %q", want)
					}
				}
			}
		}
	})
}

// TestUIIncidentBadInput: bad input shows the form again with a precise
// message at its field, keeps what was typed, and changes nothing.
func TestUIIncidentBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newIncidentEnv(t, db, true)
		sess := e.session("editor")
		good := url.Values{"vendor": {"mixpanel"}, "title": {"Mixpanel breach"}, "severity": {"high"}, "aware": {"2025-11-25T18:00"},
			"window_from": {"2025-11-01"}, "window_to": {"2025-11-09"}, "categories": {"user.name"}}
		with := func(k, v string) url.Values {
			f := url.Values{}
			for key, vs := range good {
				f[key] = slices.Clone(vs)
			}
			f.Set(k, v)
			return f
		}
		for _, tc := range []struct {
			name      string
			form      url.Values
			field     string // the input marked invalid
			want      string
			wantValue string // what was typed, kept
		}{
			{"unknown vendor", with("vendor", "nope"), "open-vendor", `vendor: &#34;nope&#34; is not in the inventory`, `value="Mixpanel breach"`},
			{"bad date", with("aware", "25/11/2025 18:00"), "open-aware", `aware: &#34;25/11/2025 18:00&#34; is not a date and time`, `value="25/11/2025 18:00"`},
			{"bad window", with("window_to", "2025-10-01"), "open-window-to", "window: ends (2025-10-01T23:59:59Z) before it starts", `value="2025-10-01"`},
			{"bad window date", with("window_from", "yesterday"), "open-window-from", `window_from: &#34;yesterday&#34; is not a date and time`, `value="yesterday"`},
			{"unknown category", with("categories", "user.shoe_size"), "open-categories", "categories[0]: ", `value="user.shoe_size"`},
			{"no title", with("title", "  "), "open-title", "title: required", `value="2025-11-25T18:00"`},
			{"bad severity", with("severity", "apocalyptic"), "open-severity", `severity: &#34;apocalyptic&#34;: use one of low, medium, high, critical`, `value="Mixpanel breach"`},
		} {
			res := e.page(pageReq{method: "POST", path: "/incidents", form: tc.form, cookie: sess, header: sameOrigin})
			if res.status != 400 {
				t.Errorf("%s: %d, want 400", tc.name, res.status)
				continue
			}
			checkUIHeaders(t, tc.name, res)
			checkAccessible(t, tc.name, res.body)
			if !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, "The incident was not opened") || !strings.Contains(res.body, tc.wantValue) {
				t.Errorf("%s: the page lacks %q or the typed value %q:\n%.3000s", tc.name, tc.want, tc.wantValue, res.body[strings.Index(res.body, "<main"):])
			}
			if !regexp.MustCompile(`id="` + tc.field + `"[^>]*aria-invalid="true"`).MatchString(res.body) {
				t.Errorf("%s: %s is not marked invalid", tc.name, tc.field)
			}
		}
		if list, _ := e.store.ListIncidents(ctx, store.IncidentFilter{}); len(list) != 0 {
			t.Fatalf("bad forms opened %d incidents", len(list))
		}

		// The room's forms.
		e.postForm("/incidents", sess, good, "/incidents/")
		in := e.onlyIncident()
		room := "/incidents/" + in.ID
		tl, _ := e.store.Timeline(ctx, in.ID)
		for _, tc := range []struct {
			name, path string
			form       url.Values
			status     int
			want       string
		}{
			{"bad time", room + "/update", url.Values{"time_vendor_notified": {"tomorrow"}, "orig_time_vendor_notified": {""}, "note": {"x"}}, 400,
				`Vendor told us: &#34;tomorrow&#34; is not a date and time`},
			{"bad status", room + "/update", url.Values{"status": {"bogus"}, "orig_status": {"triage"}}, 400,
				`status: &#34;bogus&#34;: use one of triage, investigating, contained, notifying, closed`},
			{"bad decision", room + "/update", url.Values{"high_risk": {"maybe"}, "orig_high_risk": {""}}, 400, `high_risk: &#34;maybe&#34;: use yes, no or not assessed`},
			{"unknown vendor to block", room + "/contain", url.Values{"block": {"nope"}}, 400, `vendor &#34;nope&#34; is not in the inventory`},
		} {
			res := e.page(pageReq{method: "POST", path: tc.path, form: tc.form, cookie: sess, header: sameOrigin})
			if res.status != tc.status || !strings.Contains(res.body, tc.want) || !strings.Contains(res.body, `role="alert"`) {
				t.Errorf("%s: %d, want %d with %q:\n%.2000s", tc.name, res.status, tc.status, tc.want, res.body)
			}
			checkAccessible(t, tc.name, res.body)
		}
		got := e.onlyIncident()
		tl2, _ := e.store.Timeline(ctx, in.ID)
		gates, _ := e.store.Gates(ctx, []string{"nope", "mixpanel"})
		if got.Revision != in.Revision || len(tl2) != len(tl) || gates["mixpanel"].Block != nil {
			t.Errorf("bad forms changed the incident: revision %d→%d, timeline %d→%d", in.Revision, got.Revision, len(tl), len(tl2))
		}

		// Unknown incidents, a pack before notify, a form too big.
		for _, p := range []string{"/incidents/0000-none", "/incidents/0000-none/pack.zip"} {
			if res := e.page(pageReq{path: p, cookie: sess}); res.status != 404 || !strings.Contains(res.body, "There is no such incident.") {
				t.Errorf("%s: %d", p, res.status)
			}
		}
		if res := e.page(pageReq{method: "POST", path: "/incidents/0000-none/close", cookie: sess, header: sameOrigin, form: url.Values{}}); res.status != 404 {
			t.Errorf("closing no incident: %d", res.status)
		}
		if res := e.page(pageReq{method: "POST", path: room + "/update", cookie: sess, header: sameOrigin,
			form: url.Values{"note": {strings.Repeat("x", 100<<10)}}}); res.status != 400 {
			t.Errorf("a huge form: %d", res.status)
		}
	})
}

// TestUIIncidentNotifyNeedsProfile: a server without an organization
// profile cannot sign letters; notify says so and records nothing.
func TestUIIncidentNotifyNeedsProfile(t *testing.T) {
	e := newIncidentEnv(t, t.TempDir()+"/weaklink.db", false)
	sess := e.session("editor")
	e.postForm("/incidents", sess, url.Values{"vendor": {"mixpanel"}, "title": {"Mixpanel breach"}, "severity": {"high"}}, "/incidents/")
	in := e.onlyIncident()
	room := "/incidents/" + in.ID
	if body := e.okPage(room, sess); !strings.Contains(body, "no organization profile") {
		t.Error("the room does not warn that notify will refuse")
	}
	res := e.page(pageReq{method: "POST", path: room + "/notify", cookie: sess, header: sameOrigin, form: url.Values{}})
	if res.status != 400 || !strings.Contains(res.body, "no organization profile (serve --org FILE)") {
		t.Errorf("notify without a profile: %d %.2000s", res.status, res.body)
	}
	if got := e.onlyIncident(); got.Revision != in.Revision {
		t.Error("a refused notify changed the incident")
	}
	if !strings.Contains(res.body, `id="notify-problem"`) {
		t.Error("the problem is not shown at the notify form")
	}
}

// TestAffectedAPI: the affected people, streamed as CSV (formulas
// defused) or JSON lines, one row per person the blast radius counts; an
// unknown incident or format is a JSON error before anything streams.
func TestAffectedAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newIncidentEnv(t, db, false)
		mixpanelLedger(t, e)
		in, err := e.svc.OpenIncident(ctx, incident.Incident{Vendor: "mixpanel", Title: "export", Categories: mixpanelStated}, "test")
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.svc.BlastRadius(ctx, &in, nil)
		if err != nil || b.Subjects == 0 {
			t.Fatalf("blast radius: %+v %v", b, err)
		}
		tok := e.tokens[auth.RoleEditor]
		res := e.do(req{method: "GET", path: "/api/v1/incidents/" + in.ID + "/affected", bearer: tok})
		lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") || int64(len(lines)-1) != b.Subjects {
			t.Errorf("csv: %d %q, %d rows for %d people:\n%s", res.status, res.header.Get("Content-Type"), len(lines)-1, b.Subjects, res.body)
		}
		res = e.do(req{method: "GET", path: "/api/v1/incidents/" + in.ID + "/affected?format=jsonl", bearer: tok})
		if n := strings.Count(string(res.body), "\n"); res.status != 200 || int64(n) != b.Subjects {
			t.Errorf("jsonl: %d, %d lines for %d people", res.status, n, b.Subjects)
		}
		for _, bad := range []struct {
			path string
			want int
		}{{"/api/v1/incidents/ffffffff/affected", 404}, {"/api/v1/incidents/" + in.ID + "/affected?format=xml", 400}} {
			res := e.do(req{method: "GET", path: bad.path, bearer: tok})
			if res.status != bad.want || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: %d %q", bad.path, res.status, res.header.Get("Content-Type"))
			}
		}
	})
}
