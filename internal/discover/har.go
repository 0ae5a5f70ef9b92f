package discover

// HAR captures. A browser's network log says which third parties a page
// really talks to and what it sends them, whatever the code and the
// declarations say. ScanHAR reads a HAR 1.1 or 1.2 file (Chrome, Firefox,
// Safari, Charles, Fiddler…) and reports one traffic finding per vendor and
// request URL (method, scheme, host and path), with the data categories seen
// in the query, path, headers, cookies and body of those requests.
//
// Parsing. The file is read into memory once and validated (harValidate:
// encoding/json's grammar, errors and offsets, several times faster); a
// small scanner then walks the known structure (log, log.pages,
// log.entries[i].request) over the same bytes, and only each entry's
// request object is decoded, one at a time. Responses, timings, initiators
// and the browsers' "_xxx" extensions are skipped without being decoded, so
// the memory used is the file plus one request, and every request can be
// given its line in the file.
//
// Bodies of the vendors the gateway has an adapter for (Mixpanel, Segment,
// Amplitude, Google Analytics 4) are decoded by that adapter, which knows
// their envelopes (base64 data= forms, gtag hits in query strings and body
// lines, batch contexts); other bodies are read by their media type (form,
// JSON, text). Vendor bookkeeping fields (project tokens, write keys,
// insert ids, session ids) are not classified, as in the gateway's policy.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/gateway/adapter"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// DefaultMaxEntryBody is the default of HARScanner.MaxEntryBody.
const DefaultMaxEntryBody = 4 << 20

// HARScanner finds vendors and the personal data sent to them in HAR
// captures. It is safe for concurrent use.
type HARScanner struct {
	// Vendors resolves hosts; nil means the embedded catalog and no first
	// party. When its FirstParty is empty, ScanHAR takes the first party
	// from the capture itself (see ScanHAR).
	Vendors *Vendors
	// Classifier finds categories; nil means taxonomy.DefaultClassifier().
	Classifier *taxonomy.Classifier
	// MaxEntryBody caps the bytes of one request body inspected (default
	// DefaultMaxEntryBody). A longer body is read up to the cap; a
	// compressed one is inflated up to the cap.
	MaxEntryBody int
}

