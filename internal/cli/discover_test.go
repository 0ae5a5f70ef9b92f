package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/discover"
	"github.com/weaklink/weaklink/internal/inventory"
)

// acmeApp is acme's platform dashboard: the code whose analytics vendor
// received names and emails.
const acmeApp = "../../examples/acme-app"

// withNewVendor copies the dashboard's code and adds FullStory session
// replay to it, as examples/new-vendor describes: the change the CI gate
// must stop. It returns the copy.
func withNewVendor(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "platform-dashboard")
	if err := os.CopyFS(dir, os.DirFS(acmeApp)); err != nil {
		t.Fatal(err)
	}
	replay, err := os.ReadFile("../../examples/new-vendor/replay.ts")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "lib", "replay.ts"), replay, 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	const deps = "\"dependencies\": {\n"
	if !strings.Contains(string(data), deps) {
		t.Fatalf("package.json has no dependencies block:\n%s", data)
	}
	data = []byte(strings.Replace(string(data), deps, deps+"    \"@fullstory/browser\": \"^2.0.5\",\n", 1))
	if err := os.WriteFile(pkg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// discoverArgs scans dir as the platform-dashboard system.
func discoverArgs(dir, cmd string, extra ...string) []string {
	return append([]string{cmd, dir, "--system", dir + "=platform-dashboard", "--first-party", "acme.ai"}, extra...)
}

// TestDiscoverDoneWhen is the acceptance sequence: the sample app's
// analytics vendor with names, emails and file:line evidence; the CI gate
// passing on the app as the inventory declares it, failing once a new
// vendor SDK is added, and passing again once the vendor is approved; and
// the app's browser capture naming the same vendor and categories.
func TestDiscoverDoneWhen(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		var rep discover.Report
		if err := json.Unmarshal([]byte(ok(t, db, "discover", acmeApp, "--format", "json")), &rep); err != nil {
			t.Fatal(err)
		}
		mp := vendorSummary(t, rep, "mixpanel")
		for _, c := range []string{"user.name", "user.contact.email"} {
			if !slices.Contains(mp, c) {
				t.Errorf("mixpanel categories %v lack %s", mp, c)
			}
		}
		found := false
		for _, f := range rep.Findings {
			if f.Vendor == "mixpanel" && f.Kind == discover.KindDataSend && f.Evidence.Line > 0 &&
				strings.HasSuffix(f.Evidence.File, "src/lib/analytics.ts") && slices.ContainsFunc(f.Categories, func(c discover.Category) bool { return c.Key == "user.contact.email" }) {
				found = true
			}
		}
		if !found {
			t.Errorf("no mixpanel data-send with an email and file:line evidence in src/lib/analytics.ts: %+v", rep.Findings)
		}

		ok(t, db, "apply", "-f", acme)
		if r := run(t, db, discoverArgs(acmeApp, "discover", "--check")...); r.code != 0 {
			t.Fatalf("--check on the app as declared: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		changed := withNewVendor(t)
		r := run(t, db, discoverArgs(changed, "discover", "--check")...)
		if r.code != 1 || !strings.Contains(r.stdout, "new vendor fullstory") {
			t.Fatalf("--check with FullStory added: exit %d\n%s", r.code, r.stderr)
		}
		ok(t, db, "apply", "-f", "../../examples/new-vendor/fullstory.yaml")
		if r := run(t, db, discoverArgs(changed, "discover", "--check")...); r.code != 0 {
			t.Fatalf("--check after approving FullStory: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}

		var har discover.Report
		if err := json.Unmarshal([]byte(ok(t, db, "discover", "--har", acmeApp+"/dashboard.har", "--first-party", "acme.ai", "--format", "json")), &har); err != nil {
			t.Fatal(err)
		}
		hmp := vendorSummary(t, har, "mixpanel")
		for _, c := range []string{"user.name", "user.contact.email", "user.unique_id", "user.contact.organization"} {
			if !slices.Contains(mp, c) || !slices.Contains(hmp, c) {
				t.Errorf("%s: code has %v, capture has %v", c, mp, hmp)
			}
		}
		codeVendors, harVendors := vendorIDs(rep), vendorIDs(har)
		if !slices.Equal(codeVendors, harVendors) {
			t.Errorf("vendors: code %v, capture %v", codeVendors, harVendors)
		}
	})
}

func vendorSummary(t *testing.T, r discover.Report, id string) []string {
	t.Helper()
	for _, v := range r.Vendors {
		if v.Vendor == id {
			var keys []string
			for _, c := range v.Categories {
				keys = append(keys, c.Key)
			}
			return keys
		}
	}
	t.Fatalf("no vendor %s in %+v", id, r.Vendors)
	return nil
}

func vendorIDs(r discover.Report) []string {
	var ids []string
	for _, v := range r.Vendors {
		ids = append(ids, v.Vendor)
	}
	slices.Sort(ids)
	return ids
}

// TestDiscoverAgainstInventory runs the whole loop on both databases: drift
// reports the undeclared vendor and categories, --check fails on them, a
// baseline accepts them, and --record writes discovered flows once.
func TestDiscoverAgainstInventory(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		app := withNewVendor(t)

		out := ok(t, db, discoverArgs(app, "drift")...)
		for _, want := range []string{
			"new vendor fullstory (FullStory) receiving user.contact.email, user.name, user.unique_id",
			"declared flow platform-dashboard.stripe",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("drift output lacks %q:\n%s", want, out)
			}
		}

		// The CI gate: exit 1, one actionable line per problem on stderr
		// when the report itself goes to a file.
		sarif := filepath.Join(t.TempDir(), "out.sarif")
		r := run(t, db, discoverArgs(app, "discover", "--check", "--format", "sarif", "-o", sarif)...)
		if r.code != 1 {
			t.Fatalf("--check exit %d, want 1\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "package.json:13: new-vendor: new vendor fullstory") {
			t.Errorf("--check stderr:\n%s", r.stderr)
		}
		var doc struct {
			Version string `json:"version"`
			Runs    []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
					Level  string `json:"level"`
				} `json:"results"`
			} `json:"runs"`
		}
		data, err := os.ReadFile(sarif)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &doc); err != nil || doc.Version != "2.1.0" || len(doc.Runs) != 1 {
			t.Fatalf("SARIF: %v %+v", err, doc)
		}
		errorsN := 0
		for _, res := range doc.Runs[0].Results {
			if res.Level == "error" {
				errorsN++
			}
		}
		if errorsN != strings.Count(r.stderr, "\n")-1 {
			t.Errorf("SARIF has %d errors; stderr has %d problem lines:\n%s", errorsN, strings.Count(r.stderr, "\n")-1, r.stderr)
		}

		// A baseline accepts today's findings; the gate then passes.
		base := filepath.Join(t.TempDir(), "baseline.yaml")
		ok(t, db, discoverArgs(app, "drift", "--write-baseline", base)...)
		if r := run(t, db, discoverArgs(app, "discover", "--check", "--baseline", base)...); r.code != 0 {
			t.Fatalf("--check with baseline: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		// discover writes the same baseline without --check; with it, what
		// the new baseline accepts passes this run's check.
		base2 := filepath.Join(t.TempDir(), "baseline2.yaml")
		ok(t, db, discoverArgs(app, "discover", "--write-baseline", base2)...)
		b1, _ := os.ReadFile(base)
		b2, err := os.ReadFile(base2)
		if err != nil || len(b2) == 0 || strings.Count(string(b2), "- key:") == 0 || strings.Count(string(b1), "- key:") != strings.Count(string(b2), "- key:") {
			t.Errorf("discover --write-baseline wrote %q (%v); drift wrote %q", b2, err, b1)
		}
		if r := run(t, db, discoverArgs(app, "discover", "--check", "--write-baseline", filepath.Join(t.TempDir(), "b3.yaml"))...); r.code != 0 {
			t.Errorf("--check --write-baseline: exit %d\n%s", r.code, r.stderr)
		}

		// --record writes one discovered flow per (system, vendor) and a
		// proposed vendor for fullstory; a second run changes nothing.
		r = run(t, db, discoverArgs(app, "discover", "--record")...)
		if r.code != 0 || !strings.Contains(r.stderr, "proposed vendor") {
			t.Fatalf("--record: exit %d\n%s", r.code, r.stderr)
		}
		var flows []inventory.Flow
		if err := json.Unmarshal([]byte(ok(t, db, "flows", "list", "--source", "discovered", "--format", "json")), &flows); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(flows, func(f inventory.Flow) bool { return f.ID == "platform-dashboard.fullstory.discovered" })
		if i < 0 {
			t.Fatalf("no discovered fullstory flow in %+v", flows)
		}
		fs := flows[i]
		if !slices.Contains(fs.Categories, "user.contact.email") || len(fs.Evidence) == 0 || fs.Source != "discovered" {
			t.Errorf("fullstory flow = %+v", fs)
		}
		if !strings.Contains(fs.Evidence[0].Ref, "platform-dashboard/") {
			t.Errorf("evidence ref = %q", fs.Evidence[0].Ref)
		}
		v := vendorJSON(t, db, "fullstory")
		if v.Status != "proposed" || v.Catalog != "fullstory" {
			t.Errorf("recorded vendor = %+v", v)
		}
		r = run(t, db, discoverArgs(app, "discover", "--record")...)
		if r.code != 0 || !strings.Contains(r.stderr, "recorded 0 discovered flow(s) and 0 proposed vendor(s)") {
			t.Errorf("second --record: exit %d\n%s", r.code, r.stderr)
		}
		// The recorded vendor is still proposed: the gate still fails on it.
		if r := run(t, db, discoverArgs(app, "discover", "--check")...); r.code != 1 || !strings.Contains(r.stdout, "vendor fullstory is proposed, not approved") {
			t.Errorf("--check after record: exit %d\n%s", r.code, r.stdout)
		}
	})
}

