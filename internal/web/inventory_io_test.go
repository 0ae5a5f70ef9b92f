package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/cli"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/web"
)

// part is a file or a field of a multipart form.
type part struct {
	field, file string // file "" for a plain field
	data        []byte
}

func multipartBody(t *testing.T, parts []part) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.file != "" {
			w, err = mw.CreateFormFile(p.field, p.file)
		} else {
			w, err = mw.CreateFormField(p.field)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), b.Bytes()
}

// post sends a multipart form as a browser does, with the session cookie,
// without following redirects.
func (e *env) post(path, cookie string, parts []part) pageResp {
	e.t.Helper()
	ct, body := multipartBody(e.t, parts)
	hr, err := http.NewRequest("POST", e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	hr.Header.Set("Content-Type", ct)
	hr.AddCookie(&http.Cookie{Name: web.CookieName, Value: cookie})
	res, err := e.ts.Client().Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return pageResp{res.StatusCode, res.Header, string(b)}
}

// upload posts inventory files (and prune) to the import form.
func (e *env) upload(cookie string, prune bool, files ...part) pageResp {
	e.t.Helper()
	if prune {
		files = append(files, part{field: "prune", data: []byte("true")})
	}
	return e.post("/inventory/import", cookie, files)
}

func yamlFile(name, content string) part {
	return part{field: "file", file: name, data: []byte(content)}
}

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)">`)

// confirm posts the plan page's confirm form back, as the button does;
// edit may change its fields first.
func (e *env) confirm(cookie, planPage string, edit func([]part) []part) pageResp {
	e.t.Helper()
	var parts []part
	for _, m := range hiddenRe.FindAllStringSubmatch(planPage, -1) {
		parts = append(parts, part{field: m[1], data: []byte(html.UnescapeString(m[2]))})
	}
	if len(parts) == 0 {
		e.t.Fatalf("the plan page has no confirm form: %.2000s", mainOf(planPage))
	}
	if edit != nil {
		parts = edit(parts)
	}
	return e.post("/inventory/apply", cookie, parts)
}

// export reads the inventory through the UI.
func (e *env) export(cookie, query string) pageResp {
	e.t.Helper()
	res := e.page(pageReq{path: "/inventory/export?" + query, cookie: cookie})
	if res.status != 200 {
		e.t.Fatalf("export %s: %d %.500s", query, res.status, mainOf(res.body))
	}
	return res
}

