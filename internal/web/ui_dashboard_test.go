package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

// TestUIDashboard: with the acme example, the dashboard counts the
// vendors by category and status (chart and table agree with the store),
// lists sensitive flows, shows an open incident with its nearest
// deadline counting down, the latest discovered flows and the gateway's
// actions; a viewer sees it, and hostile text in an incident is escaped.
func TestUIDashboard(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		if err := e.store.RecordLedger(ctx, nil, []store.ActionCount{
			{Vendor: "mixpanel", Action: "dropped", Category: "user.contact.email", Count: 40},
			{Vendor: "mixpanel", Action: "hashed", Category: "user.unique_id", Count: 10},
		}); err != nil {
			t.Fatal(err)
		}
		// The vendor found the breach 6 hours ago and owes notice within
		// 48: the contract clock has 42 hours left.
		found := e.clock.Now().UTC().Add(-6 * time.Hour).Truncate(time.Second)
		if _, err := e.svc.OpenIncident(ctx, incident.Incident{Vendor: "mixpanel", Title: `<script>alert("t")</script> export`,
			Categories: []string{"user.contact.email"}, ContractNoticeHours: 48,
			Times: map[incident.Anchor]time.Time{incident.AnchorVendorDiscovered: found}}, "test"); err != nil {
			t.Fatal(err)
		}
		deadline := found.Add(48 * time.Hour).Format(time.RFC3339)
		body := withoutAppScript(e.okPage("/dashboard", e.session("viewer")))
		o, err := e.store.Overview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var vendors int64
		for _, v := range o.Vendors {
			vendors += v.N
		}
		for _, want := range []string{
			`<svg class="chart" id="vendors-chart"`, `role="img"`, `<title id="vendors-chart-title">`,
			"<strong>" + strconv.FormatInt(vendors, 10) + "</strong> vendors",
			`href="/vendors?category=analytics"`,
			`<svg class="chart" id="gateway-chart"`, "mixpanel, dropped: 40", "mixpanel, hashed: 10",
			"&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; export",
			`data-countdown="` + deadline + `"`, "1d 18h left",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the dashboard lacks %q", want)
			}
		}
		if strings.Contains(body, "<script") {
			t.Error("the dashboard holds a script")
		}
	})
}
