package inventory

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/weaklink/weaklink/internal/catalog"
	"golang.org/x/text/unicode/norm"
)

// Limits on CSV imports. A vendor spreadsheet is small; anything past these
// is a mistake or an attack.
const (
	MaxCSVRows      = 50000    // data rows
	MaxCSVFieldSize = 64 << 10 // bytes in one cell
)

// csvListSep joins multi-valued fields on export. The importer splits on any
// of ; , | and newline.
const csvListSep = "; "

var (
	vendorCSVHeader = []string{"id", "name", "legal_entity", "website", "domains", "category", "owner",
		"status", "criticality", "description", "tags", "subprocessors", "catalog"}
	systemCSVHeader = []string{"id", "name", "description", "owner", "environment", "repository", "tags"}
	flowCSVHeader   = []string{"id", "system", "vendor", "categories", "subjects", "purpose", "legal_basis",
		"estimated_subjects", "source", "first_seen", "last_seen", "description"}
)

// WriteVendorsCSV writes vendors as CSV: a header row of the JSON field names
// (id, name, legal_entity, website, domains, category, owner, status,
// criticality, description, tags, subprocessors, catalog) and one row per
// vendor. Multi-valued fields are joined with "; ". Store metadata (revision,
// timestamps) is not written.
//
// Vendor text is untrusted, so a cell that a spreadsheet would run as a formula
// (one starting with = + - @, a tab or a carriage return) is written with a
// leading apostrophe; ReadVendorsCSV removes it again.
func WriteVendorsCSV(w io.Writer, vendors []Vendor) error {
	return writeCSVTable(w, vendorCSVHeader, len(vendors), func(i int) []string {
		v := vendors[i]
		return []string{v.ID, v.Name, v.LegalEntity, v.Website, csvJoin(v.Domains), v.Category, v.Owner,
			v.Status, v.Criticality, v.Description, csvJoin(v.Tags), csvJoin(v.Subprocessors), v.Catalog}
	})
}

// WriteSystemsCSV writes systems as CSV: a header row (id, name, description,
// owner, environment, repository, tags) and one row per system, with the same
// list joining and formula protection as WriteVendorsCSV.
func WriteSystemsCSV(w io.Writer, systems []System) error {
	return writeCSVTable(w, systemCSVHeader, len(systems), func(i int) []string {
		s := systems[i]
		return []string{s.ID, s.Name, s.Description, s.Owner, s.Environment, s.Repository, csvJoin(s.Tags)}
	})
}

// WriteFlowsCSV writes flows as CSV: a header row (id, system, vendor,
// categories, subjects, purpose, legal_basis, estimated_subjects, source,
// first_seen, last_seen, description) and one row per flow, with the same list
// joining and formula protection as WriteVendorsCSV. Times are RFC 3339 in
// UTC; an unknown estimated_subjects (0) is an empty cell.
//
// Evidence is left out: it is a list of structured records that does not fit
// a cell. Export JSON or YAML to keep it.
func WriteFlowsCSV(w io.Writer, flows []Flow) error {
	return writeCSVTable(w, flowCSVHeader, len(flows), func(i int) []string {
		f := flows[i]
		est := ""
		if f.EstimatedSubjects != 0 {
			est = strconv.FormatInt(f.EstimatedSubjects, 10)
		}
		return []string{f.ID, f.System, f.Vendor, csvJoin(f.Categories), csvJoin(f.Subjects), f.Purpose,
			f.LegalBasis, est, f.Source, csvTime(f.FirstSeen), csvTime(f.LastSeen), f.Description}
	})
}