// cliOut runs the command line against db and returns its output.
func cliOut(t *testing.T, db string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := cli.Main(append([]string{"--db", db}, args...), strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("weaklink %s: %d %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// TestUIExportImport: each export is a download, the YAML one the CLI's
// byte for byte; importing an export plans no change; a new vendor is
// planned, shown, and applied on confirmation; confirming again is
// refused as stale.
func TestUIExportImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("editor")
		page := e.okPage("/inventory", sess)
		for _, want := range []string{`action="/inventory/import" enctype="multipart/form-data"`, `<label for="file">`, `<label for="prune">`,
			`href="/inventory/export?format=cyclonedx"`, `href="/inventory/export?format=csv&amp;kind=flows"`} {
			if !strings.Contains(page, want) {
				t.Errorf("/inventory lacks %q", want)
			}
		}
		for _, tc := range []struct{ query, ctype, file string }{
			{"format=yaml", "application/yaml; charset=utf-8", "weaklink-inventory.yaml"},
			{"format=json", "application/json", "weaklink-inventory.json"},
			{"format=csv&kind=systems", "text/csv; charset=utf-8", "weaklink-systems.csv"},
			{"format=csv", "text/csv; charset=utf-8", "weaklink-vendors.csv"},
			{"format=cyclonedx", "application/vnd.cyclonedx+json; version=1.6", "weaklink-inventory.cdx.json"},
		} {
			res := e.export(sess, tc.query)
			_, params, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
			if res.header.Get("Content-Type") != tc.ctype || err != nil || params["filename"] != tc.file ||
				!strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment") {
				t.Errorf("%s: %q %q", tc.query, res.header.Get("Content-Type"), res.header.Get("Content-Disposition"))
			}
		}
		if res := e.page(pageReq{path: "/inventory/export?format=xml", cookie: sess}); res.status != 400 || !strings.Contains(res.body, "format: &#34;xml&#34;: use one of yaml, json, csv, cyclonedx") {
			t.Errorf("bad format: %d %.300s", res.status, mainOf(res.body))
		}
		yamlDoc := e.export(sess, "format=yaml").body
		if want := cliOut(t, db, "export", "--format", "yaml"); yamlDoc != want {
			t.Errorf("the UI's YAML export differs from the CLI's")
		}
		jsonDoc := e.export(sess, "format=json").body

		// Export, then import: no changes, and nothing to confirm.
		for name, doc := range map[string]string{"inventory.yaml": yamlDoc, "inventory.json": jsonDoc} {
			for _, prune := range []bool{false, true} {
				res := e.upload(sess, prune, yamlFile(name, doc))
				if res.status != 200 || !strings.Contains(res.body, "No changes: the inventory matches.") || strings.Contains(res.body, `action="/inventory/apply"`) {
					t.Errorf("%s (prune %t): %d %.1500s", name, prune, res.status, mainOf(res.body))
				}
				checkUIHeaders(t, "plan", res)
			}
		}

		// A change: planned, shown, applied on confirmation.
		add := "vendors:\n  - id: newco\n    name: NewCo\n    category: analytics\n    status: proposed\n" +
			"  - id: mixpanel\n    name: Mixpanel Inc\n    category: analytics\n    status: active\n    subprocessors: [gcp]\n"
		plan := e.upload(sess, false, yamlFile("add.yaml", add))
		if plan.status != 200 {
			t.Fatalf("plan: %d %.2000s", plan.status, mainOf(plan.body))
		}
		for _, want := range []string{"+ vendor newco", "~ vendor mixpanel", "Plan: 1 to create, 1 to update, 0 to delete.",
			`action="/inventory/apply"`, "Nothing has been written yet.", "add.yaml"} {
			if !strings.Contains(html.UnescapeString(plan.body), want) {
				t.Errorf("the plan page lacks %q: %.3000s", want, mainOf(plan.body))
			}
		}
		if _, err := e.store.GetVendor(ctx, "newco"); err == nil {
			t.Fatal("the plan wrote")
		}
		res := e.confirm(sess, plan.body, nil)
		if res.status != 200 || !strings.Contains(res.body, "Applied in one transaction: Plan: 1 to create, 1 to update, 0 to delete.") {
			t.Fatalf("apply: %d %.2000s", res.status, mainOf(res.body))
		}
		if v, err := e.store.GetVendor(ctx, "newco"); err != nil || v.Name != "NewCo" {
			t.Errorf("newco: %v %v", v, err)
		}
		if v, _ := e.store.GetVendor(ctx, "mixpanel"); v.Name != "Mixpanel Inc" {
			t.Errorf("mixpanel: %q", v.Name)
		}
		// Confirming the same plan again: the inventory moved on.
		before := e.export(sess, "format=json").body
		res = e.confirm(sess, plan.body, nil)
		if res.status != 409 || !strings.Contains(res.body, "The inventory changed since this plan was made") {
			t.Errorf("second apply: %d %.1000s", res.status, mainOf(res.body))
		}
		if after := e.export(sess, "format=json").body; after != before {
			t.Error("a refused apply changed the inventory")
		}
		// Prune: what the file leaves out is deleted.
		plan = e.upload(sess, true, yamlFile("all.yaml", yamlDoc))
		if !strings.Contains(html.UnescapeString(plan.body), "- vendor newco") || !strings.Contains(plan.body, "yes: stored objects the files leave out are deleted") {
			t.Errorf("prune plan: %.2000s", mainOf(plan.body))
		}
		if res := e.confirm(sess, plan.body, nil); res.status != 200 {
			t.Fatalf("prune apply: %d", res.status)
		}
		if e.export(sess, "format=yaml").body == yamlDoc {
			t.Error("the version in the header should have moved")
		}
		if res := e.upload(sess, true, yamlFile("all.yaml", yamlDoc)); !strings.Contains(res.body, "No changes") {
			t.Error("after prune, the first export is the inventory again")
		}
		e.checkLogs()
	})
}