// ScanHAR reads a HAR 1.1 or 1.2 capture from r (name is used in evidence
// and errors) and returns one Finding (KindTraffic) per vendor and request
// method + scheme://host/path (the query left out), with the line of the
// first such request in the file, a snippet "POST https://host/path ×12"
// (×N when N requests share it) and Detail the host. The categories of all
// those requests are merged, the highest confidence per key, with Element
// naming where one was seen: "query:email", "body:properties.$email",
// "header:X-User-Email", "cookie:ajs_user_id", "url:path".
//
// Requests to hosts that are not vendors (first party, ignored, IP
// addresses, localhost), data:, blob:, extension and other non-network URLs,
// and CORS preflights are skipped. When s.Vendors has no FirstParty, the registrable
// domains of the pages (log.pages[].title, when it is a URL) are first
// party, or, without such pages, that of the first request.
//
// Errors name the file and, where there is one, the line and column:
// "capture.har:3:14: not JSON: invalid character…", "capture.har:
// log.entries is missing", "capture.har:57:18: log.entries[3].request.url:
// …". The caller limits the size of r; ScanHAR holds it in memory once, and
// beyond it about one request at a time.
func (s *HARScanner) ScanHAR(name string, r io.Reader) ([]Finding, error) {
	b, err := readAllSized(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := &harDoc{name: name, b: b}
	if err := d.parse(); err != nil {
		return nil, err
	}
	run := s.newRun(d)
	if len(run.vendors.FirstParty) == 0 {
		if err := run.firstPartyFromPages(); err != nil {
			return nil, err
		}
	}
	run.fpDone = len(run.vendors.FirstParty) > 0
	for i, e := range d.entries {
		if err := run.entry(i, e); err != nil {
			return nil, err
		}
	}
	out := make([]Finding, 0, len(run.order))
	for _, g := range run.order {
		f := g.f
		f.Evidence.Snippet = g.what
		if g.n > 1 {
			f.Evidence.Snippet += " ×" + strconv.Itoa(g.n)
		}
		f.Categories = slices.DeleteFunc(f.Categories, func(c Category) bool { return c.Confidence < MinConfidence })
		sortCategories(f.Categories)
		out = append(out, f)
	}
	SortFindings(out)
	return out, nil
}

// readAllSized reads r whole, allocating once when r knows its size.
func readAllSized(r io.Reader) ([]byte, error) {
	n := 0
	switch x := r.(type) {
	case interface{ Len() int }: // bytes.Reader, strings.Reader, bytes.Buffer
		n = x.Len()
	case interface{ Stat() (fs.FileInfo, error) }: // os.File
		if fi, err := x.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < 1<<40 {
			n = int(fi.Size())
		}
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------------------
// The document

// harDoc is a HAR file and where its parts are.
type harDoc struct {
	name    string
	b       []byte
	pagesAt int // offset of log.pages' value, -1 when absent
	entries []harEntryRef

	// line cursor for lineCol: the line of offset lineOff
	lineOff, line, lineStart int
}

// harEntryRef locates log.entries[i] and its request in the file.
type harEntryRef struct {
	at  int // the entry's value
	req int // the request's value, -1 when absent
}

// harRequest is the part of a HAR request that is inspected (decodeRequest
// reads it).
type harRequest struct {
	Method   string
	URL      *string // nil when absent or null
	Headers  []harNV
	Cookies  []harNV
	PostData *harPostData
}

// harNV is a header, cookie or form parameter.
type harNV struct {
	Name, Value string
}

type harPostData struct {
	MimeType string
	Text     string
	Encoding string // "base64" (Firefox, for binary bodies)
	Params   []harNV
}

// errorf is an error at offset off of the file ("name:line:col: …"), or at
// the file when off < 0.
func (d *harDoc) errorf(off int, format string, args ...any) error {
	if off < 0 {
		return fmt.Errorf("%s: %s", d.name, fmt.Sprintf(format, args...))
	}
	line, col := d.lineCol(off)
	return fmt.Errorf("%s:%d:%d: %s", d.name, line, col, fmt.Sprintf(format, args...))
}

// lineCol is the 1-based line and byte column of offset off. Calls with
// growing offsets cost the bytes between them.
func (d *harDoc) lineCol(off int) (line, col int) {
	off = min(max(off, 0), len(d.b))
	if d.line == 0 || off < d.lineOff {
		d.lineOff, d.line, d.lineStart = 0, 1, 0
	}
	seg := d.b[d.lineOff:off]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		d.line += n
		d.lineStart = d.lineOff + bytes.LastIndexByte(seg, '\n') + 1
	}
	d.lineOff = off
	return d.line, off - d.lineStart + 1
}

// parse validates the JSON and finds log.pages and the entries' requests.
func (d *harDoc) parse() error {
	b := d.b
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) { // Fiddler writes a BOM
		copy(b, "   ")
	}
	if len(bytes.TrimLeft(b, " \t\r\n")) == 0 {
		return d.errorf(-1, "empty file, want a HAR capture (JSON)")
	}
	if err := harValidate(b); err != nil {
		return d.errorf(err.pos, "not JSON: %s", err.msg)
	}
	w := &harWalker{b: b}
	w.ws()
	if w.peek() != '{' {
		return d.errorf(w.pos, "not a HAR capture: the file is %s, want an object with a \"log\"", jsonKindAt(b, w.pos))
	}
	logAt := -1
	w.members(func(key []byte, at int) {
		if keyIs(key, "log") {
			logAt = at
		}
	})
	if logAt < 0 {
		return d.errorf(-1, "log.entries is missing")
	}
	if b[logAt] != '{' {
		return d.errorf(logAt, "log is %s, want an object", jsonKindAt(b, logAt))
	}
	versionAt, entriesAt := -1, -1
	d.pagesAt = -1
	w.pos = logAt
	w.members(func(key []byte, at int) {
		switch {
		case keyIs(key, "version"):
			versionAt = at
		case keyIs(key, "pages"):
			d.pagesAt = at
		case keyIs(key, "entries"):
			entriesAt = at
			if b[at] == '[' {
				d.entries = d.entries[:0]
				w.elements(func(at int) {
					e := harEntryRef{at: at, req: -1}
					if b[at] == '{' {
						w.members(func(key []byte, at int) {
							if keyIs(key, "request") {
								e.req = at
							}
						})
					}
					d.entries = append(d.entries, e)
				})
			}
		}
	})
	if versionAt >= 0 && b[versionAt] != 'n' {
		v, ok := d.str(w, versionAt)
		if !ok {
			return d.typeError(versionAt, "a string", "log.version")
		}
		if v != "1.1" && v != "1.2" {
			return d.errorf(versionAt, "log.version is %s, want 1.1 or 1.2", quoteShort(v))
		}
	}
	switch {
	case entriesAt < 0:
		return d.errorf(-1, "log.entries is missing")
	case b[entriesAt] != '[':
		return d.errorf(entriesAt, "log.entries is %s, want an array", jsonKindAt(b, entriesAt))
	}
	for i, e := range d.entries {
		if b[e.at] != '{' {
			return d.errorf(e.at, "log.entries[%d] is %s, want an object", i, jsonKindAt(b, e.at))
		}
	}
	return nil
}

// memberAt is the offset of the value of key in the object at off (the
// object itself when it has no such key).
func (d *harDoc) memberAt(off int, key string) int {
	at := off
	w := &harWalker{b: d.b, pos: off}
	w.members(func(k []byte, v int) {
		if keyIs(k, key) {
			at = v
		}
	})
	return at
}

// typeError says that the value at off is not what the field at path
// (a format and its arguments) wants.
func (d *harDoc) typeError(off int, want, format string, args ...any) error {
	return d.errorf(off, "%s is %s, want %s", fmt.Sprintf(format, args...), jsonKindAt(d.b, off), want)
}

// str reads the string at off (null is ""), leaving w after it; ok is false
// for any other value.
func (d *harDoc) str(w *harWalker, off int) (s string, ok bool) {
	switch d.b[off] {
	case 'n':
		return "", true
	case '"':
		w.pos = off
		raw := w.str()
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw), true
		}
		// valid JSON: cannot fail
		return s, json.Unmarshal(d.b[off:w.pos], &s) == nil
	}
	return "", false
}

