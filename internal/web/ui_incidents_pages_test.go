package web_test

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

// TestUIIncidentListPages: the incident list pages in the database,
// newest first, with the count of every page and filter; rows name their
// vendors; the open form's vendor choices are every vendor by name, for
// those who can write only.
func TestUIIncidentListPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		vendors, err := e.store.ListVendors(ctx, store.VendorFilter{Sort: "name"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 57 { // 15 open (every fourth), 42 closed
			in := incident.Incident{Vendor: vendors[i%len(vendors)].ID, Title: fmt.Sprintf("Incident %d", i), Categories: []string{"user.contact.email"}}
			if i%4 != 0 {
				in.Status = incident.StatusClosed
			}
			if _, err := e.svc.OpenIncident(ctx, in, "ada"); err != nil {
				t.Fatal(err)
			}
			e.advance(time.Minute)
		}
		rowRe := regexp.MustCompile(`<a href="/incidents/[^"]+">Incident (\d+)</a></th>\s*<td data-label="Vendor"><a href="/vendors/([^"]+)">([^<]*)</a>`)
		viewer := e.session("viewer")
		for _, c := range []struct {
			path, count string
			first, last int // the rows' numbers, newest first
			pager       string
		}{
			{"/incidents", "Incidents 1–50 of 57, newest first", 56, 7, `<span>Page 1 of 2</span>`},
			{"/incidents?page=2", "Incidents 51–57 of 57, newest first", 6, 0, `<a rel="prev" href="/incidents">`},
			{"/incidents?page=9", "Incidents 51–57 of 57, newest first", 6, 0, `<span>Page 2 of 2</span>`},
			{"/incidents?show=open", "Incidents 1–15 of 15, newest first", 56, 0, ""},
			{"/incidents?show=closed&page=2", "Incidents 1–42 of 42, newest first", 55, 1, ""}, // one page
		} {
			body := e.okPage(c.path, viewer)
			if !strings.Contains(body, c.count) || !strings.Contains(body, c.pager) {
				t.Errorf("%s: lacks %q or %q", c.path, c.count, c.pager)
			}
			rows := rowRe.FindAllStringSubmatch(body, -1)
			if len(rows) == 0 || rows[0][1] != fmt.Sprint(c.first) || rows[len(rows)-1][1] != fmt.Sprint(c.last) {
				t.Errorf("%s: %d rows, want %d to %d", c.path, len(rows), c.first, c.last)
			}
			for _, r := range rows {
				n, _ := strconv.Atoi(r[1])
				v := vendors[n%len(vendors)]
				if r[2] != v.ID || r[3] != html.EscapeString(v.Name) {
					t.Errorf("%s: incident %d names vendor %s %q, want %s %q", c.path, n, r[2], r[3], v.ID, v.Name)
				}
			}
			if strings.Contains(body, `id="open-vendor"`) {
				t.Errorf("%s: a viewer gets the open form", c.path)
			}
		}
		if n := len(rowRe.FindAllString(e.okPage("/incidents", viewer), -1)); n != 50 {
			t.Errorf("first page: %d rows", n)
		}

		body := e.okPage("/incidents?page=2", e.session("editor"))
		sel := body[strings.Index(body, `<select id="open-vendor"`):]
		sel = sel[:strings.Index(sel, "</select>")]
		var want strings.Builder
		want.WriteString(`<option value="" selected>Choose a vendor</option>`)
		for _, v := range vendors {
			label := v.ID
			if v.Name != "" && v.Name != v.ID {
				label = v.Name + " (" + v.ID + ")"
			}
			fmt.Fprintf(&want, `<option value="%s">%s</option>`, v.ID, html.EscapeString(label))
		}
		if !strings.HasSuffix(sel, want.String()) {
			t.Errorf("the vendor choices:\n%s\nwant\n%s", sel, want.String())
		}
		e.checkLogs()
	})
}