// TestUIImportErrors: a syntax error and an unknown field are shown with
// file:line:column and change nothing; an upload without a file is a 400.
func TestUIImportErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("admin")
		before := e.export(sess, "format=json").body
		for _, tc := range []struct {
			files []part
			want  []string
		}{
			{[]part{yamlFile("bad.yaml", "vendors:\n  - id: newco\n    name: [oops\n")},
				[]string{"bad.yaml:2: invalid YAML: did not find expected"}},
			{[]part{yamlFile("typo.yaml", "vendors:\n  - id: newco\n    nmae: NewCo\n    category: analytics\n"),
				yamlFile("ok.yaml", "systems: []\n"), yamlFile("flows.yaml", "flows:\n  - system: nope\n    vendor: newco\n    categories: [user.contact.emial]\n")},
				[]string{`typo.yaml:3:5: vendor &#34;newco&#34;: nmae: unknown field (did you mean &#34;name&#34;?)`}},
			{[]part{yamlFile("refs.yaml", "flows:\n  - system: nope\n    vendor: newco\n    purpose: analytics\n    categories: [user.contact.emial]\n")},
				[]string{"refs.yaml:", "user.contact.emial", `did you mean &#34;user.contact.email&#34;`}},
		} {
			res := e.upload(sess, false, tc.files...)
			if res.status != 400 || !strings.Contains(res.body, "Nothing was changed.") || !strings.Contains(res.body, `<ul class="issues">`) {
				t.Errorf("%s: %d %.2000s", tc.files[0].file, res.status, mainOf(res.body))
			}
			for _, w := range tc.want {
				if !strings.Contains(res.body, w) {
					t.Errorf("%s: the page lacks %q: %.3000s", tc.files[0].file, w, mainOf(res.body))
				}
			}
			checkUIHeaders(t, "refused upload", res)
		}
		if res := e.upload(sess, false); res.status != 400 || !strings.Contains(res.body, "Choose an inventory file") {
			t.Errorf("no file: %d %.500s", res.status, mainOf(res.body))
		}
		if res := e.page(pageReq{method: "POST", path: "/inventory/import", cookie: sess, form: map[string][]string{"x": {"y"}}}); res.status != 400 {
			t.Errorf("not multipart: %d", res.status)
		}
		// A damaged or incomplete confirm form.
		for _, parts := range [][]part{
			{{field: "version", data: []byte("1")}},
			{{field: "name", data: []byte("a.yaml")}, {field: "doc", data: []byte("not base64!")}, {field: "version", data: []byte("1")}, {field: "digest", data: []byte("x")}},
		} {
			if res := e.post("/inventory/apply", sess, parts); res.status != 400 {
				t.Errorf("damaged confirm form: %d %.500s", res.status, mainOf(res.body))
			}
		}
		if after := e.export(sess, "format=json").body; after != before {
			t.Error("a refused upload changed the inventory")
		}
	})
}

// TestUIImportPermissions: a viewer sees the exports but no upload form,
// and may not post one.
func TestUIImportPermissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		before := e.export(e.session("admin"), "format=json").body
		for _, role := range []string{"viewer", "auditor"} {
			sess := e.session(role)
			page := e.okPage("/inventory", sess)
			if strings.Contains(page, "/inventory/import") || strings.Contains(page, `type="file"`) || !strings.Contains(page, `href="/inventory/export?format=yaml"`) {
				t.Errorf("%s: the page: %.2000s", role, mainOf(page))
			}
			e.export(sess, "format=yaml")
			for _, path := range []string{"/inventory/import", "/inventory/apply"} {
				res := e.post(path, sess, []part{yamlFile("x.yaml", "vendors:\n  - id: newco\n    name: NewCo\n    category: analytics\n")})
				if res.status != 403 || !strings.Contains(res.body, "may not see this page") {
					t.Errorf("%s POST %s: %d", role, path, res.status)
				}
			}
		}
		if res := e.page(pageReq{path: "/inventory", cookie: e.session("gateway")}); res.status != 403 {
			t.Errorf("gateway: %d", res.status)
		}
		if after := e.export(e.session("admin"), "format=json").body; after != before {
			t.Error("the inventory changed")
		}
	})
}