// nvs reads log.entries[i].request.<field>, an array of {"name", "value"}
// objects (null is none).
func (d *harDoc) nvs(w *harWalker, off, i int, field string) ([]harNV, error) {
	const at = "log.entries[%d].request.%s"
	switch d.b[off] {
	case 'n':
		return nil, nil
	case '[':
	default:
		return nil, d.typeError(off, "an array", at, i, field)
	}
	var out []harNV
	var err error
	j := 0
	w.pos = off
	w.elements(func(el int) {
		j++
		switch {
		case err != nil || d.b[el] == 'n':
			return
		case d.b[el] != '{':
			err = d.typeError(el, "an object", at+"[%d]", i, field, j-1)
			return
		}
		var nv harNV
		w.members(func(k []byte, v int) {
			var ok bool
			switch {
			case err != nil:
				return
			case keyIs(k, "name"):
				nv.Name, ok = d.str(w, v)
			case keyIs(k, "value"):
				nv.Value, ok = d.str(w, v)
			default:
				return
			}
			if !ok {
				err = d.typeError(v, "a string", at+"[%d].%s", i, field, j-1, k)
			}
		})
		out = append(out, nv)
	})
	return out, err
}

// decodeRequest reads log.entries[i].request: the fields ScanHAR uses,
// checking their types; the rest is not looked at.
func (d *harDoc) decodeRequest(i int, e harEntryRef) (*harRequest, error) {
	if e.req < 0 {
		return nil, d.errorf(e.at, "log.entries[%d].request is missing", i)
	}
	if d.b[e.req] != '{' {
		return nil, d.typeError(e.req, "an object", "log.entries[%d].request", i)
	}
	rq := new(harRequest)
	var err error
	w := &harWalker{b: d.b, pos: e.req}
	w.members(func(k []byte, at int) {
		ok := true
		switch {
		case err != nil:
		case keyIs(k, "method"):
			rq.Method, ok = d.str(w, at)
		case keyIs(k, "url"):
			var u string
			if u, ok = d.str(w, at); ok && d.b[at] != 'n' {
				rq.URL = &u
			}
		case keyIs(k, "headers"):
			rq.Headers, err = d.nvs(w, at, i, "headers")
		case keyIs(k, "cookies"):
			rq.Cookies, err = d.nvs(w, at, i, "cookies")
		case keyIs(k, "postData"):
			rq.PostData, err = d.postData(w, at, i)
		}
		if !ok {
			err = d.typeError(at, "a string", "log.entries[%d].request.%s", i, k)
		}
	})
	return rq, err
}

