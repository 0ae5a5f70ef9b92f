package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store/postgres/pgtest"
)

// acme is the example inventory, relative to this package.
const acme = "../../examples/acme"

type result struct {
	stdout, stderr string
	code           int
}

// run executes the command line as a user would, against db.
func run(t *testing.T, db string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(append([]string{"--db", db}, args...), strings.NewReader(""), &out, &errOut)
	return result{out.String(), errOut.String(), code}
}

func ok(t *testing.T, db string, args ...string) string {
	t.Helper()
	r := run(t, db, args...)
	if r.code != 0 {
		t.Fatalf("weaklink %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r.stdout
}

// eachBackend runs fn against a fresh SQLite file and a fresh PostgreSQL
// schema.
func eachBackend(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "weaklink.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.URL(t)) })
}

func TestMixpanelWhoHas(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		out := ok(t, db, "apply", "-f", acme)
		if !strings.Contains(out, "Applied.") || !strings.Contains(out, "+ vendor mixpanel") {
			t.Fatalf("apply output:\n%s", out)
		}
		var res service.WhoHas
		if err := json.Unmarshal([]byte(ok(t, db, "data", "who-has", "user.contact.email", "--format", "json")), &res); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(res.Holders, func(h service.Holder) bool { return h.Vendor == "mixpanel" })
		if i < 0 {
			t.Fatalf("mixpanel does not hold user.contact.email: %+v", res)
		}
		h := res.Holders[i]
		if !h.Direct || h.Category != "analytics" || !slices.Contains(h.Categories, "user.contact.email") {
			t.Errorf("mixpanel holder = %+v", h)
		}
		if !slices.ContainsFunc(h.Paths, func(p service.Path) bool {
			return p.System == "platform-dashboard" && slices.Equal(p.Chain, []string{"mixpanel"})
		}) {
			t.Errorf("no path platform-dashboard → mixpanel: %+v", h.Paths)
		}
		// Mixpanel's own subprocessors hold the emails too, through it.
		v := vendorJSON(t, db, "mixpanel")
		for _, sub := range v.Subprocessors {
			j := slices.IndexFunc(res.Holders, func(h service.Holder) bool { return h.Vendor == sub })
			if j < 0 || !slices.ContainsFunc(res.Holders[j].Paths, func(p service.Path) bool {
				return slices.Equal(p.Chain, []string{"mixpanel", sub})
			}) {
				t.Errorf("subprocessor %s of mixpanel is not reported with path mixpanel → %s", sub, sub)
			}
		}
		table := ok(t, db, "data", "who-has", "user.contact.email")
		if !strings.Contains(table, "platform-dashboard → mixpanel") {
			t.Errorf("table output lacks the path:\n%s", table)
		}
		// Unknown categories get a suggestion.
		r := run(t, db, "data", "who-has", "user.contact.emial")
		if r.code != 1 || !strings.Contains(r.stderr, `did you mean "user.contact.email"`) {
			t.Errorf("who-has of a typo: %+v", r)
		}
	})
}

func vendorJSON(t *testing.T, db, id string) inventory.Vendor {
	t.Helper()
	var d service.VendorDetail
	if err := json.Unmarshal([]byte(ok(t, db, "vendors", "show", id, "--format", "json")), &d); err != nil {
		t.Fatal(err)
	}
	return d.Vendor
}

func TestExportApplyRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		dir := t.TempDir()
		for _, format := range []string{"yaml", "json"} {
			file := filepath.Join(dir, "inventory."+format)
			ok(t, db, "export", "--format", format, "-o", file)
			out := ok(t, db, "apply", "-f", file, "--prune")
			if !strings.Contains(out, "No changes") {
				t.Errorf("export %s then apply --prune is not a no-op:\n%s", format, out)
			}
			// The export also rebuilds the same inventory in an empty database.
			fresh := filepath.Join(t.TempDir(), "fresh.db")
			ok(t, fresh, "apply", "-f", file)
			again := filepath.Join(dir, "again."+format)
			ok(t, fresh, "export", "--format", format, "-o", again)
			if format == "yaml" && !sameExceptHeader(t, file, again) {
				t.Errorf("re-export from a fresh database differs")
			}
		}
		for _, kind := range []string{"vendors", "systems", "flows"} {
			out := ok(t, db, "export", "--format", "csv", "--kind", kind)
			if lines := strings.Count(out, "\n"); lines < 9 {
				t.Errorf("csv %s: %d lines", kind, lines)
			}
		}
		bom := ok(t, db, "export", "--format", "cyclonedx")
		var doc map[string]any
		if err := json.Unmarshal([]byte(bom), &doc); err != nil || doc["specVersion"] != "1.6" {
			t.Errorf("cyclonedx: %v %v", err, doc["specVersion"])
		}
	})
}

func sameExceptHeader(t *testing.T, a, b string) bool {
	t.Helper()
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		return s[strings.Index(s, "\n")+1:]
	}
	return read(a) == read(b)
}

func TestInvalidInputChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "apply", "-f", acme)
		before := ok(t, db, "export", "--format", "json")
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.yaml")
		// A valid change beside an invalid one: neither may be written.
		if err := os.WriteFile(bad, []byte(`vendors:
  - id: mixpanel
    catalog: mixpanel
    status: offboarded
flows:
  - system: platform-dashboard
    vendor: mixpanel
    id: extra
    purpose: analytics
    categories: [user.contact.emial]
`), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, db, "apply", "-f", bad)
		if r.code != 1 || !strings.Contains(r.stderr, bad+":10:18") || !strings.Contains(r.stderr, `did you mean "user.contact.email"`) {
			t.Fatalf("apply of a bad file: %+v", r)
		}
		if after := ok(t, db, "export", "--format", "json"); after != before {
			t.Fatal("a refused apply changed the inventory")
		}
		// Dry run prints the plan and writes nothing.
		good := filepath.Join(dir, "good.yaml")
		if err := os.WriteFile(good, []byte("vendors:\n  - id: mixpanel\n    catalog: mixpanel\n    status: offboarded\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := ok(t, db, "apply", "-f", good, "--dry-run")
		if !strings.Contains(out, "~ vendor mixpanel") || !strings.Contains(out, "Dry run") {
			t.Errorf("dry run output:\n%s", out)
		}
		if after := ok(t, db, "export", "--format", "json"); after != before {
			t.Fatal("a dry run changed the inventory")
		}
		// Without --prune, applying one file leaves everything else alone.
		ok(t, db, "apply", "-f", good)
		if v := vendorJSON(t, db, "mixpanel"); v.Status != "offboarded" {
			t.Errorf("status = %s", v.Status)
		}
		if n := len(listVendors(t, db)); n < 25 {
			t.Errorf("apply without prune deleted vendors: %d left", n)
		}
	})
}