// TestUIImportStalePlan: a plan made before another change is refused,
// and so is a plan other than the one shown.
func TestUIImportStalePlan(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("editor")
		plan := e.upload(sess, false, yamlFile("add.yaml", "vendors:\n  - id: newco\n    name: NewCo\n    category: analytics\n"))
		if plan.status != 200 || !strings.Contains(html.UnescapeString(plan.body), "+ vendor newco") {
			t.Fatalf("plan: %d %.1000s", plan.status, mainOf(plan.body))
		}
		// A tampered plan: another document under the same digest.
		res := e.confirm(sess, plan.body, func(ps []part) []part {
			other := e.upload(sess, false, yamlFile("add.yaml", "vendors:\n  - id: otherco\n    name: OtherCo\n    category: analytics\n"))
			for _, m := range hiddenRe.FindAllStringSubmatch(other.body, -1) {
				for i := range ps {
					if ps[i].field == "doc" && m[1] == "doc" {
						ps[i].data = []byte(html.UnescapeString(m[2]))
					}
				}
			}
			return ps
		})
		if res.status != 409 || !strings.Contains(res.body, "This is not the plan that was shown") {
			t.Errorf("tampered: %d %.1000s", res.status, mainOf(res.body))
		}
		// Someone else changes the inventory in between.
		if _, err := e.svc.AddVendor(ctx, inventory.Vendor{ID: "meanwhile", Name: "Meanwhile", Category: "other"}); err != nil {
			t.Fatal(err)
		}
		before := e.export(sess, "format=json").body
		res = e.confirm(sess, plan.body, nil)
		if res.status != 409 || !strings.Contains(res.body, "The inventory changed since this plan was made: nothing was applied") {
			t.Errorf("stale: %d %.1000s", res.status, mainOf(res.body))
		}
		checkUIHeaders(t, "stale", res)
		for _, id := range []string{"newco", "otherco"} {
			if _, err := e.store.GetVendor(ctx, id); err == nil {
				t.Errorf("%s was created", id)
			}
		}
		if after := e.export(sess, "format=json").body; after != before {
			t.Error("the inventory changed")
		}
	})
}

// TestUIImportEscapes: hostile text in an upload (names, field keys, the
// file name) is shown as text on the plan and error pages.
func TestUIImportEscapes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("editor")
		hostile := `<script>alert(1)</script>`
		doc := "vendors:\n  - id: mixpanel\n    name: '" + hostile + "'\n    category: analytics\n    status: active\n" +
			"    description: '\"><img src=x onerror=alert(1)>'\n    subprocessors: [gcp]\n"
		res := e.upload(sess, false, yamlFile(`<b>x<b>.yaml`, doc))
		if res.status != 200 || !strings.Contains(res.body, "~ vendor mixpanel") {
			t.Fatalf("plan: %d %.1000s", res.status, mainOf(res.body))
		}
		res2 := e.upload(sess, false, yamlFile("keys.yaml", "vendors:\n  - id: newco\n    '<img src=x onerror=alert(1)>': 1\n"))
		if res2.status != 400 || !strings.Contains(res2.body, "&lt;img src=x onerror=alert(1)&gt;: unknown field") {
			t.Errorf("hostile key: %d %.1500s", res2.status, mainOf(res2.body))
		}
		for _, body := range []string{res.body, res2.body} {
			body = withoutAppScript(body)
			for _, bad := range []string{"<script", "<img", "<b>"} {
				if strings.Contains(body, bad) {
					t.Errorf("the page holds %q unescaped", bad)
				}
			}
		}
		if !strings.Contains(res.body, "&lt;b&gt;x&lt;b&gt;.yaml") {
			t.Error("the file name is not shown escaped")
		}
	})
}

