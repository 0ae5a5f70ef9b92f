package incident

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/weaklink/weaklink/internal/taxonomy"
)

// This file writes the notification pack: the letters to the regulator, to
// affected people and to ourselves, the recipient list, the timeline, a
// STIX bundle for peers, and a README that says what to do with each file.
//
// Writing. WritePack creates dir if needed and accepts it only when it is
// empty or holds nothing but regular files named like the files of a pack
// (a previous pack, which is replaced) and ".weaklink-pack-*" temporary
// files of an interrupted run (left alone). Anything else is refused with
// ErrPackDirNotEmpty, so a pack never overwrites or mixes with someone
// else's files. Every file is first written in full (and synced) to a
// temporary file in dir; only when all of them are written are they renamed
// into place, so a failure (a template error, a recipient stream error, a
// cancelled context) leaves a previous pack as it was. Only a crash during
// the final renames can leave a mix of old and new files.
//
// Memory. The recipient list is streamed straight to recipients.csv, row by
// row; only its counts are kept, for the letters.
//
// No URL in the people letter. The letter to affected people teaches them
// not to follow links, so it must contain none. "URL" means, case
// insensitively: a scheme followed by "://" (https://, ftp://), "http:" or
// "https:" on its own, "mailto:" or "javascript:", anything starting with
// "www.", an anchor tag ("<a "), and an href= or src= attribute. A bare
// host name ("acme.example") is not a URL: it is what people are asked to
// type themselves; nor is an email address in the contact details (a mail
// program may still make either clickable, which no text can prevent). Values from the incident (our website, contact, vendor
// name) are defanged before they reach the letter (schemes, "www.", href=
// and src= removed, angle brackets replaced), and the rendered letter is checked
// again, so an edited template that adds a link makes WritePack fail.

// Pack is everything the notification pack is made from.
type Pack struct {
	Incident Incident
	// Vendor is the breached vendor's display name (Incident.Vendor is its
	// id).
	Vendor string
	// Affected are the display names of our vendors that are affected: the
	// breached vendor itself, or those that use a breached subprocessor.
	Affected []string
	Exposure Exposure
	Systems  []string
	Profile  Profile
	Timeline []Event
	// Duties is what the legal clocks say, flattened by the caller.
	Duties []DutyLine
	// Recipients streams the affected people, one call of yield each. It
	// may produce millions: the pack never holds them all in memory. A
	// non-nil error from yield must stop the stream and be returned. Nil
	// means no recipient list (recipients.csv then has its header only).
	Recipients func(yield func(PackRecipient) error) error
	// GeneratedAt dates the pack. It comes from the incident, not the
	// clock, so the same input gives the same bytes. Zero means
	// Incident.UpdatedAt, then Incident.CreatedAt.
	GeneratedAt time.Time
	// Templates overrides the embedded templates: a directory with the same
	// file names (regulator.md.tmpl, people.html.tmpl, layout.html.tmpl…).
	// A file it does not have comes from the embedded defaults. Nil means
	// the embedded defaults only.
	Templates fs.FS
	// Taxonomy names the data categories; nil means the embedded one.
	Taxonomy *taxonomy.Tree
}

// DutyLine is one duty that the legal clocks found, flattened for the pack
// by the caller: which rule, under which regime, to whom, by when, and
// where it stands.
type DutyLine struct {
	Rule     string `json:"rule"`
	Regime   string `json:"regime"`
	Audience string `json:"audience"`
	Deadline string `json:"deadline"`
	Status   string `json:"status"`
	Citation string `json:"citation"`
}

// PackRecipient is one affected person in the recipient list.
type PackRecipient struct {
	Subject string
	// ExternalID is the customer's own id for the person, when the
	// residence file gave it (the ledger may hold only a keyed hash).
	ExternalID   string
	Jurisdiction string
	Categories   []string
	FirstSeen    time.Time
	LastSeen     time.Time
}

// Names of the files of a pack.
const (
	PackReadme       = "README.md"
	PackRegulatorMD  = "regulator.md"
	PackRegulatorHTM = "regulator.html"
	PackPeopleMD     = "people.md"
	PackPeopleHTM    = "people.html"
	PackInternalMD   = "internal.md"
	PackInternalHTM  = "internal.html"
	PackRecipients   = "recipients.csv"
	PackTimelineMD   = "timeline.md"
	PackTimelineJSON = "timeline.json"
	PackSTIX         = "incident.stix.json"
)

// PackFile is one file of a pack and what to do with it.
type PackFile struct {
	Name    string
	Purpose string
}