func listVendors(t *testing.T, db string, args ...string) []inventory.Vendor {
	t.Helper()
	var vs []inventory.Vendor
	if err := json.Unmarshal([]byte(ok(t, db, append([]string{"vendors", "list", "--format", "json"}, args...)...)), &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestObjectCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		ok(t, db, "vendors", "add", "--catalog", "mixpanel", "--status", "active", "--owner", "growth")
		ok(t, db, "vendors", "add", "tiny-crm", "--name", "Tiny CRM", "--category", "crm-marketing", "--domain", "tinycrm.example", "--subprocessor", "mixpanel")
		r := run(t, db, "vendors", "add", "tiny-crm", "--name", "Again", "--category", "other")
		if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
			t.Errorf("duplicate add: %+v", r)
		}
		r = run(t, db, "vendors", "add", "bad", "--name", "B", "--category", "analytic")
		if r.code != 1 || !strings.Contains(r.stderr, `did you mean "analytics"`) {
			t.Errorf("bad category: %+v", r)
		}
		ok(t, db, "systems", "add", "web", "--name", "Web app", "--owner", "web-team")
		ok(t, db, "flows", "add", "--system", "web", "--vendor", "mixpanel", "--category", "user.contact.email,user.name", "--purpose", "analytics", "--subject", "customer")
		ok(t, db, "vendors", "set", "mixpanel", "--add-tag", "incident-2025-11", "--criticality", "high")
		v := vendorJSON(t, db, "mixpanel")
		if v.Name != "Mixpanel" || v.Owner != "growth" || v.Criticality != "high" || !slices.Contains(v.Tags, "incident-2025-11") || v.Revision != 2 {
			t.Errorf("vendor after set: %+v", v)
		}
		if got := listVendors(t, db, "--tag", "incident-2025-11"); len(got) != 1 {
			t.Errorf("filter by tag: %d", len(got))
		}
		var flows []inventory.Flow
		if err := json.Unmarshal([]byte(ok(t, db, "flows", "list", "--category", "user.contact", "--format", "json")), &flows); err != nil || len(flows) != 1 || flows[0].ID != "web.mixpanel" {
			t.Errorf("flows list --category user.contact: %+v %v", flows, err)
		}
		// Removing a vendor that flows and links use is refused, then cascades.
		r = run(t, db, "vendors", "rm", "mixpanel")
		if r.code != 1 || !strings.Contains(r.stderr, "web.mixpanel") || !strings.Contains(r.stderr, "tiny-crm") {
			t.Errorf("rm of a used vendor: %+v", r)
		}
		out := ok(t, db, "vendors", "rm", "mixpanel", "--cascade")
		if !strings.Contains(out, "- vendor mixpanel") || !strings.Contains(out, "- flow web.mixpanel") || !strings.Contains(out, "~ vendor tiny-crm") {
			t.Errorf("cascade plan:\n%s", out)
		}
		r = run(t, db, "vendors", "show", "mixpanel")
		if r.code != 1 || !strings.Contains(r.stderr, "not found") {
			t.Errorf("show of a removed vendor: %+v", r)
		}
		ok(t, db, "systems", "rm", "web")
		if out := ok(t, db, "systems", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
			t.Errorf("systems after rm: %s", out)
		}
	})
}

func TestHostileTextIsSanitized(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	evil := "Evil\x1b[2J\x1b]0;pwned\x07 Corp"
	ok(t, db, "vendors", "add", "evil", "--name", evil, "--category", "other")
	out := ok(t, db, "vendors", "list")
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Fatalf("control characters reached the terminal: %q", out)
	}
	// JSON keeps the exact value, escaped.
	if v := vendorJSON(t, db, "evil"); v.Name != evil {
		t.Errorf("JSON name = %q", v.Name)
	}
}

func TestUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	for _, args := range [][]string{
		{"vendors", "list", "--format", "xml"},
		{"vendors", "list", "--no-such-flag"},
		{"apply"},
	} {
		if r := run(t, db, args...); r.code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, r.code, r.stderr)
		}
	}
	if r := run(t, "mysql://x", "vendors", "list"); r.code != 1 || !strings.Contains(r.stderr, "postgres://") {
		t.Errorf("unknown database scheme: %+v", r)
	}
	if r := run(t, "postgres://u:secret@127.0.0.1:1/x?connect_timeout=1", "vendors", "list"); r.code != 1 || strings.Contains(r.stderr, "secret") {
		t.Errorf("an unreachable database must fail without printing the password: %+v", r)
	}
}

func TestCatalogAndTaxonomy(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	out := ok(t, db, "catalog", "search", "mixpanel")
	if !strings.HasPrefix(strings.SplitN(out, "\n", 3)[1], "mixpanel ") {
		t.Errorf("catalog search mixpanel:\n%s", out)
	}
	out = ok(t, db, "catalog", "show", "mixpanel")
	if !strings.Contains(out, "api.mixpanel.com") || !strings.Contains(out, "mixpanel-browser") {
		t.Errorf("catalog show:\n%s", out)
	}
	if r := run(t, db, "catalog", "show", "mixpannel"); r.code != 1 || !strings.Contains(r.stderr, `did you mean "mixpanel"`) {
		t.Errorf("catalog show typo: %+v", r)
	}
	out = ok(t, db, "taxonomy", "list", "--under", "user.name")
	if strings.Count(out, "\n") != 4 {
		t.Errorf("taxonomy list --under user.name:\n%s", out)
	}
}