// TestUIImportTooLarge: an upload over 10 MiB is refused with 413 and
// says why.
func TestUIImportTooLarge(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("editor")
		big := append([]byte("# "), bytes.Repeat([]byte("x"), 10<<20)...)
		res := e.upload(sess, false, part{field: "file", file: "big.yaml", data: big})
		if res.status != 413 || !strings.Contains(res.body, "The inventory is larger than 10 MiB") {
			t.Errorf("too large: %d %.1000s", res.status, mainOf(res.body))
		}
		checkUIHeaders(t, "413", res)
		// Two files that are too large together.
		half := bytes.Repeat([]byte("#"), 6<<20)
		res = e.upload(sess, false, part{field: "file", file: "a.yaml", data: half}, part{field: "file", file: "b.yaml", data: half})
		if res.status != 413 {
			t.Errorf("two halves: %d", res.status)
		}
	})
}

// TestAPIInventory: export, plan and apply over the API, round trip and
// errors; the plan is the CLI's dry run and matches the OpenAPI schema.
func TestAPIInventory(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		v := newValidator(t, e.ok(req{method: "GET", path: "/api/v1/openapi.json"}, 200, nil).body)
		editor := e.tokens["editor"]
		yamlDoc := e.ok(req{method: "GET", path: "/api/v1/inventory", bearer: e.tokens["viewer"]}, 200, nil)
		if yamlDoc.header.Get("Content-Type") != "application/yaml; charset=utf-8" || !strings.Contains(yamlDoc.header.Get("Content-Disposition"), "weaklink-inventory.yaml") {
			t.Errorf("export headers: %v", yamlDoc.header)
		}
		if want := cliOut(t, db, "export"); string(yamlDoc.body) != want {
			t.Error("the API's export differs from the CLI's")
		}
		jsonDoc := e.ok(req{method: "GET", path: "/api/v1/inventory?format=json", bearer: editor}, 200, nil)
		cdx := e.ok(req{method: "GET", path: "/api/v1/inventory?format=cyclonedx&strict_fideslang=true", bearer: editor}, 200, nil)
		if !json.Valid(cdx.body) || !strings.Contains(string(cdx.body), `"bomFormat"`) {
			t.Errorf("cyclonedx: %.300s", cdx.body)
		}
		for path, field := range map[string]string{
			"/api/v1/inventory?format=yaml&kind=flows":         "kind",
			"/api/v1/inventory?format=xml":                     "format",
			"/api/v1/inventory?format=json&strict_fideslang=1": "strict_fideslang",
		} {
			if res := e.do(req{method: "GET", path: path, bearer: editor}); res.status != 400 || res.apiErr(t).Field != field {
				t.Errorf("%s: %d %s", path, res.status, res.body)
			}
		}

		// Round trip: the export plans no change, in YAML and in JSON.
		for ct, doc := range map[string][]byte{"application/yaml": yamlDoc.body, "application/json": jsonDoc.body} {
			var p web.InventoryPlan
			res := e.ok(req{method: "POST", path: "/api/v1/inventory/plan?prune=true", bearer: editor, body: doc, header: map[string]string{"Content-Type": ct}}, 200, &p)
			v.check(t, "InventoryPlan", res.body)
			if !p.DryRun || p.Applied || p.Create+p.Update+p.Delete != 0 || len(p.Changes) != 0 || p.Version == 0 {
				t.Errorf("%s round trip: %+v", ct, p)
			}
		}

		// A change: the plan is the CLI's dry run.
		add := "vendors:\n  - id: newco\n    name: NewCo\n    category: analytics\n"
		file := t.TempDir() + "/add.yaml"
		if err := os.WriteFile(file, []byte(add), 0o644); err != nil {
			t.Fatal(err)
		}
		yamlCT := map[string]string{"Content-Type": "application/yaml"}
		var p web.InventoryPlan
		e.ok(req{method: "POST", path: "/api/v1/inventory/plan", bearer: editor, body: add, header: yamlCT}, 200, &p)
		var cliPlan, apiPlan map[string]any
		if err := json.Unmarshal([]byte(cliOut(t, db, "apply", "--dry-run", "--format", "json", "-f", file)), &cliPlan); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(p)
		_ = json.Unmarshal(b, &apiPlan)
		delete(apiPlan, "version")
		if !reflect.DeepEqual(cliPlan, apiPlan) {
			t.Errorf("the API's plan:\n%s\nthe CLI's:\n%v", b, cliPlan)
		}
		if p.Create != 1 || p.Changes[0].ID != "newco" {
			t.Errorf("plan: %+v", p)
		}
		// Apply refuses a stale version, then applies.
		res := e.do(req{method: "POST", path: "/api/v1/inventory/apply?version=" + strconv.FormatInt(p.Version-1, 10), bearer: editor, body: add, header: yamlCT})
		if res.status != 409 || res.apiErr(t).Code != "conflict" || !strings.Contains(res.apiErr(t).Message, "changed since the plan was made") {
			t.Errorf("stale apply: %d %s", res.status, res.body)
		}
		if _, err := e.store.GetVendor(ctx, "newco"); err == nil {
			t.Fatal("a stale apply wrote")
		}
		var applied web.InventoryPlan
		res = e.ok(req{method: "POST", path: "/api/v1/inventory/apply?version=" + strconv.FormatInt(p.Version, 10), bearer: editor, body: add, header: yamlCT}, 200, &applied)
		v.check(t, "InventoryPlan", res.body)
		if !applied.Applied || applied.DryRun || applied.Create != 1 {
			t.Errorf("apply: %+v", applied)
		}
		if _, err := e.store.GetVendor(ctx, "newco"); err != nil {
			t.Error("apply did not write")
		}
		if res := e.ok(req{method: "POST", path: "/api/v1/inventory/apply", bearer: editor, body: add, header: yamlCT}, 200, &applied); applied.Applied {
			t.Errorf("applying again: %s", res.body)
		}

		// Several files as multipart parts: positions name them.
		ct, body := multipartBody(t, []part{yamlFile("a.yaml", "vendors: []\n"), yamlFile("b.yaml", "vendors:\n  - id: x\n    nmae: X\n")})
		res = e.do(req{method: "POST", path: "/api/v1/inventory/plan", bearer: editor, body: body, header: map[string]string{"Content-Type": ct}})
		if res.status != 400 || !strings.Contains(res.apiErr(t).Message, "b.yaml:3:5:") {
			t.Errorf("multipart: %d %s", res.status, res.body)
		}

		// Refusals change nothing.
		before := e.ok(req{method: "GET", path: "/api/v1/inventory?format=json", bearer: editor}, 200, nil).body
		for _, tc := range []struct {
			r      req
			status int
			want   string
		}{
			{req{body: "vendors:\n  - id: x\n    name: [oops\n", header: yamlCT}, 400, "body:2: invalid YAML"},
			{req{body: "vendors:\n  - id: x\n    nmae: X\n", header: yamlCT}, 400, `body:3:5: vendor "x": nmae: unknown field (did you mean "name"?)`},
			{req{body: "", header: yamlCT}, 400, "the body is required"},
			{req{body: add, header: map[string]string{"Content-Type": "text/plain"}}, 415, "application/yaml"},
			{req{body: bytes.Repeat([]byte("#"), 10<<20+1), header: yamlCT}, 413, "larger than 10 MiB"},
			{req{bearer: e.tokens["viewer"], body: add, header: yamlCT}, 403, "inventory:write"},
			{req{cookie: e.session("editor"), bearer: "-", body: body, header: map[string]string{"Content-Type": ct}}, 415, "multipart/form-data"},
		} {
			for _, path := range []string{"/api/v1/inventory/plan", "/api/v1/inventory/apply?prune=true"} {
				r := tc.r
				r.method, r.path = "POST", path
				switch r.bearer {
				case "":
					r.bearer = editor
				case "-":
					r.bearer = ""
				}
				res := e.do(r)
				if res.status != tc.status || !strings.Contains(res.apiErr(t).Message, tc.want) {
					t.Errorf("%s %q: %d %s", path, tc.want, res.status, res.body)
				}
			}
		}
		if after := e.ok(req{method: "GET", path: "/api/v1/inventory?format=json", bearer: editor}, 200, nil).body; !bytes.Equal(before, after) {
			t.Error("a refused request changed the inventory")
		}
		e.checkLogs()
	})
}