// postData reads log.entries[i].request.postData (null is none).
func (d *harDoc) postData(w *harWalker, off, i int) (*harPostData, error) {
	switch d.b[off] {
	case 'n':
		return nil, nil
	case '{':
	default:
		return nil, d.typeError(off, "an object", "log.entries[%d].request.postData", i)
	}
	pd := new(harPostData)
	var err error
	w.pos = off
	w.members(func(k []byte, at int) {
		ok := true
		switch {
		case err != nil:
		case keyIs(k, "mimeType"):
			pd.MimeType, ok = d.str(w, at)
		case keyIs(k, "text"):
			pd.Text, ok = d.str(w, at)
		case keyIs(k, "encoding"):
			pd.Encoding, ok = d.str(w, at)
		case keyIs(k, "params"):
			pd.Params, err = d.nvs(w, at, i, "postData.params")
		}
		if !ok {
			err = d.typeError(at, "a string", "log.entries[%d].request.postData.%s", i, k)
		}
	})
	return pd, err
}

// jsonKindAt names the JSON value starting at b[off].
func jsonKindAt(b []byte, off int) string {
	if off < 0 || off >= len(b) {
		return "nothing"
	}
	switch b[off] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// keyIs compares a raw (still escaped) JSON key with a plain one.
func keyIs(raw []byte, k string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == k
	}
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	return json.Unmarshal(q, &s) == nil && s == k
}

// ---------------------------------------------------------------------------
// Requests

// harRun is the state of one ScanHAR call.
type harRun struct {
	d       *harDoc
	vendors Vendors
	c       *taxonomy.Classifier
	maxBody int
	hosts   map[string]harHost
	groups  map[string]*harGroup
	order   []*harGroup
	// fpDone is set once the first party is known: given by the caller,
	// taken from the pages, or from the first request.
	fpDone bool
}

type harHost struct {
	id, name string
	ok       bool
}

// harGroup is the finding of the requests to one vendor URL.
type harGroup struct {
	f    Finding
	what string // "POST https://host/path"
	n    int
}

func (s *HARScanner) newRun(d *harDoc) *harRun {
	run := &harRun{d: d, c: s.Classifier, maxBody: s.MaxEntryBody,
		hosts: map[string]harHost{}, groups: map[string]*harGroup{}}
	if s.Vendors != nil {
		run.vendors = *s.Vendors // a copy: the first party may be filled in
	} else {
		run.vendors.Catalog = catalog.Default()
	}
	run.vendors.FirstParty = append([]string(nil), run.vendors.FirstParty...)
	if run.c == nil {
		run.c = taxonomy.DefaultClassifier()
	}
	if run.maxBody <= 0 {
		run.maxBody = DefaultMaxEntryBody
	}
	return run
}

// firstPartyFromPages takes the first party from the pages' titles that
// are URLs (Chrome titles pages with their URL, Firefox with the document
// title).
func (run *harRun) firstPartyFromPages() error {
	if run.d.pagesAt < 0 || run.d.b[run.d.pagesAt] == 'n' {
		return nil
	}
	if run.d.b[run.d.pagesAt] != '[' {
		return run.d.errorf(run.d.pagesAt, "log.pages is %s, want an array", jsonKindAt(run.d.b, run.d.pagesAt))
	}
	w := &harWalker{b: run.d.b, pos: run.d.pagesAt}
	i := 0
	var err error
	w.elements(func(at int) {
		if err != nil {
			return
		}
		if run.d.b[at] != '{' {
			err = run.d.errorf(at, "log.pages[%d] is %s, want an object", i, jsonKindAt(run.d.b, at))
			return
		}
		w.members(func(key []byte, at int) {
			if !keyIs(key, "title") || run.d.b[at] != '"' {
				return // a title that is not a string is not a URL either
			}
			title, _ := run.d.str(w, at)
			if u, err := url.Parse(strings.TrimSpace(title)); err == nil && harNetworkScheme(strings.ToLower(u.Scheme)) {
				run.addFirstParty(u.Hostname())
			}
		})
		i++
	})
	return err
}

// addFirstParty makes the registrable domain of host first party, if it
// has one (not an IP address, localhost or a bare public suffix).
func (run *harRun) addFirstParty(host string) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !strings.Contains(host, ".") || net.ParseIP(host) != nil {
		return
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil || slices.Contains(run.vendors.FirstParty, d) {
		return
	}
	run.vendors.FirstParty = append(run.vendors.FirstParty, d)
}

