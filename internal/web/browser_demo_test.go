package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/weaklink/weaklink/internal/cli"
)

// TestBrowserDemo is the "done when", in a real browser: a
// newcomer starts `weaklink demo`, logs in with the one-time password it
// prints, chooses their own, and follows the Mixpanel story from
// inventory to gateway to incident. The dashboard shows the open incident
// with its clock running; Mixpanel's page shows what flows to it and what
// the gateway let through; who-has finds Mixpanel and its subprocessor
// for email addresses; the incident room shows the blast radius from the
// ledger and the clocks; Contain cuts Mixpanel off in the gateway; Notify
// prepares the letters.
func TestBrowserDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, err := cli.StartDemo(ctx, cli.DemoOptions{Dir: t.TempDir(), Addr: "127.0.0.1:0", GatewayAddr: "127.0.0.1:0"})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := d.Wait(); err != nil {
			t.Errorf("the demo stopped with %v", err)
		}
	})
	b := newChromeAt(t, d.URL)

	// Log in with the printed password; it works once.
	b.open("/")
	b.wantAt(loginRedirect("/"))
	b.login("admin", d.Password)
	if at := b.at(); !strings.HasPrefix(at, "/account/password") {
		t.Fatalf("after the one-time login: at %s, want the change form", at)
	}
	b.shot("demo-one-time-password")
	const mine = "my own demo passphrase, long enough"
	b.do("choose a password",
		chromedp.Focus(chromedp.CSS("#current_password")), chromedp.KeyEvent(d.Password),
		chromedp.Focus(chromedp.CSS("#new_password")), chromedp.KeyEvent(mine),
		chromedp.Focus(chromedp.CSS("#confirm_password")), chromedp.KeyEvent(mine))
	b.follow("change it", chromedp.KeyEvent(kb.Enter))

	// The dashboard: the incident, its nearest deadline counting down.
	b.wantAt("/dashboard")
	if got := b.text("main"); !strings.Contains(got, "Mixpanel: analytics dataset exported") || !strings.Contains(got, "left") {
		t.Errorf("the dashboard shows no incident with a running clock: %.600s", got)
	}
	b.shot("demo-dashboard")

	// Inventory: Mixpanel, what flows to it, what the gateway passed on.
	b.follow("vendors", chromedp.Click(chromedp.CSS(`nav a[href="/vendors"]`)))
	b.follow("mixpanel", chromedp.Click(chromedp.CSS(`table.vendors a[href="/vendors/mixpanel"]`)))
	if got := b.text("main"); !strings.Contains(got, "5 people") || !strings.Contains(got, "user.unique_id.pseudonymous") {
		t.Errorf("Mixpanel's page does not show the ledger: %.800s", got)
	}
	b.shot("demo-vendor-mixpanel")

	// Who has users' email addresses?
	b.follow("who has", chromedp.Click(chromedp.CSS(`nav a[href="/data"]`)))
	b.open("/data?category=user.contact.email")
	if got := b.text("main"); !strings.Contains(got, "mixpanel") || !strings.Contains(got, "gcp") {
		t.Errorf("who-has user.contact.email: %.500s", got)
	}
	b.shot("demo-who-has-email")

	// The incident room, from the list.
	b.follow("incidents", chromedp.Click(chromedp.CSS(`nav a[href="/incidents"]`)))
	b.follow("the incident", chromedp.Click(chromedp.CSS(`a[href="/incidents/`+d.Incident+`"]`)))
	if got := b.text("section#blast-radius"); !strings.Contains(got, "5 people") {
		t.Errorf("the blast radius: %.500s", got)
	}
	if got := b.text("section#clocks"); !strings.Contains(got, "GDPR") {
		t.Errorf("the clocks: %.500s", got)
	}
	b.shot("demo-incident-room")

	// Contain: the gateway refuses Mixpanel's traffic within a few seconds.
	b.follow("contain", chromedp.Click(chromedp.CSS(`form[action$="/contain"] button[type="submit"]`)))
	form, err := os.ReadFile(filepath.Join("..", "..", "examples", "acme", "traffic", "track.form"))
	if err != nil {
		t.Fatal(err)
	}
	blocked := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := http.Post(d.Gateway+"/mp/track?ip=1", "application/x-www-form-urlencoded", strings.NewReader(string(form)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusForbidden {
			blocked = true
			break
		}
	}
	if !blocked {
		t.Error("the gateway still forwards to Mixpanel 5 s after Contain")
	}
	b.shot("demo-contained")

	// Notify: the pack, on the timeline and offered for download.
	b.follow("notify", chromedp.Click(chromedp.CSS(`form[action$="/notify"] button[type="submit"]`)))
	if got := b.text("section#timeline"); !strings.Contains(got, "notif") {
		t.Errorf("the timeline after Notify: %.500s", got)
	}
	b.shot("demo-notified")
}