// mainOf is a page's main element, for failure messages.
func mainOf(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		return body[i:]
	}
	return body
}

// TestUIImportCSV: a vendor spreadsheet uploaded on the import page is
// read as weaklink import csv reads it: the page shows the columns it
// mapped, the rows it skipped and the plan of a merge (a row without an
// id updates the stored vendor its domain names, keeping the fields the
// sheet leaves blank); confirming applies exactly that, a stale or
// unreadable sheet changes nothing, and hostile cells are text.
func TestUIImportCSV(t *testing.T) {
	eachBackend(t, func(t *testing.T, db string) {
		e := newEnv(t, db, true)
		sess := e.session("editor")
		before, err := e.store.GetVendor(ctx, "mixpanel")
		if err != nil {
			t.Fatal(err)
		}
		sheet := "Vendor Name,Website,Business Owner,Category,Contract End\n" +
			"Mixpanel Inc.,https://www.mixpanel.com,Data team,,2027-01-31\n" +
			"<b>NewCo</b>,newco.example,Ops,other,\n" +
			",,,,\n"
		plan := e.upload(sess, false, part{field: "file", file: "vendors.csv", data: []byte(sheet)})
		body := html.UnescapeString(plan.body)
		for _, want := range []string{"~ vendor mixpanel", "+ vendor b-newco-b", "Business Owner", "Contract End", "not read (no vendor field)",
			`<input type="hidden" name="kind" value="csv">`} {
			if !strings.Contains(body, want) && !strings.Contains(plan.body, want) {
				t.Errorf("the plan page lacks %q: %.3000s", want, mainOf(plan.body))
			}
		}
		if plan.status != 200 || strings.Contains(plan.body, "<b>NewCo</b>") {
			t.Fatalf("plan: %d, hostile cell unescaped? %.2000s", plan.status, mainOf(plan.body))
		}
		// Nothing is written until the plan is confirmed.
		if v, _ := e.store.GetVendor(ctx, "mixpanel"); v.Owner != before.Owner {
			t.Fatal("the plan wrote")
		}
		res := e.confirm(sess, plan.body, nil)
		if res.status != 200 || !strings.Contains(res.body, "Applied in one transaction") {
			t.Fatalf("apply: %d %.2000s", res.status, mainOf(res.body))
		}
		v, err := e.store.GetVendor(ctx, "mixpanel")
		if err != nil || v.Owner != "Data team" || v.Name != before.Name || v.Description != before.Description {
			t.Errorf("mixpanel after the merge: owner %q name %q (want %q), description kept: %v", v.Owner, v.Name, before.Name, v.Description == before.Description)
		}
		if _, err := e.store.GetVendor(ctx, "b-newco-b"); err != nil {
			t.Errorf("the new vendor: %v", err)
		}
		// The same confirmation again: the inventory moved, nothing more.
		if res := e.confirm(sess, plan.body, nil); res.status != 409 {
			t.Errorf("a second confirmation: %d", res.status)
		}
		// An unreadable sheet: a precise error, nothing changed.
		bad := e.upload(sess, false, part{field: "file", file: "bad.csv", data: []byte("Vendor Name,Website\n\"Unclosed,https://x.example\n")})
		if bad.status != 400 || !strings.Contains(bad.body, "bad.csv:") || !strings.Contains(bad.body, "Nothing was changed") {
			t.Errorf("bad sheet: %d %.1500s", bad.status, mainOf(bad.body))
		}
		// Two sheets, or a sheet with prune: refused.
		if res := e.upload(sess, true, part{field: "file", file: "vendors.csv", data: []byte(sheet)}); res.status != 400 {
			t.Errorf("a sheet with prune: %d", res.status)
		}
	})
}