func harNetworkScheme(s string) bool {
	return s == "https" || s == "http" || s == "wss" || s == "ws"
}

// harSkipSchemes are URL schemes of requests that leave no trace on the
// network.
var harSkipSchemes = map[string]bool{
	"data": true, "blob": true, "about": true, "javascript": true, "filesystem": true,
	"chrome": true, "chrome-extension": true, "moz-extension": true, "safari-extension": true,
	"safari-web-extension": true, "ms-browser-extension": true, "edge": true, "file": true,
}

// harURL parses a request URL; skip is true for URLs that are not network
// requests (data:, blob:, extensions).
func harURL(raw string) (u *url.URL, skip bool, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, false, errors.New("empty URL")
	}
	if i := strings.IndexByte(raw, ':'); i > 0 && harSkipSchemes[strings.ToLower(raw[:i])] {
		return nil, true, nil
	}
	u, err = url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, false, fmt.Errorf("cannot parse %s: %v", quoteShort(raw), err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "":
		return nil, false, fmt.Errorf("%s is not an absolute URL", quoteShort(raw))
	case !harNetworkScheme(scheme):
		return nil, true, nil
	case u.Hostname() == "":
		return nil, false, fmt.Errorf("%s has no host", quoteShort(raw))
	}
	u.Scheme = scheme
	return u, false, nil
}

// quoteShort quotes s, cut to 120 bytes.
func quoteShort(s string) string {
	if len(s) > 120 {
		s = s[:120]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return strconv.Quote(s) + "…"
	}
	return strconv.Quote(s)
}

func (run *harRun) host(h string) harHost {
	if r, ok := run.hosts[h]; ok {
		return r
	}
	var r harHost
	r.id, r.name, r.ok = run.vendors.Host(h)
	run.hosts[h] = r
	return r
}