// PackFiles lists the files of a pack in the order WritePack returns them.
var PackFiles = []PackFile{
	{PackReadme, "This file: what is in the pack and what to do with each file."},
	{PackRegulatorMD, "Draft notification to the data protection authority (GDPR Art. 33). Complete the bracketed parts, have counsel review it, then file it through the authority's own form or portal."},
	{PackRegulatorHTM, "The same draft, formatted for reading or printing."},
	{PackPeopleMD, "Letter to the affected people (\"Notice of Data Breach\"), with advice against phishing. Review it, decide whether and when to send it, and send it from your usual mail system."},
	{PackPeopleHTM, "The same letter as self-contained HTML for email. It contains no links, on purpose; keep it that way."},
	{PackInternalMD, "Internal brief for the incident team and management: facts, key times, legal clocks, numbers, open actions. Do not send outside."},
	{PackInternalHTM, "The same brief, formatted for reading or printing."},
	{PackRecipients, "The affected people: one row each, with where they live and which categories of their data were involved. Personal data: store and share it only as the notification needs."},
	{PackTimelineMD, "The incident timeline, for the record GDPR Art. 33(5) requires."},
	{PackTimelineJSON, "The same timeline as JSON, for other tools."},
	{PackSTIX, "STIX 2.1 bundle (marked TLP:AMBER) describing the incident, for sharing with peers or a sector ISAC. It holds no personal data."},
}

// ErrPackDirNotEmpty is returned by WritePack when the target directory
// holds files that are not a previous pack's.
var ErrPackDirNotEmpty = errors.New("incident: pack directory holds files that are not a notification pack")

//go:embed templates/*.tmpl
var packTemplates embed.FS

const packTempPrefix = ".weaklink-pack-"

// WritePack writes the notification pack into dir and returns the paths of
// the files it wrote, in the order of PackFiles. See the comment at the top
// of notify.go for the overwrite policy and what "no URL" means.
func WritePack(ctx context.Context, dir string, p Pack) (files []string, err error) {
	if p.Incident.ID == "" {
		return nil, errors.New("incident: pack: the incident has no id")
	}
	if p.Profile.Name == "" {
		return nil, errors.New("incident: pack: the profile has no organisation name")
	}
	if p.GeneratedAt.IsZero() {
		p.GeneratedAt = cmp.Or(p.Incident.UpdatedAt, p.Incident.CreatedAt)
		if p.GeneratedAt.IsZero() {
			return nil, errors.New("incident: pack: no date to put on it (GeneratedAt, UpdatedAt and CreatedAt are zero)")
		}
	}
	if p.Taxonomy == nil {
		p.Taxonomy = taxonomy.Default()
	}
	if err := packPrepareDir(dir); err != nil {
		return nil, err
	}

	st := &packStage{dir: dir}
	defer func() {
		if err != nil {
			st.discard()
		}
	}()

	err = st.write(PackRecipients, func(w *bufio.Writer) error {
		var err error
		st.stats, err = packWriteRecipients(ctx, w, p.Recipients)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	tmpl := packTemplateSource{override: p.Templates}
	views := map[string]*PackView{
		"md":          newPackView(p, st.stats, packMDEscape),
		"html":        newPackView(p, st.stats, packPlain),
		"people.md":   newPackView(p, st.stats, func(s string) string { return packMDEscape(packDefang(s)) }),
		"people.html": newPackView(p, st.stats, packDefang),
	}
	letters := []struct {
		file, view string
		html       bool
	}{
		{PackReadme, "md", false},
		{PackRegulatorMD, "md", false},
		{PackRegulatorHTM, "html", true},
		{PackPeopleMD, "people.md", false},
		{PackPeopleHTM, "people.html", true},
		{PackInternalMD, "md", false},
		{PackInternalHTM, "html", true},
		{PackTimelineMD, "md", false},
	}
	for _, l := range letters {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var b []byte
		var err error
		if l.html {
			b, err = tmpl.renderHTML(l.file+".tmpl", views[l.view])
		} else {
			b, err = tmpl.renderText(l.file+".tmpl", views[l.view])
		}
		if err != nil {
			return nil, err
		}
		b = packTidy(b)
		if l.file == PackPeopleMD || l.file == PackPeopleHTM {
			if m := FindURL(string(b)); m != "" {
				return nil, fmt.Errorf("incident: pack: %s contains a link or URL (%q); the people letter must have none", l.file, m)
			}
		}
		if err := st.writeBytes(l.file, b); err != nil {
			return nil, err
		}
	}

	tl, err := packTimelineJSON(p)
	if err != nil {
		return nil, err
	}
	if err := st.writeBytes(PackTimelineJSON, tl); err != nil {
		return nil, err
	}
	bundle, err := STIXBundle(p)
	if err != nil {
		return nil, err
	}
	if err := st.writeBytes(PackSTIX, bundle); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return st.commit()
}

// packPrepareDir creates dir or checks that it is empty or a previous pack.
func packPrepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("incident: pack: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("incident: pack: %w", err)
	}
	var foreign []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, packTempPrefix) && !e.IsDir() {
			continue
		}
		if e.Type().IsRegular() && slices.ContainsFunc(PackFiles, func(f PackFile) bool { return f.Name == name }) {
			continue
		}
		foreign = append(foreign, name)
	}
	if len(foreign) > 0 {
		if len(foreign) > 3 {
			foreign = append(foreign[:3], "…")
		}
		return fmt.Errorf("%w: %s has %s", ErrPackDirNotEmpty, dir, strings.Join(foreign, ", "))
	}
	return nil
}

