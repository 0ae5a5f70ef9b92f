package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/textutil"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// The import and export pages. An upload is planned and shown, not
// applied: the plan page carries the uploaded documents (gzipped, in
// hidden fields, so that any server process can apply them) with the
// inventory version the plan was made against and a digest of the plan.
// Applying plans them again and refuses when the version moved (the
// store's stale-plan check guards the moment between) or the plan is not
// the one shown.

type inventoryPage struct {
	page
	CanWrite bool
	Exports  []exportLink
	MaxMiB   int
	// Problem and Issues say why an upload was refused; nothing changed.
	Problem string
	Issues  []string
	Prune   bool
}

type exportLink struct {
	Href, Label, Hint, CLI string
}

var exportLinks = []exportLink{
	{"/inventory/export?format=yaml", "Inventory-as-code (YAML)", "vendors, systems and flows; importing it back changes nothing", "--format yaml"},
	{"/inventory/export?format=json", "JSON", "the same, with revisions and timestamps", "--format json"},
	{"/inventory/export?format=csv&kind=vendors", "Vendors (CSV)", "one row per vendor, for a spreadsheet", "--format csv --kind vendors"},
	{"/inventory/export?format=csv&kind=systems", "Systems (CSV)", "one row per system", "--format csv --kind systems"},
	{"/inventory/export?format=csv&kind=flows", "Flows (CSV)", "one row per flow from a system to a vendor", "--format csv --kind flows"},
	{"/inventory/export?format=cyclonedx", "CycloneDX 1.6 BOM (JSON)", "vendors and systems as services, with classified data flows", "--format cyclonedx"},
}

func (s *Server) inventoryPage(c *uiCall) inventoryPage {
	return inventoryPage{page: c.page("Import and export", "inventory"), CanWrite: c.p.Can(auth.InventoryWrite),
		Exports: exportLinks, MaxMiB: maxInventoryUpload >> 20}
}

// uiInventory is GET /inventory.
func (s *Server) uiInventory(c *uiCall) {
	s.render(c.w, c.r, http.StatusOK, "inventory.html", s.inventoryPage(c))
}

// uiExport is GET /inventory/export: the inventory as a download.
func (s *Server) uiExport(c *uiCall) {
	o, err := exportOptions(c.r.URL.Query())
	if err == nil {
		var ex exported
		if ex, err = s.exportInventory(c.ctx, o); err == nil {
			ex.send(c.w)
			return
		}
	}
	s.uiFail(c, err)
}