func writeCSVTable(w io.Writer, header []string, n int, row func(int) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i := range n {
		rec := row(i)
		for j := range rec {
			rec[j] = csvEscapeCell(rec[j])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvJoin(list []string) string { return strings.Join(list, csvListSep) }

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// csvFormulaRisk reports whether a spreadsheet could read s as a formula, or s
// is an apostrophe followed by such a value (so that escaping is reversible:
// a value that already starts with '= gets a second apostrophe).
func csvFormulaRisk(s string) bool {
	for s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return true
		case '\'':
			s = s[1:]
			continue
		}
		return false
	}
	return false
}

// csvEscapeCell prefixes a formula-like cell with an apostrophe.
func csvEscapeCell(s string) string {
	if csvFormulaRisk(s) {
		return "'" + s
	}
	return s
}

// csvUnescapeCell removes the apostrophe csvEscapeCell added, and only that.
func csvUnescapeCell(s string) string {
	if strings.HasPrefix(s, "'") && csvFormulaRisk(s[1:]) {
		return s[1:]
	}
	return s
}

// CSVReport describes what ReadVendorsCSV made of a spreadsheet.
type CSVReport struct {
	Rows     int               `json:"rows"`     // non-blank data rows read
	Imported int               `json:"imported"` // vendors produced
	Columns  map[string]string `json:"columns"`  // header as written → vendor field it maps to
	Unmapped []string          `json:"unmapped"` // headers it could not map (in file order)
	Problems []CSVProblem      `json:"problems"` // rows or cells skipped, each with line and column
	// NamedIDs are the ids made from a vendor's name (the sheet had no id
	// for it): an import may match such a row to a stored vendor with
	// another id by its catalog entry or its domain.
	NamedIDs map[string]bool `json:"-"`
}

// CSVProblem is a row or cell ReadVendorsCSV skipped or changed. Line is the
// line of the file where the row (or, for a cell, the cell) starts; Row is the
// row number a spreadsheet shows, counting the header as row 1, which differs
// from Line once a cell above spans several lines.
type CSVProblem struct {
	Line    int    `json:"line"`
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (p CSVProblem) String() string {
	s := fmt.Sprintf("line %d", p.Line)
	if p.Column != "" {
		s += fmt.Sprintf(", column %q", p.Column)
	}
	return s + ": " + p.Message
}

// csvHeaderSynonyms maps a normalized header (lower-case letters and digits
// only, see csvNormalizeHeader) to the vendor field it fills.
var csvHeaderSynonyms = func() map[string]string {
	m := map[string]string{}
	for field, names := range map[string][]string{
		"id":            {"id", "slug", "vendor id"},
		"name":          {"name", "vendor", "vendor name", "supplier", "supplier name", "company", "company name"},
		"legal_entity":  {"legal entity", "legal name", "entity"},
		"website":       {"website", "url", "homepage", "site"},
		"domains":       {"domains", "domain"},
		"category":      {"category", "type", "service type"},
		"owner":         {"owner", "business owner", "contact", "relationship owner"},
		"status":        {"status", "lifecycle", "stage"},
		"criticality":   {"criticality", "risk tier", "tier", "risk"},
		"description":   {"description", "notes", "purpose", "service description"},
		"tags":          {"tags", "labels"},
		"subprocessors": {"subprocessors", "sub-processors", "fourth parties"},
		"catalog":       {"catalog"},
	} {
		for _, n := range names {
			m[csvNormalizeHeader(n)] = field
		}
	}
	return m
}()

func csvNormalizeHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ReadVendorsCSV imports the vendor spreadsheet most teams start from. file
// names the input in messages; cat, if not nil, is used to recognise vendors
// and fill their details.
//
// Columns are matched by header, ignoring case and punctuation, with the
// synonyms spreadsheets use ("Vendor Name", "Risk Tier", "Business Owner"…);
// headers it cannot map are listed in the report, not treated as errors.
// Category, status and criticality values are normalized loosely ("Payment
// processor" → payments, "In use" → active, "Tier 1" → critical). Cells and
// rows it cannot use are skipped and reported as problems; the file as a whole
// is rejected, with an error naming file:line, only when it is not valid CSV,
// has no name or id column, or is larger than MaxCSVRows rows or
// MaxCSVFieldSize bytes in a cell. On error no vendors are returned.
//
// The delimiter (comma, semicolon or tab) is sniffed from the header line, and
// a UTF-8 byte order mark is skipped. Returned vendors are canonicalized and
// in file order; an empty status is left empty for the caller's default.
func ReadVendorsCSV(r io.Reader, file string, cat *catalog.Catalog) ([]Vendor, CSVReport, error) {
	rep := CSVReport{Columns: map[string]string{}, Unmapped: []string{}, Problems: []CSVProblem{}}
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(64 << 10) // as much of the header line as fits; errors surface on Read
	cr := csv.NewReader(br)
	cr.Comma = csvSniffDelimiter(head)
	cr.TrimLeadingSpace = cr.Comma != '\t'

	header, err := cr.Read()
	if err == io.EOF {
		return nil, rep, fmt.Errorf("%s: empty file: no header row", file)
	}
	if err != nil {
		return nil, rep, csvReadError(file, err, 0)
	}
	headerLine, _ := cr.FieldPos(0)
	if err := csvCheckSize(file, headerLine, header, nil); err != nil {
		return nil, rep, err
	}
	rep.NamedIDs = map[string]bool{}
	im := &vendorCSVImport{
		file:   file,
		cat:    cat,
		cr:     cr,
		rep:    &rep,
		header: make([]string, len(header)),
		col:    map[string]int{},
		seen:   map[string]int{},
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		im.header[i] = h
		if h == "" {
			continue
		}
		field, ok := csvHeaderSynonyms[csvNormalizeHeader(h)]
		if !ok {
			rep.Unmapped = append(rep.Unmapped, h)
			continue
		}
		if first, dup := im.col[field]; dup {
			rep.Unmapped = append(rep.Unmapped, h)
			rep.Problems = append(rep.Problems, CSVProblem{Line: headerLine, Row: 1, Column: h,
				Message: fmt.Sprintf("column also maps to %s, already read from column %q; ignored", field, im.header[first])})
			continue
		}
		im.col[field] = i
		rep.Columns[h] = field
	}
	_, hasName := im.col["name"]
	_, hasID := im.col["id"]
	if !hasName && !hasID {
		return nil, rep, fmt.Errorf("%s:%d: no vendor name or id column (looked for a header such as \"Vendor Name\", \"Name\", \"Supplier\" or \"ID\"; found %s)",
			file, headerLine, csvQuoteList(im.header))
	}
	if cat != nil {
		im.byName = make(map[string]catalog.Entry, len(cat.All()))
		for _, e := range cat.All() {
			if k := strings.ToLower(strings.TrimSpace(e.Name)); k != "" {
				if _, dup := im.byName[k]; !dup {
					im.byName[k] = e
				}
			}
		}
	}

	var vendors []Vendor
	for records := 0; ; {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, rep, csvReadError(file, err, len(header))
		}
		records++
		if records > MaxCSVRows {
			return nil, rep, fmt.Errorf("%s: more than %d rows; split the file", file, MaxCSVRows)
		}
		line, _ := cr.FieldPos(0)
		if err := csvCheckSize(file, line, rec, im.header); err != nil {
			return nil, rep, err
		}
		if csvBlank(rec) {
			continue
		}
		rep.Rows++
		if v, ok := im.row(rec, line, records+1); ok {
			vendors = append(vendors, v)
		}
	}
	rep.Imported = len(vendors)
	return vendors, rep, nil
}

// csvSniffDelimiter picks ; , or tab, whichever occurs most often outside
// quotes in the first line. Ties go to the comma.
func csvSniffDelimiter(b []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range b {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\n' {
			break
		}
		if c == ',' || c == ';' || c == '\t' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func csvReadError(file string, err error, fields int) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("%s:%d: malformed CSV: wrong number of fields (the header has %d)", file, pe.Line, fields)
		}
		return fmt.Errorf("%s:%d:%d: malformed CSV: %v", file, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("%s: %w", file, err)
}

func csvCheckSize(file string, line int, rec, header []string) error {
	for i, f := range rec {
		if len(f) > MaxCSVFieldSize {
			col := ""
			if i < len(header) && header[i] != "" {
				col = fmt.Sprintf(" (column %q)", header[i])
			}
			return fmt.Errorf("%s:%d: a field%s is larger than %d KiB; is this the right file?", file, line, col, MaxCSVFieldSize>>10)
		}
	}
	return nil
}

func csvBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func csvQuoteList(list []string) string {
	q := make([]string, 0, len(list))
	for _, s := range list {
		if s != "" {
			q = append(q, strconv.Quote(s))
		}
	}
	if len(q) == 0 {
		return "no headers"
	}
	return strings.Join(q, ", ")
}

type vendorCSVImport struct {
	file   string
	cat    *catalog.Catalog
	byName map[string]catalog.Entry // lower-cased catalog name → entry
	cr     *csv.Reader
	rep    *CSVReport
	header []string       // trimmed, as written
	col    map[string]int // vendor field → column index
	seen   map[string]int // vendor id → line of first row
	rec    []string
	line   int // line the current row starts on
	row1   int // spreadsheet row number of the current row
}

// cell returns the trimmed, unescaped value of the current row's column for
// field, or "" when the file has no such column.
func (im *vendorCSVImport) cell(field string) string {
	i, ok := im.col[field]
	if !ok || i >= len(im.rec) {
		return ""
	}
	return csvUnescapeCell(strings.TrimSpace(im.rec[i]))
}

// problem records a problem with the current row, or with its cell for field
// when field is not "".
func (im *vendorCSVImport) problem(field, format string, args ...any) {
	p := CSVProblem{Line: im.line, Row: im.row1, Message: fmt.Sprintf(format, args...)}
	if i, ok := im.col[field]; ok && i < len(im.rec) {
		p.Column = im.header[i]
		if l, _ := im.cr.FieldPos(i); l > 0 {
			p.Line = l
		}
	}
	im.rep.Problems = append(im.rep.Problems, p)
}

func (im *vendorCSVImport) row(rec []string, line, row1 int) (Vendor, bool) {
	im.rec, im.line, im.row1 = rec, line, row1
	var v Vendor
	v.Name = im.cell("name")
	rawID := im.cell("id")
	idField := "id"
	switch {
	case rawID != "":
		v.ID = csvSlug(rawID)
		if v.ID == "" {
			im.problem("id", "id %q has no letters or digits; row skipped", rawID)
			return Vendor{}, false
		}
		if v.ID != strings.ToLower(rawID) {
			im.problem("id", "id %q is not a slug; using %q", rawID, v.ID)
		}
	case v.Name != "":
		idField = "name"
		v.ID = csvSlug(v.Name)
		if v.ID == "" {
			im.problem("name", "cannot make an id from the name %q; add an id column; row skipped", v.Name)
			return Vendor{}, false
		}
		im.rep.NamedIDs[v.ID] = true
	default:
		im.problem("", "row has neither a vendor name nor an id; skipped")
		return Vendor{}, false
	}
	if first, dup := im.seen[v.ID]; dup {
		im.problem(idField, "duplicate vendor id %q (first on line %d); row skipped", v.ID, first)
		return Vendor{}, false
	}
	im.seen[v.ID] = line

	v.LegalEntity = im.cell("legal_entity")
	v.Owner = im.cell("owner")
	v.Description = im.cell("description")
	if c := im.cell("catalog"); c != "" {
		if im.cat == nil {
			v.Catalog = c
		} else if _, ok := im.cat.Get(c); ok {
			v.Catalog = c
		} else {
			im.problem("catalog", "unknown catalog vendor %q; ignored", c)
		}
	}

	websiteHost := ""
	if w := im.cell("website"); w != "" {
		if site, host, ok := csvWebsite(w); ok {
			v.Website, websiteHost = site, host
		} else {
			im.problem("website", "%q is not a website URL or hostname; ignored", w)
		}
	}
	for _, d := range csvSplit(im.cell("domains")) {
		if h, ok := csvHost(d); ok {
			v.Domains = append(v.Domains, h)
		} else {
			im.problem("domains", "%q is not a domain name; ignored", d)
		}
	}
	entry, matched := im.match(v, websiteHost)
	if c := im.cell("category"); c != "" {
		switch cat, ok := csvCategory(c); {
		case ok:
			v.Category = cat
		case matched && entry.Category != "":
			v.Category = entry.Category
			im.problem("category", "unknown category %q; using %q from the catalog entry %q", c, entry.Category, entry.ID)
		default:
			v.Category = cat
			im.problem("category", "unknown category %q; using %q (one of %s)", c, cat, strings.Join(VendorCategories, ", "))
		}
	}
	if s := im.cell("status"); s != "" {
		if st, ok := csvLookup(s, csvStatuses); ok {
			v.Status = st
		} else {
			im.problem("status", "unknown status %q; left empty (one of %s)", s, strings.Join(VendorStatuses, ", "))
		}
	}
	if s := im.cell("criticality"); s != "" {
		if c, ok := csvCriticality(s); ok {
			v.Criticality = c
		} else {
			im.problem("criticality", "unknown criticality %q; left empty (one of %s, or tier 1–4)", s, strings.Join(Criticalities, ", "))
		}
	}
	v.Tags = csvSplit(im.cell("tags"))
	for _, s := range csvSplit(im.cell("subprocessors")) {
		if id := csvSlug(s); id != "" {
			v.Subprocessors = append(v.Subprocessors, id)
		} else {
			im.problem("subprocessors", "cannot make a vendor id from subprocessor %q; ignored", s)
		}
	}

	if matched {
		FillFromCatalog(&v, entry)
	}
	if _, hasDomains := im.col["domains"]; !hasDomains && len(v.Domains) == 0 && websiteHost != "" {
		v.Domains = []string{websiteHost}
	}
	if v.Name == "" {
		v.Name = v.ID
	}
	v.Canonicalize()
	return v, true
}

// match finds the catalog entry for a row: by the catalog column, by id, by
// name, then by the host of its website or domains.
func (im *vendorCSVImport) match(v Vendor, websiteHost string) (catalog.Entry, bool) {
	if im.cat == nil {
		return catalog.Entry{}, false
	}
	if v.Catalog != "" {
		if e, ok := im.cat.Get(v.Catalog); ok {
			return e, true
		}
	}
	if e, ok := im.cat.Get(v.ID); ok {
		return e, true
	}
	if e, ok := im.byName[strings.ToLower(v.Name)]; ok && v.Name != "" {
		return e, true
	}
	if websiteHost != "" {
		if e, ok := im.cat.ByHost(websiteHost); ok {
			return e, true
		}
	}
	for _, d := range v.Domains {
		if e, ok := im.cat.ByHost(d); ok {
			return e, true
		}
	}
	return catalog.Entry{}, false
}

// csvSlug makes a vendor id from text: lower-case ASCII letters and digits,
// accents dropped, every other run of characters a single hyphen, trimmed, at
// most 64 characters.
func csvSlug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r): // combining accent of the letter before
		default:
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	out := b.String()
	if len(out) > 64 {
		out = out[:64]
	}
	return strings.Trim(out, "-")
}