func TestDiscoverFormatsAndHAR(t *testing.T) {
	db := filepath.Join(t.TempDir(), "weaklink.db")
	var rep discover.Report
	if err := json.Unmarshal([]byte(ok(t, db, "discover", acmeApp, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Vendors) < 3 || rep.Drift != nil || rep.Stats.Files == 0 {
		t.Errorf("json report: %d vendors, drift %v, stats %+v", len(rep.Vendors), rep.Drift, rep.Stats)
	}
	md := ok(t, db, "discover", acmeApp, "--format", "markdown")
	if !strings.Contains(md, "| mixpanel") {
		t.Errorf("markdown:\n%s", md)
	}
	har := ok(t, db, "discover", "--har", "../discover/testdata/har/chrome-dashboard.har", "--format", "json")
	var hr discover.Report
	if err := json.Unmarshal([]byte(har), &hr); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(hr.Vendors, func(v discover.VendorSummary) bool { return v.Vendor == "mixpanel" }) || hr.Stats.Captures != 1 {
		t.Errorf("HAR report: %+v", hr.Vendors)
	}
}

func TestDiscoverBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "weaklink.db")
	dir := t.TempDir()
	if r := run(t, db, "discover", acmeApp, "--format", "xml"); r.code != 2 {
		t.Errorf("bad --format: exit %d, %s", r.code, r.stderr)
	}
	if r := run(t, db, "discover", acmeApp, "--system", "nonsense"); r.code != 2 || !strings.Contains(r.stderr, "DIR=SYSTEM") {
		t.Errorf("bad --system: exit %d, %s", r.code, r.stderr)
	}
	if r := run(t, db, "discover", filepath.Join(dir, "missing")); r.code != 1 || !strings.Contains(r.stderr, "missing") {
		t.Errorf("missing path: exit %d, %s", r.code, r.stderr)
	}
	cfg := filepath.Join(dir, "discover.yaml")
	os.WriteFile(cfg, []byte("kind: discover\nsystems:\n  - path: a\n    sytem: b\n"), 0o644)
	if r := run(t, db, "discover", acmeApp, "--config", cfg); r.code != 1 || !strings.Contains(r.stderr, "line 4") {
		t.Errorf("bad config: exit %d, %s", r.code, r.stderr)
	}
	har := filepath.Join(dir, "bad.har")
	os.WriteFile(har, []byte("{\"log\": {\"entries\": [\n  {\"request\": 7}\n]}}"), 0o644)
	if r := run(t, db, "discover", "--har", har); r.code != 1 || !strings.Contains(r.stderr, "bad.har") {
		t.Errorf("bad HAR: exit %d, %s", r.code, r.stderr)
	}
	ok(t, db, "apply", "-f", acme)
	base := filepath.Join(dir, "baseline.yaml")
	os.WriteFile(base, []byte("version: 1\naccepted:\n  - key: x\n    reasn: y\n"), 0o644)
	before := ok(t, db, "export", "--format", "json")
	if r := run(t, db, discoverArgs(withNewVendor(t), "discover", "--check", "--record", "--baseline", base)...); r.code != 1 || !strings.Contains(r.stderr, "baseline.yaml:4") {
		t.Errorf("bad baseline: exit %d, %s", r.code, r.stderr)
	}
	if after := ok(t, db, "export", "--format", "json"); after != before {
		t.Error("a run that failed on its baseline changed the inventory")
	}
}