// entry inspects log.entries[i].
func (run *harRun) entry(i int, e harEntryRef) error {
	d := run.d
	rq, err := d.decodeRequest(i, e)
	if err != nil {
		return err
	}
	if rq.URL == nil {
		return d.errorf(e.req, "log.entries[%d].request.url is missing", i)
	}
	u, skip, err := harURL(*rq.URL)
	if err != nil {
		return d.errorf(d.memberAt(e.req, "url"), "log.entries[%d].request.url: %v", i, err)
	}
	if skip {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if !run.fpDone {
		run.fpDone = true
		run.addFirstParty(host) // the first request is the page's
	}
	v := run.host(host)
	if !v.ok {
		return nil
	}
	method := strings.ToUpper(strings.TrimSpace(rq.Method))
	if method == "" {
		method = http.MethodGet
	}
	if method == http.MethodOptions && harHasHeader(rq.Headers, "Access-Control-Request-Method") {
		return nil // a CORS preflight: the browser's, and the request follows
	}

	cl := harClassifier{c: run.c}
	path := cl.path(u)
	what := method + " " + u.Scheme + "://" + strings.ToLower(u.Host) + path
	key := v.id + "\x00" + what
	g := run.groups[key]
	if g == nil {
		line, _ := d.lineCol(e.req)
		g = &harGroup{what: what, f: Finding{
			Vendor: v.id, VendorName: v.name, Kind: KindTraffic, Detail: host,
			Evidence: Evidence{File: d.name, Line: line},
		}}
		run.groups[key] = g
		run.order = append(run.order, g)
	}
	g.n++
	run.classify(&cl, v.id, method, u, rq)
	for _, c := range cl.cats {
		g.f.Categories = mergeCategory(g.f.Categories, c)
	}
	return nil
}

// harStdHeaders are request headers every browser sends to every host, or
// that describe the transport: they say nothing about the person beyond
// what any request does, and are not classified. Cookie is read from the
// request's cookies.
var harStdHeaders = map[string]bool{
	"user-agent": true, "referer": true, "origin": true, "cookie": true, "host": true,
	"connection": true, "keep-alive": true, "content-type": true, "content-length": true,
	"content-encoding": true, "transfer-encoding": true, "cache-control": true, "pragma": true,
	"upgrade-insecure-requests": true, "upgrade": true, "dnt": true, "te": true, "priority": true,
	"if-none-match": true, "if-modified-since": true, "if-match": true, "if-unmodified-since": true,
	"if-range": true, "range": true, "expect": true, "purpose": true, "x-requested-with": true,
	"access-control-request-method": true, "access-control-request-headers": true,
}

func harHasHeader(hs []harNV, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func harStdHeader(name string) bool {
	n := strings.ToLower(name)
	return harStdHeaders[n] || strings.HasPrefix(n, ":") || strings.HasPrefix(n, "accept") ||
		strings.HasPrefix(n, "sec-")
}

// harAdapters are the gateway's wire formats, by catalog vendor id.
var harAdapters = map[string]adapter.Adapter{
	"mixpanel":         adapter.Mixpanel{},
	"segment":          adapter.Segment{},
	"amplitude":        adapter.Amplitude{},
	"google-analytics": adapter.GA4{},
}

// harProtocolFields are the keys of each wire format that carry no personal
// data (project tokens, write keys, deduplication keys, timestamps, library
// versions): the gateway's policy does not classify them either.
var harProtocolFields = map[string]map[string]bool{
	"mixpanel":         harSet("token", "$token", "time", "$time", "$insert_id", "mp_lib", "$lib_version", "$ignore_time", "$ignore_alias", "$group_key"),
	"segment":          harSet("writeKey", "messageId", "timestamp", "sentAt", "originalTimestamp", "type", "version", "integrations", "library"),
	"amplitude":        harSet("api_key", "insert_id", "time", "event_type", "event_id", "session_id", "library"),
	"google-analytics": harSet("timestamp_micros", "non_personalized_ads", "engagement_time_msec", "session_id", "v", "tid", "gtm", "_p", "en"),
}

func harSet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// classify adds the categories of one request to cl.
func (run *harRun) classify(cl *harClassifier, vendor, method string, u *url.URL, rq *harRequest) {
	header := http.Header{}
	for _, h := range rq.Headers {
		if strings.HasPrefix(h.Name, ":") {
			continue // HTTP/2 pseudo-headers: :path repeats the URL
		}
		header.Add(h.Name, h.Value)
		if !harStdHeader(h.Name) && h.Value != "" {
			cl.name("header:", h.Name, h.Name)
			cl.value("header:", h.Name, h.Value)
		}
	}
	cookies := rq.Cookies
	if len(cookies) == 0 {
		for _, line := range header.Values("Cookie") {
			for _, c := range strings.Split(line, ";") {
				n, v, _ := strings.Cut(strings.TrimSpace(c), "=")
				if n != "" {
					cookies = append(cookies, harNV{Name: n, Value: v})
				}
			}
		}
	}
	for _, c := range cookies {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			c.Value = v
		}
		if c.Value != "" {
			cl.name("cookie:", c.Name, c.Name)
			cl.value("cookie:", c.Name, c.Value)
		}
	}

	body, mimeType := run.body(rq, header)
	if a := harAdapters[vendor]; a != nil && a.Route(method, u.Path) == adapter.RouteData && len(body) <= run.maxBody {
		if header.Get("Content-Type") == "" && mimeType != "" {
			header.Set("Content-Type", mimeType)
		}
		query, _ := url.ParseQuery(u.RawQuery) // keeps the pairs it can read
		req := &adapter.Request{Method: method, Path: u.Path, Query: query, Header: header, Body: body}
		if batch, err := a.Decode(req); err == nil {
			cl.skip = harProtocolFields[vendor]
			for i, m := range batch.Messages {
				if m == nil {
					continue
				}
				// Where the message came from: gtag puts the URL's
				// parameters first; Mixpanel reads data= from the query
				// when the body is empty.
				prefix := "body:"
				if len(bytes.TrimSpace(body)) == 0 || vendor == "google-analytics" && i == 0 && u.Path == "/g/collect" && u.RawQuery != "" {
					prefix = "query:"
				}
				// An event's own name, title or url is not about the
				// person: classify its keys as ScanJSON does those of
				// events[] (GA4's {"name": "purchase"}, Segment's page name).
				container := ""
				if m.Kind == adapter.KindEvent {
					container = "event"
				}
				cl.object(prefix, m.Object, container, nil)
			}
			cl.skip = nil
			return
		}
	}
	cl.query(u.RawQuery)
	if len(body) > run.maxBody {
		body = body[:run.maxBody]
	}
	cl.body(mimeType, body, rq.PostData)
}

// body returns the request body, decoded from base64 and gzip, and its
// media type.
func (run *harRun) body(rq *harRequest, header http.Header) ([]byte, string) {
	pd := rq.PostData
	if pd == nil {
		return nil, ""
	}
	mimeType := pd.MimeType
	if mimeType == "" {
		mimeType = header.Get("Content-Type")
	}
	text := pd.Text
	if text == "" && len(pd.Params) > 0 {
		return nil, mimeType // read from the params
	}
	body := []byte(text)
	if strings.EqualFold(pd.Encoding, "base64") {
		if b, ok := harBase64(text, run.maxBody); ok {
			body = b
		}
	}
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(io.LimitReader(zr, int64(run.maxBody)+1)); err == nil || len(b) > 0 {
				body = b
			}
		}
	}
	return body, mimeType
}