func TestImportCSV(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		dir := t.TempDir()
		sheet := filepath.Join(dir, "vendors.csv")
		if err := os.WriteFile(sheet, []byte("Vendor Name,Website,Service Type,Business Owner,Risk Tier,Contract End\n"+
			"Mixpanel,https://mixpanel.com,Product Analytics,Growth,Tier 2,2026-01-31\n"+
			"Acme Payroll,https://acmepayroll.example,Payroll,HR,Tier 1,2027-06-30\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := ok(t, db, "import", "csv", sheet, "--dry-run")
		if !strings.Contains(out, "Contract End") || !strings.Contains(out, "+ vendor mixpanel") || !strings.Contains(out, "Dry run") {
			t.Errorf("import dry run:\n%s", out)
		}
		if n := len(listVendors(t, db)); n != 0 {
			t.Fatalf("dry run wrote %d vendors", n)
		}
		ok(t, db, "import", "csv", sheet)
		vs := listVendors(t, db)
		if len(vs) != 2 {
			t.Fatalf("imported %d vendors", len(vs))
		}
		m := vendorJSON(t, db, "mixpanel")
		if m.Catalog != "mixpanel" || m.Category != "analytics" || m.Criticality != "high" || m.Owner != "Growth" {
			t.Errorf("mixpanel from the sheet: %+v", m)
		}
		// A second import updates only what the sheet says.
		ok(t, db, "vendors", "set", "mixpanel", "--add-tag", "keep-me")
		ok(t, db, "import", "csv", sheet)
		if m := vendorJSON(t, db, "mixpanel"); !slices.Contains(m.Tags, "keep-me") {
			t.Errorf("re-import blanked tags: %+v", m)
		}
		// A row without an id is matched by what identifies the vendor
		// (its catalog entry, else its domain), not by how the sheet
		// spells its name; an id the sheet gives is taken as given.
		again := filepath.Join(dir, "again.csv")
		if err := os.WriteFile(again, []byte("Vendor Name,Website,Business Owner\n"+
			"Mixpanel Inc.,https://www.mixpanel.com,Data team\n"+
			"Acme Payroll Ltd,acmepayroll.example,People\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := ok(t, db, "import", "csv", again); strings.Contains(out, "+ vendor") {
			t.Errorf("re-import under other names added vendors:\n%s", out)
		}
		if vs := listVendors(t, db); len(vs) != 2 {
			t.Errorf("%d vendors after a re-import under other names", len(vs))
		}
		if m := vendorJSON(t, db, "mixpanel"); m.Name != "Mixpanel" || m.Owner != "Data team" {
			t.Errorf("mixpanel after the re-import: name %q, owner %q", m.Name, m.Owner)
		}
		second := filepath.Join(dir, "second.csv")
		if err := os.WriteFile(second, []byte("id,Vendor Name,Website\nmixpanel-eu,Mixpanel EU,https://mixpanel.com\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := ok(t, db, "import", "csv", second); !strings.Contains(out, "+ vendor mixpanel-eu") {
			t.Errorf("an explicit id was merged into another vendor:\n%s", out)
		}
		ok(t, db, "vendors", "rm", "mixpanel-eu")

		// Malformed CSV: a precise error, nothing written.
		bad := filepath.Join(dir, "bad.csv")
		if err := os.WriteFile(bad, []byte("Vendor Name,Website\n\"Unclosed,https://x.example\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, db, "import", "csv", bad)
		if r.code != 1 || !strings.Contains(r.stderr, "bad.csv:") {
			t.Errorf("malformed csv: %+v", r)
		}
		if n := len(listVendors(t, db)); n != 2 {
			t.Errorf("a failed import changed the vendor count to %d", n)
		}
	})
}