// uiRefused shows the import page with why an upload was refused: the
// problems of the documents (400), or a request's (too large: 413).
func (s *Server) uiRefused(c *uiCall, err error, prune bool) {
	ip := s.inventoryPage(c)
	ip.Prune = prune
	var issues inventory.Issues
	var ae *apiError
	status := http.StatusBadRequest
	switch {
	case errors.As(err, &issues):
		ip.Problem = fmt.Sprintf("The upload has %s. Nothing was changed.", textutil.Plural(len(issues), "problem"))
		for _, i := range issues {
			ip.Issues = append(ip.Issues, i.String())
		}
	case errors.As(err, &ae):
		status = ae.status
		ip.Problem = upperFirst(ae.info.Message) + ". Nothing was changed."
	default:
		s.uiFail(c, err)
		return
	}
	s.render(c.w, c.r, status, "inventory.html", ip)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

type planPage struct {
	page
	Files   []string
	Prune   bool
	Text    string
	Summary string
	Empty   bool
	Applied bool
	// The confirm form's hidden fields.
	Docs    []hiddenDoc
	Version int64
	Digest  string
	// CSV marks a vendor spreadsheet (merged, as weaklink import csv
	// does, rather than applied); Report is what was read from it.
	CSV    bool
	Report *inventory.CSVReport
}

// hiddenDoc is an uploaded document carried by the plan page: its name
// and its content, gzipped and in base64.
type hiddenDoc struct {
	Name, Data string
}

// planDigest identifies a plan shown: the version it was made against,
// prune, and its full text.
func planDigest(version int64, prune bool, text string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\n%t\n%s", version, prune, text)
	return hex.EncodeToString(h.Sum(nil))
}

func planText(plan inventory.Plan) string {
	var b strings.Builder
	_ = plan.WriteText(&b, 0)
	return b.String()
}

func formBool(vals []string) bool {
	return len(vals) > 0 && (vals[0] == "true" || vals[0] == "on")
}

// uiImport is POST /inventory/import: read the upload and show its plan.
func (s *Server) uiImport(c *uiCall) {
	form, err := readMultipart(c.w, c.r, maxInventoryUpload, maxFormOverhead)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	prune := formBool(form.fields["prune"])
	files := form.files["file"]
	if len(files) == 0 {
		s.uiRefused(c, newError(http.StatusBadRequest, "invalid_body", "choose an inventory file (YAML or JSON) or a vendor spreadsheet (CSV) to upload"), prune)
		return
	}
	if isCSVUpload(files) {
		if len(files) > 1 || prune {
			s.uiRefused(c, newError(http.StatusBadRequest, "invalid_body", "upload one vendor spreadsheet (CSV) at a time, without prune: a spreadsheet is merged into the stored vendors, never a whole inventory"), false)
			return
		}
		s.uiImportCSV(c, files[0])
		return
	}
	doc, err := decodeInventory(files)
	if err != nil {
		s.uiRefused(c, err, prune)
		return
	}
	plan, version, err := s.svc.Plan(c.ctx, doc, prune)
	if err != nil {
		s.uiRefused(c, err, prune)
		return
	}
	text := planText(plan)
	pp := planPage{page: c.page("Plan", "inventory"), Prune: prune, Text: text, Summary: plan.Summary(), Empty: plan.Empty(),
		Version: version, Digest: planDigest(version, prune, text)}
	for _, f := range files {
		pp.Files = append(pp.Files, f.Name)
		data, err := pack(f.Data)
		if err != nil {
			s.uiFail(c, err)
			return
		}
		pp.Docs = append(pp.Docs, hiddenDoc{Name: f.Name, Data: data})
	}
	s.render(c.w, c.r, http.StatusOK, "plan.html", pp)
}

// maxHiddenDocs bounds the confirm form's documents: gzip can grow
// incompressible input a little, and base64 by a third.
const maxHiddenDocs = maxInventoryUpload * 3 / 2

// uiApply is POST /inventory/apply: apply the plan shown, if it is still
// the plan.
func (s *Server) uiApply(c *uiCall) {
	form, err := readMultipart(c.w, c.r, 0, maxHiddenDocs)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	f := form.fields
	prune := formBool(f["prune"])
	version, verr := strconv.ParseInt(strings.Join(f["version"], ""), 10, 64)
	if len(f["doc"]) == 0 || len(f["doc"]) != len(f["name"]) || verr != nil || len(f["digest"]) != 1 {
		s.uiRefused(c, newError(http.StatusBadRequest, "invalid_body", "the form is incomplete: upload the file again"), prune)
		return
	}
	if strings.Join(f["kind"], "") == "csv" {
		s.uiApplyCSV(c, f, version)
		return
	}
	var files []inventoryFile
	total := 0
	for i, d := range f["doc"] {
		b, err := unpack(d, maxInventoryUpload-total)
		if err != nil {
			s.uiRefused(c, err, prune)
			return
		}
		total += len(b)
		files = append(files, inventoryFile{Name: uploadName(f["name"][i], "upload"), Data: b})
	}
	doc, err := decodeInventory(files)
	if err != nil {
		s.uiRefused(c, err, prune)
		return
	}
	plan, now, err := s.svc.Plan(c.ctx, doc, prune)
	if err != nil {
		s.uiRefused(c, err, prune)
		return
	}
	text := planText(plan)
	if !s.applyShown(c, plan, now, version, planDigest(now, prune, text), f["digest"][0], prune) {
		return
	}
	pp := planPage{page: c.page("Applied", "inventory"), Prune: prune, Text: text, Summary: plan.Summary(), Empty: plan.Empty(), Applied: true}
	for _, fl := range files {
		pp.Files = append(pp.Files, fl.Name)
	}
	s.render(c.w, c.r, http.StatusOK, "plan.html", pp)
}

// applyShown applies plan, planned again at version now, if it is the
// plan that was shown (made at version, with the digest shown) and the
// inventory has not moved since; otherwise, or if the write fails, it
// writes the refusal and returns false.
func (s *Server) applyShown(c *uiCall, plan inventory.Plan, now, version int64, digest, shown string, prune bool) bool {
	switch {
	case now != version:
		s.uiRefused(c, uiStale(), prune)
		return false
	case digest != shown:
		s.uiRefused(c, newError(http.StatusConflict, "conflict", "this is not the plan that was shown: nothing was applied; upload the file again"), prune)
		return false
	}
	if !plan.Empty() {
		if err := s.svc.ApplyPlan(c.ctx, version, plan); err != nil {
			if errors.Is(err, store.ErrConflict) {
				err = uiStale()
			}
			s.uiRefused(c, err, prune)
			return false
		}
	}
	return true
}

func uiStale() *apiError {
	return newError(http.StatusConflict, "conflict",
		"the inventory changed since this plan was made: nothing was applied; upload the file again to see what it would change now")
}

// pack gzips and base64-encodes a document for a hidden field.
func pack(b []byte) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// unpack reverses pack, reading at most limit bytes.
func unpack(s string, limit int) ([]byte, error) {
	bad := newError(http.StatusBadRequest, "invalid_body", "the form is damaged: upload the file again")
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(s)))
	if err != nil {
		return nil, bad
	}
	b, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, bad
	}
	if len(b) > limit {
		return nil, errUploadTooLarge
	}
	return b, nil
}