// harBase64 decodes base64 text (Firefox's postData with "encoding":
// "base64"), padded or not, in either alphabet, ignoring line breaks; only
// about the first limit decoded bytes are decoded.
func harBase64(text string, limit int) ([]byte, bool) {
	if n := (limit/3 + 2) * 4; len(text) > n {
		text = text[:n]
	}
	t := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, text)
	t = strings.TrimRight(t, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(t, "-_") {
		enc = base64.RawURLEncoding
	}
	if len(t)%4 == 1 { // cut by the limit inside a quantum
		t = t[:len(t)-1]
	}
	b, err := enc.DecodeString(t)
	return b, err == nil
}

// ---------------------------------------------------------------------------
// Classification

// harClassifier accumulates the categories of a request.
type harClassifier struct {
	c    *taxonomy.Classifier
	cats []Category
	skip map[string]bool // keys not to classify (the wire format's own)
}

// add records f, seen at prefix+elem.
func (cl *harClassifier) add(prefix, elem string, f taxonomy.Finding) {
	if f.Category == "" {
		return // a hash of something unknown
	}
	cl.cats = mergeCategory(cl.cats, Category{Key: f.Category, Confidence: f.Confidence, Element: prefix + elem})
}

// mergeCategory is addCategory, except that of two findings of a category
// with the same confidence it keeps the element that sorts first, so the
// result does not depend on the order of map keys.
func mergeCategory(cs []Category, c Category) []Category {
	for i := range cs {
		if cs[i].Key == c.Key {
			if c.Confidence > cs[i].Confidence || c.Confidence == cs[i].Confidence && c.Element < cs[i].Element {
				cs[i] = c
			}
			return cs
		}
	}
	return append(cs, c)
}

// name classifies a field name; elem is where it is.
func (cl *harClassifier) name(prefix, elem, name string) {
	if name == "" {
		return
	}
	if f, ok := cl.c.FieldName(name); ok {
		cl.add(prefix, elem, f)
	}
}

// value classifies a string value.
func (cl *harClassifier) value(prefix, elem, v string) {
	if len(v) < 3 {
		return
	}
	for _, f := range cl.c.Value(v) {
		cl.add(prefix, elem, f)
	}
}

// path classifies the URL path's segments and returns the path with the
// segments that hold personal data replaced by {kind}, cut to 200 bytes.
func (cl *harClassifier) path(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	var out strings.Builder
	for i, seg := range strings.Split(p, "/") {
		if i > 0 {
			out.WriteByte('/')
		}
		plain := seg
		if s, err := url.PathUnescape(seg); err == nil {
			plain = s
		}
		kind := ""
		for _, f := range cl.c.Value(plain) {
			if f.Category != "" {
				cl.add("url:", "path", f)
				if kind == "" {
					kind = f.Kind
				}
			}
		}
		if kind != "" {
			out.WriteString("{" + kind + "}")
		} else {
			out.WriteString(seg)
		}
	}
	s := out.String()
	if len(s) > 200 {
		s = s[:200]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// query classifies a query string, parameter by parameter.
func (cl *harClassifier) query(raw string) {
	cl.pairs("query:", raw)
}

// pairs classifies name=value&… pairs; a value that is JSON, or base64 of
// JSON (data=), is read as JSON.
func (cl *harClassifier) pairs(prefix, raw string) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if s, err := url.QueryUnescape(k); err == nil {
			k = s
		}
		if s, err := url.QueryUnescape(v); err == nil {
			v = s
		}
		cl.param(prefix, k, v)
	}
}