// csvSplit splits a multi-valued cell on ; , | and newlines.
func csvSplit(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == ',' || r == '|' || r == '\n' || r == '\r'
	}) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// csvWebsite accepts a URL or a bare host name. It returns the website (with
// https:// added when no scheme was given) and its host, lower-cased and
// without www.
func csvWebsite(s string) (site, host string, ok bool) {
	site = s
	if !strings.Contains(s, "://") {
		site = "https://" + s
	}
	u, err := url.Parse(site)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", false
	}
	host, ok = csvHost(u.Host)
	if !ok {
		return "", "", false
	}
	return site, host, true
}

// csvHost turns a URL or host into a bare, lower-case host name without
// scheme, user, port, path or leading www.
func csvHost(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") { // [IPv6]:port
		if i := strings.IndexByte(s, ']'); i > 0 {
			s = s[1:i]
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if rest, ok := strings.CutPrefix(s, "www."); ok && strings.Contains(rest, ".") {
		s = rest
	}
	if !ValidHostname(s) {
		return "", false
	}
	return s, true
}

// csvWords lower-cases s and splits it into runs of letters and digits.
func csvWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// csvLookup finds s in table, by its words: the whole value, then ever
// shorter leading phrases ("Active (renewal due)" → "active").
func csvLookup(s string, table map[string]string) (string, bool) {
	words := csvWords(s)
	for n := len(words); n > 0; n-- {
		if v, ok := table[strings.Join(words[:n], " ")]; ok {
			return v, true
		}
	}
	return "", false
}

var csvStatuses = map[string]string{
	"active": "active", "in use": "active", "live": "active", "in production": "active",
	"production": "active", "current": "active",
	"approved": "approved", "onboarding": "approved",
	"proposed": "proposed", "under review": "proposed", "in review": "proposed", "review": "proposed",
	"evaluating": "proposed", "evaluation": "proposed", "in evaluation": "proposed", "pending": "proposed",
	"requested": "proposed", "planned": "proposed", "new": "proposed",
	"offboarding": "offboarding", "being offboarded": "offboarding", "decommissioning": "offboarding",
	"sunsetting": "offboarding",
	"offboarded": "offboarded", "retired": "offboarded", "terminated": "offboarded",
	"decommissioned": "offboarded", "inactive": "offboarded", "cancelled": "offboarded",
	"canceled": "offboarded", "former": "offboarded",
}

var csvCriticalities = map[string]string{
	"low": "low", "minimal": "low", "very low": "low",
	"medium": "medium", "med": "medium", "moderate": "medium",
	"high":     "high",
	"critical": "critical", "crit": "critical", "very high": "critical",
	"tier 0": "critical", "tier 1": "critical", "tier 2": "high", "tier 3": "medium", "tier 4": "low",
	"tier0": "critical", "tier1": "critical", "tier2": "high", "tier3": "medium", "tier4": "low",
	"t0": "critical", "t1": "critical", "t2": "high", "t3": "medium", "t4": "low",
}

func csvCriticality(s string) (string, bool) { return csvLookup(s, csvCriticalities) }

// csvCategoryRules maps phrases to vendor categories, most specific first:
// "Error monitoring" is error tracking, not observability.
var csvCategoryRules = []struct {
	category string
	phrases  []string
}{
	{"session-replay", []string{"session replay", "replay", "session recording", "heatmap", "heatmaps"}},
	{"error-tracking", []string{"error", "errors", "crash", "crashes", "exception", "exceptions"}},
	{"analytics", []string{"analytics", "bi", "business intelligence", "attribution", "experimentation"}},
	{"payments", []string{"payment", "payments", "billing", "psp", "checkout"}},
	{"crm-marketing", []string{"crm", "marketing", "advertising", "ads", "adtech"}},
	{"email-sms", []string{"email", "e mail", "mail", "sms", "messaging"}},
	{"storage-cdn", []string{"cdn", "storage"}},
	{"data-warehouse", []string{"warehouse", "dwh", "data lake", "lakehouse"}},
	{"ai", []string{"ai", "llm", "llms", "ml", "machine learning", "genai", "artificial intelligence"}},
	{"support", []string{"support", "helpdesk", "help desk", "customer service", "ticketing"}},
	{"identity", []string{"sso", "identity", "idp", "iam", "auth", "authentication", "mfa"}},
	{"observability", []string{"monitoring", "apm", "logging", "logs", "observability", "tracing", "alerting", "uptime"}},
	{"cloud-infrastructure", []string{"cloud", "iaas", "paas", "hosting", "infrastructure", "compute"}},
	{"collaboration", []string{"collaboration", "productivity", "project management", "wiki", "video conferencing"}},
}

// csvCategory maps a spreadsheet's service type to a vendor category. It
// returns "other" and false for values it does not recognise.
func csvCategory(s string) (string, bool) {
	words := csvWords(s)
	joined := strings.Join(words, " ")
	for _, c := range VendorCategories {
		if joined == strings.ReplaceAll(c, "-", " ") {
			return c, true
		}
	}
	for _, rule := range csvCategoryRules {
		for _, p := range rule.phrases {
			if csvHasPhrase(words, strings.Fields(p)) {
				return rule.category, true
			}
		}
	}
	return "other", false
}

func csvHasPhrase(words, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(words); i++ {
		match := true
		for j, p := range phrase {
			if words[i+j] != p {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