// isCSVUpload tells a vendor spreadsheet from inventory-as-code: every
// file is named *.csv.
func isCSVUpload(files []inventoryFile) bool {
	for _, f := range files {
		if !strings.EqualFold(path.Ext(f.Name), ".csv") {
			return false
		}
	}
	return len(files) > 0
}

// readVendorSheet reads an uploaded spreadsheet as weaklink import csv
// does; a file it cannot read is a 400 naming the file and line.
func (s *Server) readVendorSheet(f inventoryFile) ([]inventory.Vendor, inventory.CSVReport, error) {
	vendors, report, err := inventory.ReadVendorsCSV(bytes.NewReader(f.Data), f.Name, s.svc.Checker.Catalog)
	if err != nil {
		return nil, report, newError(http.StatusBadRequest, "invalid_body", "the sheet could not be read: %s", err.Error())
	}
	return vendors, report, nil
}

// uiImportCSV shows what merging a vendor spreadsheet would change: the
// columns read, the rows skipped and why, and the plan.
func (s *Server) uiImportCSV(c *uiCall, f inventoryFile) {
	vendors, report, err := s.readVendorSheet(f)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	plan, version, err := s.svc.PlanImportVendors(c.ctx, vendors, report.NamedIDs)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	data, err := pack(f.Data)
	if err != nil {
		s.uiFail(c, err)
		return
	}
	text := planText(plan)
	s.render(c.w, c.r, http.StatusOK, "plan.html", planPage{page: c.page("Plan", "inventory"), Files: []string{f.Name},
		Text: text, Summary: plan.Summary(), Empty: plan.Empty(), Docs: []hiddenDoc{{Name: f.Name, Data: data}},
		Version: version, Digest: planDigest(version, false, "csv\n"+text), CSV: true, Report: &report})
}

// uiApplyCSV applies the merge of a spreadsheet shown by uiImportCSV, if
// it is still the plan: planned again, compared, and written only if the
// inventory is still at the version it was planned against.
func (s *Server) uiApplyCSV(c *uiCall, f url.Values, version int64) {
	if len(f["doc"]) != 1 || len(f["name"]) != 1 {
		s.uiRefused(c, newError(http.StatusBadRequest, "invalid_body", "the form is incomplete: upload the file again"), false)
		return
	}
	b, err := unpack(f["doc"][0], maxInventoryUpload)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	file := inventoryFile{Name: uploadName(f["name"][0], "vendors.csv"), Data: b}
	vendors, report, err := s.readVendorSheet(file)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	plan, now, err := s.svc.PlanImportVendors(c.ctx, vendors, report.NamedIDs)
	if err != nil {
		s.uiRefused(c, err, false)
		return
	}
	text := planText(plan)
	if !s.applyShown(c, plan, now, version, planDigest(now, false, "csv\n"+text), strings.Join(f["digest"], ""), false) {
		return
	}
	s.render(c.w, c.r, http.StatusOK, "plan.html", planPage{page: c.page("Applied", "inventory"), Files: []string{file.Name},
		Text: text, Summary: plan.Summary(), Empty: plan.Empty(), Applied: true, CSV: true, Report: &report})
}