// packStage holds the temporary files of a pack until commit renames them.
type packStage struct {
	dir   string
	temps []string // temporary path per file, in the order written
	names []string
	stats packStats
}

func (s *packStage) write(name string, fill func(w *bufio.Writer) error) error {
	f, err := os.CreateTemp(s.dir, packTempPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("incident: pack: %w", err)
	}
	s.temps = append(s.temps, f.Name())
	s.names = append(s.names, name)
	w := bufio.NewWriterSize(f, 64<<10)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("incident: pack: %s: %w", name, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("incident: pack: %w", err)
	}
	return nil
}

func (s *packStage) writeBytes(name string, b []byte) error {
	return s.write(name, func(w *bufio.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func (s *packStage) discard() {
	for _, t := range s.temps {
		_ = os.Remove(t)
	}
	s.temps = nil
}

// commit renames the temporary files into place, in PackFiles order.
func (s *packStage) commit() ([]string, error) {
	byName := make(map[string]string, len(s.names))
	for i, n := range s.names {
		byName[n] = s.temps[i]
	}
	var out []string
	for _, f := range PackFiles {
		tmp, ok := byName[f.Name]
		if !ok {
			return nil, fmt.Errorf("incident: pack: %s was not written", f.Name)
		}
		dst := filepath.Join(s.dir, f.Name)
		if err := os.Rename(tmp, dst); err != nil {
			return nil, fmt.Errorf("incident: pack: %w", err)
		}
		out = append(out, dst)
	}
	s.temps = nil
	return out, nil
}

// packStats is what the recipient stream counted.
type packStats struct {
	Streamed bool  // Recipients was set
	Rows     int64 // people in recipients.csv
	Records  int64 // person × category pairs
}

// RecipientColumns are the columns of a recipient list.
var RecipientColumns = []string{"subject", "external_id", "jurisdiction", "categories", "first_seen", "last_seen"}

// WriteRecipients streams a recipient list as CSV to w: the same format as
// a pack's recipients.csv. It returns the number of people written.
func WriteRecipients(ctx context.Context, w io.Writer, recipients func(yield func(PackRecipient) error) error) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if recipients == nil {
		recipients = func(func(PackRecipient) error) error { return nil }
	}
	st, err := packWriteRecipients(ctx, bw, recipients)
	if err != nil {
		return st.Rows, err
	}
	return st.Rows, bw.Flush()
}

// packWriteRecipients streams the recipient list as CSV. Cells that a
// spreadsheet would run as a formula are prefixed with a single quote.
func packWriteRecipients(ctx context.Context, w *bufio.Writer, recipients func(yield func(PackRecipient) error) error) (packStats, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(RecipientColumns); err != nil {
		return packStats{}, err
	}
	var st packStats
	if recipients != nil {
		st.Streamed = true
		row := make([]string, len(RecipientColumns))
		err := recipients(func(r PackRecipient) error {
			if st.Rows%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			cats := r.Categories
			if !slices.IsSorted(cats) {
				cats = slices.Sorted(slices.Values(cats))
			}
			row[0] = packCSVSafe(r.Subject)
			row[1] = packCSVSafe(r.ExternalID)
			row[2] = packCSVSafe(r.Jurisdiction)
			row[3] = packCSVSafe(strings.Join(cats, ";"))
			row[4] = packCSVTime(r.FirstSeen)
			row[5] = packCSVTime(r.LastSeen)
			if err := cw.Write(row); err != nil {
				return err
			}
			st.Rows++
			st.Records += int64(len(r.Categories))
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("recipients: %w", err)
		}
	}
	cw.Flush()
	return st, cw.Error()
}

// packCSVSafe defuses CSV injection: a cell that starts with a character a
// spreadsheet reads as the start of a formula gets a leading single quote.
func packCSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func packCSVTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// packTimelineJSON is timeline.json: the events in time order.
func packTimelineJSON(p Pack) ([]byte, error) {
	doc := struct {
		Incident    string    `json:"incident"`
		Vendor      string    `json:"vendor"`
		Title       string    `json:"title"`
		GeneratedAt time.Time `json:"generated_at"`
		Times       []struct {
			Anchor Anchor    `json:"anchor"`
			At     time.Time `json:"at"`
		} `json:"times"`
		Events []Event `json:"events"`
	}{
		Incident:    p.Incident.ID,
		Vendor:      p.Incident.Vendor,
		Title:       p.Incident.Title,
		GeneratedAt: p.GeneratedAt.UTC(),
		Events:      packSortedEvents(p.Timeline),
	}
	for _, a := range Anchors {
		if t, ok := p.Incident.Times[a]; ok && !t.IsZero() {
			doc.Times = append(doc.Times, struct {
				Anchor Anchor    `json:"anchor"`
				At     time.Time `json:"at"`
			}{a, t.UTC()})
		}
	}
	if doc.Events == nil {
		doc.Events = []Event{}
	}
	for i := range doc.Events {
		doc.Events[i].At = doc.Events[i].At.UTC()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("incident: pack: timeline: %w", err)
	}
	return buf.Bytes(), nil
}

func packSortedEvents(evs []Event) []Event {
	out := slices.Clone(evs)
	slices.SortStableFunc(out, func(a, b Event) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ---- URLs ----

var (
	packURLRe    = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://|\bhttps?:|\bmailto:|\bjavascript:|\bwww\.|<a[\s>]|\bhref\s*=|\bsrc\s*=`)
	packDefangRe = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://|://|\b(?:https?|mailto|javascript):|\bwww\.|\b(?:href|src)\s*=`)
)

// FindURL returns the first URL or link in s, or "" when there is none.
// See the comment at the top of notify.go for what counts.
func FindURL(s string) string {
	return packURLRe.FindString(s)
}

// packDefang makes a value safe for the people letter: no scheme, no "www.",
// no href or src attribute, no angle brackets (so no tag, even escaped).
func packDefang(s string) string {
	for {
		t := packDefangRe.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	s = strings.NewReplacer("<", "‹", ">", "›").Replace(s)
	return packPlain(s)
}

// packWebsiteText is our website as people should type it: the bare host, no
// scheme, no "www.", no path.
func packWebsiteText(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	for len(s) >= 4 && strings.EqualFold(s[:4], "www.") {
		s = s[4:]
	}
	return s
}

// ---- escaping ----

// packPlain turns a value into one line of text: newlines and tabs become
// spaces, other control characters go.
func packPlain(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	packMDEscaper     = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `[`, `\[`, `]`, `\]`, `<`, `\<`, `>`, `\>`, `|`, `\|`)
	packMDLineStartRe = regexp.MustCompile(`^(?:[#+=-]|\d+[.)])`)
)

// packMDEscape makes a value safe inside Markdown text and table cells: one
// line, with the characters that could make a link, an HTML tag, emphasis,
// code or a table cell boundary escaped by a backslash, and a leading
// character that could start a heading or a list escaped too.
func packMDEscape(s string) string {
	s = packMDEscaper.Replace(packPlain(s))
	if loc := packMDLineStartRe.FindStringIndex(s); loc != nil {
		s = s[:loc[1]-1] + `\` + s[loc[1]-1:]
	}
	return s
}

var packTidyBlankRe = regexp.MustCompile(`\n{3,}`)

// packTidy removes trailing spaces, collapses runs of blank lines and ends the
// text with exactly one newline, so templates can be laid out for reading.
func packTidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s := strings.Join(lines, "\n")
	s = packTidyBlankRe.ReplaceAllString(s, "\n\n")
	return []byte(strings.TrimSpace(s) + "\n")
}

// ---- templates ----

type packTemplateSource struct{ override fs.FS }

func (s packTemplateSource) read(name string) (string, error) {
	if s.override != nil {
		b, err := fs.ReadFile(s.override, name)
		if err == nil {
			return string(b), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("incident: pack: template %s: %w", name, err)
		}
	}
	b, err := packTemplates.ReadFile("templates/" + name)
	if err != nil {
		return "", fmt.Errorf("incident: pack: template %s: %w", name, err)
	}
	return string(b), nil
}

func (s packTemplateSource) renderText(name string, v *PackView) ([]byte, error) {
	src, err := s.read(name)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Funcs(packFuncs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("incident: pack: template %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("incident: pack: template %w", err)
	}
	return buf.Bytes(), nil
}

// renderHTML parses layout.html.tmpl, then the letter, which defines the
// "title" and "body" templates that the layout places.
func (s packTemplateSource) renderHTML(name string, v *PackView) ([]byte, error) {
	layout, err := s.read("layout.html.tmpl")
	if err != nil {
		return nil, err
	}
	src, err := s.read(name)
	if err != nil {
		return nil, err
	}
	t, err := htmltemplate.New("layout.html.tmpl").Funcs(htmltemplate.FuncMap(packFuncs)).Option("missingkey=error").Parse(layout)
	if err != nil {
		return nil, fmt.Errorf("incident: pack: template %w", err)
	}
	if _, err := t.New(name).Parse(src); err != nil {
		return nil, fmt.Errorf("incident: pack: template %w", err)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html.tmpl", v); err != nil {
		return nil, fmt.Errorf("incident: pack: template %w", err)
	}
	return buf.Bytes(), nil
}

// packFuncs are the functions templates can call.
var packFuncs = template.FuncMap{
	// date: 9 November 2025.
	"date": func(v any) string { return packTimeFormat(v, "2 January 2006") },
	// stamp: 2025-11-09 14:30 UTC.
	"stamp": func(v any) string { return packTimeFormat(v, "2006-01-02 15:04 UTC") },
	// num: 1,234,567.
	"num": packNum,
	// list: "a", "a and b", "a, b and c".
	"list": func(v any) string { return packJoin(v, "and") },
	// listOr: "a", "a or b", "a, b, or c".
	"listOr": func(v any) string { return packJoin(v, "or") },
	// plural: plural n "person" "people".
	"plural": func(n any, one, many string) string {
		if packInt(n) == 1 {
			return one
		}
		return many
	},
	// add: add 1 i.
	"add": func(a, b int) int { return a + b },
}

func packTimeFormat(v any, layout string) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	}
	if t.IsZero() {
		return "not known"
	}
	return t.UTC().Format(layout)
}

func packInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	}
	return 0
}

func packNum(v any) string { return fmtCount(packInt(v)) }

// packJoin joins items in prose: "a and b", "a, b and c"; with "or", an
// Oxford comma keeps "a, b or c, or d" readable when items hold an "or".
func packJoin(v any, conj string) string {
	var items []string
	switch x := v.(type) {
	case []string:
		items = x
	case []PackCategory:
		for _, c := range x {
			items = append(items, c.Name)
		}
	}
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	case 2:
		return items[0] + " " + conj + " " + items[1]
	}
	sep := " " + conj + " "
	if conj == "or" {
		sep = ", or "
	}
	return strings.Join(items[:len(items)-1], ", ") + sep + items[len(items)-1]
}

// ---- the view ----

// PackView is the data every template of the pack receives. Its strings
// are already escaped for the output: Markdown templates get them with
// Markdown's special characters backslash-escaped, HTML templates raw (the
// html/template engine escapes them), and the people letter gets them
// defanged (no scheme, no "www.", no angle brackets).
type PackView struct {
	Org      PackOrg
	Vendor   string // the breached vendor's display name
	VendorID string
	// Affected are our vendors affected; AffectedOthers those of them that
	// are not the breached vendor (they use it as a subprocessor).
	Affected       []string
	AffectedOthers []string
	Incident       PackIncident

	// Categories are the exposed categories (Exposure.Categories, or the
	// incident's when the blast radius has none), in key order.
	Categories []PackCategory
	// Stated are the categories the vendor's statement names; Unstated the
	// exposed ones it does not cover (we sent them in the window).
	Stated   []PackCategory
	Unstated []PackCategory
	// NotInvolved names, in words, the sensitive kinds of data that none
	// of the exposed categories touches ("payment card or bank details").
	NotInvolved         []string
	CredentialsInvolved bool
	// Special are the exposed categories that are (or include) special
	// categories of personal data (GDPR Art. 9).
	Special []PackCategory

	Subjects int64 // people affected (blast radius)
	// Recipients is the recipient list: rows and person × category
	// records. Listed is false when there was no recipient stream.
	Recipients struct {
		Listed  bool
		Rows    int64
		Records int64
	}
	Jurisdictions    []PackJurisdiction // by count, most first; "unknown" last
	UnknownResidence int64
	Systems          []string
	WindowFrom       *time.Time
	WindowTo         *time.Time

	// Times are the anchors known, in lifecycle order.
	Times            []PackTime
	VendorDiscovered *time.Time
	VendorNotified   *time.Time
	DatasetReceived  *time.Time
	// DatasetSameDay: the dataset came on the day of the vendor's notice.
	DatasetSameDay bool
	Aware          *time.Time
	Contained      *time.Time
	// VendorDelay is how long the vendor took from discovery to telling
	// us, in words ("16 days"); empty when either is unknown.
	VendorDelay string
	Contract    PackContract
	// NotifyBy is 72 hours after awareness (GDPR Art. 33(1)); Late72 says
	// the pack is dated after it.
	NotifyBy *time.Time
	Late72   bool

	Duties       []DutyLine
	Events       []PackEvent // the whole timeline, in time order
	RecentEvents []PackEvent // the last ten
	Actions      []string    // open actions for the internal brief

	Phishing     []PhishingAdvice
	Consequences []string

	GeneratedAt time.Time
	Files       []PackFile
}

// PackOrg is our organisation, from the Profile.
type PackOrg struct {
	Name    string
	Contact string
	DPO     string
	// Website is the bare host name, for people to type ("acme.example").
	Website         string
	EUEstablishment string
	PublicCompany   bool
}

// PackIncident is the incident as the letters show it.
type PackIncident struct {
	ID       string
	Title    string
	Severity string
	Status   string
	Owner    string
	Revision int64
	Notes    []string // one per line
	HighRisk string   // yes, no, or not yet decided
	Material string   // yes, no, or not yet decided
}

// PackCategory is one data category in human words.
type PackCategory struct {
	Key  string
	Name string // the taxonomy name ("Email address")
	// Explain says what it is in plain words for the people letter.
	Explain     string
	Sensitivity string // none, low, personal, sensitive, high
	// Special is a special category of personal data (GDPR Art. 9), or a
	// parent that includes one.
	Special bool
	Stated  bool // the vendor's statement covers it
}

// PackJurisdiction counts affected people in one place.
type PackJurisdiction struct {
	Code  string
	Count int64
}

// PackTime is one anchor of the incident.
type PackTime struct {
	Anchor string
	Label  string
	At     time.Time
}

// PackContract is the vendor's contractual notice clock.
type PackContract struct {
	Hours int
	Due   *time.Time
	// Late is how late the vendor's notice was, in words; empty when on
	// time or unknown.
	Late string
}

// PackEvent is one timeline entry as the letters show it.
type PackEvent struct {
	At      time.Time
	Actor   string
	Kind    string
	Message string
	Changes string // "field: before → after; …"
}

var packAnchorLabels = map[Anchor]string{
	AnchorStart:            "Breach began",
	AnchorVendorDiscovered: "Vendor discovered the breach",
	AnchorVendorNotified:   "Vendor told us",
	AnchorDatasetReceived:  "Vendor delivered the affected dataset",
	AnchorAware:            "We became aware",
	AnchorDiscovered:       "We discovered the breach",
	AnchorDetermined:       "We determined a breach occurred",
	AnchorMaterial:         "We determined the incident is material",
	AnchorContained:        "Contained",
	AnchorClosed:           "Closed",
}

var packSensitivity = []string{"none", "low", "personal", "sensitive", "high"}

// packDutyDone are the duty statuses that need no further action.
var packDutyDone = []string{"met", "missed", "done", "sent", "notified", "filed", "complete", "completed", "closed",
	"not applicable", "not-applicable", "n/a", "none", "no duty", "not required"}

func newPackView(p Pack, st packStats, esc func(string) string) *PackView {
	in := p.Incident
	escAll := func(ss []string) []string {
		var out []string
		for _, s := range ss {
			out = append(out, esc(s))
		}
		return out
	}
	org := cmp.Or(p.Profile.Name, "our organisation")
	vendor := cmp.Or(p.Vendor, in.Vendor, "the vendor")
	v := &PackView{
		Org: PackOrg{
			Name:            esc(org),
			Contact:         esc(p.Profile.Contact),
			DPO:             esc(p.Profile.DPO),
			Website:         esc(packWebsiteText(p.Profile.Website)),
			EUEstablishment: esc(p.Profile.EUEstablishment),
			PublicCompany:   p.Profile.PublicCompany,
		},
		Vendor:   esc(vendor),
		VendorID: esc(in.Vendor),
		Affected: escAll(p.Affected),
		Incident: PackIncident{
			ID:       esc(in.ID),
			Title:    esc(cmp.Or(in.Title, "Breach at "+vendor)),
			Severity: esc(cmp.Or(in.Severity, "not set")),
			Status:   esc(cmp.Or(string(in.Status), "not set")),
			Owner:    esc(cmp.Or(in.Owner, "not assigned")),
			Revision: in.Revision,
			HighRisk: packDecision(in.HighRisk),
			Material: packDecision(in.Material),
		},
		Subjects:    p.Exposure.Subjects,
		Systems:     escAll(p.Systems),
		Duties:      make([]DutyLine, 0, len(p.Duties)),
		GeneratedAt: p.GeneratedAt.UTC(),
		Files:       PackFiles,
	}
	if len(p.Systems) == 0 {
		v.Systems = escAll(in.Systems)
	}
	for _, a := range p.Affected {
		if a != vendor && a != in.Vendor {
			v.AffectedOthers = append(v.AffectedOthers, esc(a))
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(in.Notes), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			v.Incident.Notes = append(v.Incident.Notes, esc(line))
		}
	}

	// Categories.
	exposed := p.Exposure.Categories
	if len(exposed) == 0 {
		exposed = in.Categories
	}
	exposed = packDedupe(exposed)
	for _, k := range exposed {
		c := packCategory(p.Taxonomy, k, esc)
		c.Stated = slices.ContainsFunc(in.Categories, func(s string) bool { return taxonomy.Covers(s, k) })
		v.Categories = append(v.Categories, c)
		if !c.Stated {
			v.Unstated = append(v.Unstated, c)
		}
		if c.Special {
			v.Special = append(v.Special, c)
		}
	}
	for _, k := range packDedupe(in.Categories) {
		c := packCategory(p.Taxonomy, k, esc)
		c.Stated = true
		v.Stated = append(v.Stated, c)
	}
	overlaps := func(prefix string) bool {
		return slices.ContainsFunc(exposed, func(k string) bool { return taxonomy.Overlaps(prefix, k) })
	}
	if len(exposed) > 0 {
		for _, g := range packNotInvolved {
			if !overlaps(g.Prefix) {
				v.NotInvolved = append(v.NotInvolved, g.Words)
			}
		}
	}
	v.CredentialsInvolved = overlaps("user.authorization")

	// Numbers.
	v.Recipients.Listed = st.Streamed
	v.Recipients.Rows = st.Rows
	v.Recipients.Records = st.Records
	for code, n := range p.Exposure.ByJurisdiction {
		if code == "unknown" || code == "" {
			v.UnknownResidence += n
			continue
		}
		v.Jurisdictions = append(v.Jurisdictions, PackJurisdiction{Code: esc(code), Count: n})
	}
	slices.SortFunc(v.Jurisdictions, func(a, b PackJurisdiction) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	if v.UnknownResidence > 0 {
		v.Jurisdictions = append(v.Jurisdictions, PackJurisdiction{Code: "unknown", Count: v.UnknownResidence})
	}

	// Times.
	at := func(a Anchor) *time.Time {
		t, ok := in.Time(a)
		if !ok {
			return nil
		}
		t = t.UTC()
		return &t
	}
	for _, a := range Anchors {
		if t, ok := in.Times[a]; ok && !t.IsZero() {
			v.Times = append(v.Times, PackTime{Anchor: string(a), Label: packAnchorLabels[a], At: t.UTC()})
		}
	}
	if !in.WindowFrom.IsZero() {
		t := in.WindowFrom.UTC()
		v.WindowFrom = &t
	}
	if !in.WindowTo.IsZero() {
		t := in.WindowTo.UTC()
		v.WindowTo = &t
	}
	v.VendorDiscovered = at(AnchorVendorDiscovered)
	v.VendorNotified = at(AnchorVendorNotified)
	v.DatasetReceived = at(AnchorDatasetReceived)
	v.Aware = at(AnchorAware)
	v.Contained = at(AnchorContained)
	if v.DatasetReceived != nil && v.VendorNotified != nil {
		v.DatasetSameDay = v.DatasetReceived.Format(time.DateOnly) == v.VendorNotified.Format(time.DateOnly)
	}
	if v.VendorDiscovered != nil && v.VendorNotified != nil && v.VendorNotified.After(*v.VendorDiscovered) {
		v.VendorDelay = packDuration(v.VendorNotified.Sub(*v.VendorDiscovered))
	}
	if h := in.ContractNoticeHours; h > 0 {
		v.Contract.Hours = h
		if v.VendorDiscovered != nil {
			due := v.VendorDiscovered.Add(time.Duration(h) * time.Hour)
			v.Contract.Due = &due
			if v.VendorNotified != nil && v.VendorNotified.After(due) {
				v.Contract.Late = packDuration(v.VendorNotified.Sub(due))
			}
		}
	}
	if v.Aware != nil {
		by := v.Aware.Add(72 * time.Hour)
		v.NotifyBy = &by
		v.Late72 = v.GeneratedAt.After(by)
	}

	// Duties and timeline.
	for _, d := range p.Duties {
		v.Duties = append(v.Duties, DutyLine{Rule: esc(d.Rule), Regime: esc(d.Regime), Audience: esc(d.Audience),
			Deadline: esc(d.Deadline), Status: esc(d.Status), Citation: esc(d.Citation)})
	}
	for _, e := range packSortedEvents(p.Timeline) {
		pe := PackEvent{At: e.At.UTC(), Actor: esc(e.Actor), Kind: esc(e.Kind), Message: esc(e.Message)}
		var ch []string
		for _, f := range slices.Sorted(maps.Keys(e.Changes)) {
			c := e.Changes[f]
			ch = append(ch, f+": "+cmp.Or(c[0], "(none)")+" → "+cmp.Or(c[1], "(none)"))
		}
		pe.Changes = esc(strings.Join(ch, "; "))
		v.Events = append(v.Events, pe)
	}
	v.RecentEvents = v.Events[max(0, len(v.Events)-10):]

	// Advice and consequences are our own text; only the names in it are
	// from the incident.
	for _, a := range PhishingGuidance(exposed, org, vendor) {
		a.Topic = esc(a.Topic)
		a.Points = escAll(a.Points)
		v.Phishing = append(v.Phishing, a)
	}
	v.Consequences = escAll(LikelyConsequences(exposed, org, vendor))
	v.Actions = escAll(packActions(p, v, vendor, exposed))
	return v
}

// packDedupe drops repeated keys, keeping the first of each: categories
// are shown in the order the incident or blast radius gives them (the
// vendor's statement usually lists the most recognisable first).
func packDedupe(keys []string) []string {
	var out []string
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func packCategory(tree *taxonomy.Tree, key string, esc func(string) string) PackCategory {
	c := PackCategory{Key: esc(key), Name: esc(key), Sensitivity: "unknown"}
	if tc, ok := tree.Get(key); ok {
		c.Name = esc(tc.Name)
		if s := tree.Sensitivity(key); s >= 0 && s < len(packSensitivity) {
			c.Sensitivity = packSensitivity[s]
		}
	}
	if w, ok := packPeopleWords[key]; ok {
		c.Explain = esc(w)
	}
	art9 := func(k string) bool {
		tc, ok := tree.Get(k)
		return ok && strings.Contains(tc.Description, "Art. 9")
	}
	c.Special = art9(key) || slices.ContainsFunc(taxonomy.Ancestors(key), art9) || slices.ContainsFunc(tree.Descendants(key), art9)
	return c
}

func packDecision(b *bool) string {
	switch {
	case b == nil:
		return "not yet decided"
	case *b:
		return "yes"
	}
	return "no"
}

// packDuration says a duration in days and hours, rounded down to the hour.
func packDuration(d time.Duration) string {
	h := int64(d / time.Hour)
	days, hours := h/24, h%24
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + many
	}
	switch {
	case days == 0:
		return unit(hours, "hour", "hours")
	case hours == 0:
		return unit(days, "day", "days")
	}
	return unit(days, "day", "days") + " " + unit(hours, "hour", "hours")
}

// packActions lists what is still open, for the internal brief.
func packActions(p Pack, v *PackView, vendor string, exposed []string) []string {
	in := p.Incident
	var out []string
	if v.Aware == nil {
		out = append(out, "Record when we became aware of the breach: the GDPR 72-hour clock runs from it.")
	}
	if v.VendorDiscovered == nil {
		out = append(out, "Ask "+vendor+" when it discovered the breach.")
	}
	if v.DatasetReceived == nil {
		out = append(out, "Ask "+vendor+" for the affected dataset, to confirm exactly whose data was involved.")
	}
	if len(exposed) == 0 {
		out = append(out, "Establish which categories of data were exposed.")
	}
	if len(v.Unstated) > 0 {
		var names []string
		for _, c := range v.Unstated {
			names = append(names, c.Key)
		}
		out = append(out, "Ask "+vendor+" whether these were also affected: "+strings.Join(names, ", ")+". We sent them in the window but its statement does not mention them.")
	}
	if in.HighRisk == nil {
		out = append(out, "Decide whether the breach is likely to result in a high risk to people (GDPR Art. 34); record the reasoning either way.")
	}
	if p.Profile.PublicCompany && in.Material == nil {
		out = append(out, "Decide whether the incident is material (SEC Form 8-K Item 1.05); four business days run from that decision.")
	}
	if v.UnknownResidence > 0 {
		if v.UnknownResidence == 1 {
			out = append(out, "Find out where the 1 person of unknown residence lives: it decides which laws apply.")
		} else {
			out = append(out, "Find out where the "+packNum(v.UnknownResidence)+" people of unknown residence live: it decides which laws apply.")
		}
	}
	if v.Recipients.Listed && v.Recipients.Rows != p.Exposure.Subjects {
		out = append(out, "Reconcile the counts: the blast radius counts "+packNum(p.Exposure.Subjects)+" people, the recipient list has "+packNum(v.Recipients.Rows)+" rows.")
	}
	if v.Contract.Late != "" {
		out = append(out, "Record "+vendor+"'s late notice ("+v.Contract.Late+" after the "+strconv.Itoa(v.Contract.Hours)+" hours its contract allows) for the vendor review and any contractual remedy.")
	}
	for _, d := range p.Duties {
		if slices.Contains(packDutyDone, strings.ToLower(strings.TrimSpace(d.Status))) {
			continue
		}
		s := "Meet: " + cmp.Or(d.Rule, d.Regime)
		if d.Audience != "" {
			s += " (" + d.Audience + ")"
		}
		if d.Deadline != "" {
			s += "; deadline: " + d.Deadline
		}
		if d.Status != "" {
			s += "; status: " + d.Status
		}
		out = append(out, s+".")
	}
	out = append(out, "Review every letter in this pack, have counsel approve it, and record in the timeline what was sent, to whom and when.")
	return out
}