// param classifies one named parameter.
func (cl *harClassifier) param(prefix, k, v string) {
	if v != "" {
		cl.name(prefix, k, k)
	}
	if js := harEmbeddedJSON(v); js != nil && cl.json(prefix+k+".", js) {
		return
	}
	cl.value(prefix, k, v)
}

// harEmbeddedJSON returns v, or what it holds in base64, when that is a
// JSON object or array; nil otherwise.
func harEmbeddedJSON(v string) []byte {
	t := strings.TrimSpace(v)
	if len(t) < 2 {
		return nil
	}
	if t[0] == '{' || t[0] == '[' {
		return []byte(t)
	}
	if len(t) < 8 || strings.IndexFunc(t, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '+' || r == '/' || r == '-' || r == '_' || r == '=' || r == ' ')
	}) >= 0 {
		return nil
	}
	t = strings.TrimRight(strings.ReplaceAll(t, " ", "+"), "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(t, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(t)
	if err != nil {
		return nil
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' && b[0] != '[' {
		return nil
	}
	return b
}

// json classifies a JSON document; false when it is not valid JSON (the
// findings before the error are kept).
func (cl *harClassifier) json(prefix string, b []byte) bool {
	err := cl.c.ScanJSON(b, func(path string, f taxonomy.Finding) {
		for strings.HasPrefix(path, "[]") {
			path = strings.TrimPrefix(path[2:], ".")
		}
		cl.add(prefix, path, f)
	})
	return err == nil
}

// body classifies a request body by its media type.
func (cl *harClassifier) body(mimeType string, body []byte, pd *harPostData) {
	mt, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.Split(mimeType, ";")[0]))
	}
	if len(body) == 0 {
		if pd != nil { // form fields listed as params
			for _, p := range pd.Params {
				cl.param("body:", p.Name, p.Value)
			}
		}
		return
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		cl.pairs("body:", string(body))
		return
	case mt == "multipart/form-data" && pd != nil && len(pd.Params) > 0:
		for _, p := range pd.Params {
			cl.param("body:", p.Name, p.Value)
		}
		return
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		n := len(cl.cats)
		if cl.json("body:", body) || cl.ndjson(body) {
			return
		}
		if len(cl.cats) > n {
			return // JSON up to an error (or the cap): what it held is known
		}
	}
	if harTextual(mt) && utf8.Valid(body) {
		cl.value("body", "", string(body))
	}
}

// ndjson classifies a body of one JSON value a line; false when a line is
// not JSON.
func (cl *harClassifier) ndjson(body []byte) bool {
	if bytes.IndexByte(body, '\n') < 0 {
		return false
	}
	for line := range bytes.SplitSeq(body, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) > 0 && !cl.json("body:", line) {
			return false
		}
	}
	return true
}

// harTextual says whether a body of media type mt is text worth searching.
func harTextual(mt string) bool {
	switch {
	case mt == "", strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"),
		strings.Contains(mt, "json"), strings.Contains(mt, "xml"), strings.Contains(mt, "javascript"),
		strings.Contains(mt, "form"), mt == "application/graphql":
		return true
	}
	return false
}

// object classifies a decoded message object: keys by name (with the
// enclosing key as context, as ScanJSON does) and string values by value.
func (cl *harClassifier) object(prefix string, obj map[string]any, container string, path []byte) {
	for k, v := range obj {
		if cl.skip[k] {
			continue
		}
		name := k
		if container != "" {
			name = container + "." + k
		}
		elem := append(path, k...)
		if harFilled(v) {
			if f, ok := cl.c.FieldName(name); ok {
				cl.add(prefix, string(elem), f)
			}
		}
		cl.any(prefix, v, k, elem)
	}
}

// any classifies the value v found under key k at path elem.
func (cl *harClassifier) any(prefix string, v any, k string, elem []byte) {
	switch x := v.(type) {
	case string:
		if len(x) >= 3 {
			for _, f := range cl.c.Value(x) {
				cl.add(prefix, string(elem), f)
			}
		}
	case map[string]any:
		cl.object(prefix, x, k, append(elem, '.'))
	case []any:
		elem = append(elem, "[]"...)
		for _, e := range x {
			cl.any(prefix, e, k, elem)
		}
	}
}

// harFilled says whether a field holds something (ScanJSON's rule for
// reporting a field name).
func harFilled(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}
