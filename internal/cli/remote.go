package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// Limits of the remote client.
const (
	dialTimeout = 10 * time.Second
	// remoteMaxErrorBody bounds an error answer.
	remoteMaxErrorBody = 64 << 10
)

var (
	// remoteTimeout bounds one request, from dialing to the last byte of
	// the answer (a blast radius over a large ledger takes a while).
	remoteTimeout = 2 * time.Minute
	// remoteMaxBody bounds one answer, and remoteMaxTotal all the pages of
	// one list (variables, so tests can make them small).
	remoteMaxBody  int64 = 64 << 20
	remoteMaxTotal int64 = 256 << 20
	// remotePageSize is how many items a list asks for at a time: the
	// API's maximum.
	remotePageSize = 1000
)

// remote is the backend of --server: a client of a weaklink server's API
// under /api/v1, authenticated with the API token from $WEAKLINK_TOKEN. It
// decodes the answers into the types the service returns locally, so the
// commands print the same output.
//
// The token goes in the Authorization header only: never in a URL, a
// message or a log. Redirects are not followed (one could lead the token
// to another host, or to plain http), and plain http is refused unless the
// server is on this machine or --insecure-http is given.
type remote struct {
	base   string // scheme://host[:port][/prefix], without a trailing slash
	token  auth.Secret
	client *http.Client
}

// newRemote checks the server URL and the token and makes the client.
func newRemote(server, token string, insecure bool) (*remote, error) {
	base, err := parseServer(server, insecure)
	if err != nil {
		return nil, err
	}
	sec, err := parseToken(token)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: remoteTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &remote{base: base.String(), token: sec, client: &http.Client{
		Transport: tr,
		Timeout:   remoteTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}, nil
}

// parseServer checks a --server URL: https, or http to this machine
// (or anywhere with insecure), a host, and nothing but a path prefix.
func parseServer(raw string, insecure bool) (*url.URL, error) {
	bad := func(format string, args ...any) error {
		return usageError{fmt.Errorf("--server: "+format, args...)}
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Opaque != "" {
		return nil, bad("%q is not a URL: give one such as https://weaklink.example.com", redactURL(raw))
	}
	if u.User != nil {
		// Not even the user name is echoed: the URL may hold a password.
		return nil, bad("leave credentials out of the URL: the API token comes from $WEAKLINK_TOKEN")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, bad("%q: give an https:// URL (or http:// to a server on this machine), such as https://weaklink.example.com", raw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, bad("%q: give the server's address without a query or fragment", u.Scheme+"://"+u.Host+u.Path)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) && !insecure {
		return nil, bad("%s: plain http:// would send the API token across the network in clear; "+
			"use https://, or a server on this machine (127.0.0.1, ::1, localhost), or add --insecure-http if the network is trusted", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// isLoopback reports whether host is this machine: localhost, or a
// loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// parseToken checks $WEAKLINK_TOKEN: an API token (or a session's secret),
// whole. Its messages never hold the token.
func parseToken(token string) (auth.Secret, error) {
	if auth.IsSecretID(token, auth.TokenPrefix) {
		return auth.Secret{}, usageError{errors.New("$WEAKLINK_TOKEN holds a token's ID (what 'tokens list' shows), not the token: 'weaklink tokens create' prints the token, once")}
	}
	prefix := auth.TokenPrefix
	if strings.HasPrefix(token, auth.SessionPrefix) {
		prefix = auth.SessionPrefix
	}
	sec, err := auth.ParseSecret(token, prefix)
	if err != nil {
		return auth.Secret{}, usageError{fmt.Errorf("$WEAKLINK_TOKEN: %w", err)}
	}
	return sec, nil
}

// remoteError is an error answer of the API, explained.
type remoteError struct {
	status int
	info   web.ErrorInfo
	msg    string
}

func (e *remoteError) Error() string { return e.msg }

// rawBody is a request body that is not JSON.
type rawBody struct {
	contentType string
	data        []byte
}

// send makes one request to the API with the token, and returns the
// answer if it is a success (the caller closes its body); any other
// answer is explained by answerError.
func (r *remote) send(ctx context.Context, client *http.Client, method, path string, q url.Values, body io.Reader, contentType, accept string) (*http.Response, error) {
	target := r.base + "/api/v1" + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token.Reveal())
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "weaklink-cli/"+Version)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, r.transportError(ctx, method, err, false)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		defer res.Body.Close()
		return nil, r.answerError(res)
	}
	return res, nil
}

// call makes one request: method, the path below /api/v1 (with its
// segments escaped), the query, a body (nil: none; a rawBody as it is;
// anything else as JSON) and where the answer goes (nil: nowhere; an
// io.Writer: as it is, once whole; anything else: decoded from JSON). It
// returns the answer's headers and size.
func (r *remote) call(ctx context.Context, method, path string, q url.Values, body, out any) (http.Header, int64, error) {
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case rawBody:
		rd, contentType = bytes.NewReader(b.data), b.contentType
	default:
		data, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(data)
	}
	if body == nil {
		contentType = ""
	}
	res, err := r.send(ctx, r.client, method, path, q, rd, contentType, "application/json")
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, remoteMaxErrorBody))
		return res.Header, 0, nil
	}
	w, raw := out.(io.Writer)
	if ct := res.Header.Get("Content-Type"); !raw && !web.IsJSON(ct) || raw && strings.HasPrefix(ct, "text/html") {
		return nil, 0, fmt.Errorf("the server at %s answered %s %s with %q, not JSON: is it weaklink serve?", r.base, method, path, ct)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, remoteMaxBody+1))
	if err != nil {
		return nil, 0, r.transportError(ctx, method, err, true)
	}
	if int64(len(b)) > remoteMaxBody {
		return nil, 0, fmt.Errorf("the server's answer to %s %s is larger than %d bytes", method, path, remoteMaxBody)
	}
	if raw {
		_, err := w.Write(b)
		return res.Header, int64(len(b)), err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return nil, 0, fmt.Errorf("the server's answer to %s %s is not what this weaklink expects (%v): are the server and the command line of the same version?", method, path, err)
	}
	return res.Header, int64(len(b)), nil
}

// transportError explains a request that got no whole answer (midway:
// the answer had begun). A write that may have reached the server says
// so, so that nobody repeats a change blindly.
func (r *remote) transportError(ctx context.Context, method string, err error, midway bool) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = r.describeTransport(err, midway)
	var op *net.OpError
	if method != http.MethodGet && method != http.MethodHead && (midway || !errors.As(err, &op) || op.Op != "dial") {
		return fmt.Errorf("%w; the change may have been made: look before trying again", err)
	}
	return err
}

func (r *remote) describeTransport(err error, midway bool) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is named below; it holds no secret, but the query is noise
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("cannot reach the server at %s: %w", r.base, err)
	case midway:
		return fmt.Errorf("the server at %s stopped in the middle of its answer: %w", r.base, err)
	case errors.Is(err, context.DeadlineExceeded) || (ue != nil && ue.Timeout()):
		return fmt.Errorf("the server at %s did not answer within %v", r.base, remoteTimeout)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("the server at %s: its TLS certificate is signed by an authority this machine does not trust (set SSL_CERT_FILE to a file with its CA certificate): %w", r.base, err)
	case errors.As(err, &hostname):
		return fmt.Errorf("the server at %s: its TLS certificate is for another name: %w", r.base, err)
	}
	return fmt.Errorf("cannot reach the server at %s: %w", r.base, err)
}

// answerError explains an answer other than a success: the API's error
// message, with what 401 and 403 mean for a command line.
func (r *remote) answerError(res *http.Response) error {
	e := &remoteError{status: res.StatusCode}
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		e.msg = fmt.Sprintf("the server at %s answered %s with a redirect to %q: give the address it redirects to as --server (redirects are not followed, so the token goes only where you say)",
			r.base, res.Status, redactURL(res.Header.Get("Location")))
		return e
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, remoteMaxErrorBody))
	var body web.ErrorResponse
	if web.IsJSON(res.Header.Get("Content-Type")) && json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		e.info = body.Error
	} else {
		e.info = web.ErrorInfo{Message: "the server at " + r.base + " answered " + res.Status}
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		e.msg = "the server refused the API token in $WEAKLINK_TOKEN: the token is missing, expired or revoked, or its user is disabled (make a new one with 'weaklink tokens create')"
	case res.StatusCode == http.StatusForbidden && e.info.Code == "forbidden":
		e.msg = "your role may not do this: " + e.info.Message
	default:
		e.msg = e.info.Message
	}
	// The server never echoes a credential; should a proxy in between do
	// so, it still goes no further.
	e.msg = strings.ReplaceAll(e.msg, r.token.Reveal(), r.token.String())
	return e
}

// get reads one resource.
func (r *remote) get(ctx context.Context, path string, q url.Values, out any) error {
	_, _, err := r.call(ctx, http.MethodGet, path, q, nil, out)
	return err
}

// list reads a paged list whole (or, with max > 0, its first max items),
// following the Link rel="next" headers the server sends.
func list[T any](ctx context.Context, r *remote, path string, q url.Values, max int) ([]T, error) {
	// A list read over several pages is not one snapshot, as the local
	// command's single query is: when the total the server reports moves
	// between pages (something was added or removed meanwhile), the read
	// starts again, a few times at most.
	for attempt := 1; ; attempt++ {
		out, moved, err := listOnce[T](ctx, r, path, q, max)
		if err != nil || !moved {
			return out, err
		}
		if attempt == 3 {
			return nil, fmt.Errorf("GET %s: the list kept changing while it was read in pages; try again", path)
		}
	}
}

func listOnce[T any](ctx context.Context, r *remote, path string, base url.Values, max int) (_ []T, moved bool, _ error) {
	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	out := []T{}
	var size int64
	var offset int64 = -1
	totalSeen := ""
	for {
		n := remotePageSize
		if max > 0 {
			n = min(n, max-len(out))
		}
		q.Set("limit", strconv.Itoa(n))
		var page []T
		h, got, err := r.call(ctx, http.MethodGet, path, q, nil, &page)
		if err != nil {
			return nil, false, err
		}
		if size += got; size > remoteMaxTotal {
			return nil, false, fmt.Errorf("the server's answers to GET %s are larger than %d bytes together", path, remoteMaxTotal)
		}
		if t := h.Get("X-Total-Count"); t != "" {
			if totalSeen != "" && t != totalSeen {
				return nil, true, nil
			}
			totalSeen = t
		}
		out = append(out, page...)
		if max > 0 && len(out) >= max {
			return out[:max], false, nil
		}
		next, ok, err := nextPage(h, path)
		if err != nil || !ok {
			return out, false, err
		}
		if len(page) == 0 {
			return nil, false, fmt.Errorf("the server answered GET %s with an empty page and a link to another", path)
		}
		// Each page must start further on than the last: a server that
		// repeats itself would otherwise be read until the size bound.
		if o, err := strconv.ParseInt(next.Get("offset"), 10, 64); err == nil {
			if o <= offset {
				return nil, false, fmt.Errorf("the server's link to the next page of GET %s goes back (offset %d after %d)", path, o, offset)
			}
			offset = o
		}
		q = next
	}
}

// nextPage reads the query of the Link rel="next" header, which must lead
// to the same list.
func nextPage(h http.Header, path string) (url.Values, bool, error) {
	for _, v := range h.Values("Link") {
		for _, link := range strings.Split(v, ",") {
			target, params, _ := strings.Cut(link, ";")
			if !strings.Contains(params, `rel="next"`) {
				continue
			}
			target = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(target), "<"), ">")
			u, err := url.Parse(target)
			if err != nil || u.Scheme != "" || u.Host != "" || u.Path != "/api/v1"+path {
				return nil, false, fmt.Errorf("the server's link to the next page of GET %s leads elsewhere (%q)", path, target)
			}
			return u.Query(), true, nil
		}
	}
	return nil, false, nil
}

// seg escapes a value for a path segment.
func seg(s string) string { return url.PathEscape(s) }

// values makes a query of the pairs whose value is not empty.
func values(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}

func (r *remote) ListVendors(ctx context.Context, f store.VendorFilter) ([]inventory.Vendor, error) {
	return list[inventory.Vendor](ctx, r, "/vendors",
		values("status", f.Status, "category", f.Category, "tag", f.Tag, "q", f.Text, "sort", f.Sort), 0)
}

func (r *remote) VendorDetail(ctx context.Context, id string) (service.VendorDetail, error) {
	var d service.VendorDetail
	return d, r.get(ctx, "/vendors/"+seg(id), nil, &d)
}

func (r *remote) BlockVendor(ctx context.Context, id, reason string) (store.Block, error) {
	var b store.Block
	_, _, err := r.call(ctx, http.MethodPost, "/vendors/"+seg(id)+"/block", nil, web.BlockRequest{Reason: reason}, &b)
	return b, err
}

func (r *remote) UnblockVendor(ctx context.Context, id string) error {
	_, _, err := r.call(ctx, http.MethodDelete, "/vendors/"+seg(id)+"/block", nil, nil, nil)
	return err
}

func (r *remote) ListSystems(ctx context.Context) ([]inventory.System, error) {
	return list[inventory.System](ctx, r, "/systems", nil, 0)
}

func (r *remote) SystemDetail(ctx context.Context, id string) (service.SystemDetail, error) {
	var d service.SystemDetail
	return d, r.get(ctx, "/systems/"+seg(id), nil, &d)
}

func (r *remote) ListFlows(ctx context.Context, f store.FlowFilter) ([]inventory.Flow, error) {
	return list[inventory.Flow](ctx, r, "/flows",
		values("vendor", f.Vendor, "system", f.System, "source", f.Source, "category", f.Category), 0)
}

func (r *remote) GetFlow(ctx context.Context, id string) (inventory.Flow, error) {
	var f inventory.Flow
	return f, r.get(ctx, "/flows/"+seg(id), nil, &f)
}

func (r *remote) WhoHas(ctx context.Context, category string) (service.WhoHas, error) {
	var w service.WhoHas
	return w, r.get(ctx, "/data/who-has", url.Values{"category": {category}}, &w)
}

func (r *remote) LedgerSummary(ctx context.Context, vendor string) (store.LedgerSummary, error) {
	var s store.LedgerSummary
	return s, r.get(ctx, "/ledger/"+seg(vendor), nil, &s)
}

// Export reads the inventory as the server exports it.
func (r *remote) Export(ctx context.Context, w io.Writer, o service.ExportOptions) error {
	q := values("format", o.Format)
	if o.Format == "csv" {
		q.Set("kind", o.Kind)
	}
	if o.Format == "cyclonedx" && o.Strict {
		q.Set("strict_fideslang", "true")
	}
	_, _, err := r.call(ctx, http.MethodGet, "/inventory", q, nil, w)
	return err
}

// Apply uploads the files doc was read from, one multipart part each,
// for the server to plan and (unless dryRun) apply.
func (r *remote) Apply(ctx context.Context, paths []string, doc *inventory.Document, prune, dryRun bool) (inventory.Plan, error) {
	files, err := inventoryFiles(paths, doc)
	if err != nil {
		return inventory.Plan{}, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range files {
		part, err := mw.CreateFormFile("file", f.name)
		if err != nil {
			return inventory.Plan{}, err
		}
		if _, err := part.Write(f.data); err != nil {
			return inventory.Plan{}, err
		}
	}
	if err := mw.Close(); err != nil {
		return inventory.Plan{}, err
	}
	path := "/inventory/apply"
	if dryRun {
		path = "/inventory/plan"
	}
	var q url.Values
	if prune {
		q = url.Values{"prune": {"true"}}
	}
	var p web.InventoryPlan
	_, _, err = r.call(ctx, http.MethodPost, path, q, rawBody{mw.FormDataContentType(), body.Bytes()}, &p)
	return inventory.Plan{Changes: p.Changes}, err
}

// inventoryFile is a file apply uploads.
type inventoryFile struct {
	name string
	data []byte
}

// inventoryFiles lists the files inventory.LoadPaths read doc from, in
// its order: each path given, and the .yaml, .yml and .json files below a
// directory in path order, without hidden ones. A file found in a
// directory that holds another kind of document (a gateway policy beside
// the inventory) is left out, as LoadPaths skips it; the objects of the
// files must then add up to doc's.
func inventoryFiles(paths []string, doc *inventory.Document) ([]inventoryFile, error) {
	var files []inventoryFile
	var read inventory.Document
	add := func(path string, explicit bool) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		d, err := inventory.Decode(bytes.NewReader(data), path)
		if err != nil {
			if explicit {
				return err
			}
			return nil
		}
		read.Append(d)
		files = append(files, inventoryFile{path, data})
		return nil
	}
	list, err := inventory.Files(paths...)
	if err != nil {
		return nil, err
	}
	for _, f := range list {
		if err := add(f.Path, f.Explicit); err != nil {
			return nil, err
		}
	}
	if len(read.Vendors) != len(doc.Vendors) || len(read.Systems) != len(doc.Systems) || len(read.Flows) != len(doc.Flows) {
		return nil, errors.New("apply: a file holds inventory documents beside documents of another kind, which a server does not take: move the inventory into a file of its own, or apply it where the database is")
	}
	return files, nil
}

func (r *remote) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]incident.Incident, error) {
	q := values("vendor", f.Vendor, "status", f.Status)
	if f.Open {
		q.Set("open", "true")
	}
	return list[incident.Incident](ctx, r, "/incidents", q, 0)
}

func (r *remote) IncidentView(ctx context.Context, ref string) (service.IncidentView, error) {
	var v service.IncidentView
	return v, r.get(ctx, "/incidents/"+seg(ref), nil, &v)
}

func (r *remote) OpenIncident(ctx context.Context, in incident.Incident) (incident.Incident, error) {
	body := web.IncidentInput{
		Vendor: in.Vendor, Title: in.Title, Severity: in.Severity, Owner: in.Owner, Status: in.Status,
		Categories: in.Categories, Systems: in.Systems, WindowFrom: in.WindowFrom, WindowTo: in.WindowTo,
		ContractNoticeHours: in.ContractNoticeHours, HighRisk: in.HighRisk, Material: in.Material, Notes: in.Notes, Times: in.Times,
	}
	var out incident.Incident
	_, _, err := r.call(ctx, http.MethodPost, "/incidents", nil, body, &out)
	return out, err
}

func (r *remote) ChangeIncident(ctx context.Context, ref string, ch incidentChange) (incident.Incident, error) {
	patch := map[string]any{}
	for k, v := range ch.patch {
		patch[k] = v
	}
	// The API picks the event's kind as the local command does (closed when
	// the status becomes closed) and records message with it.
	if m := strings.TrimSpace(ch.message); m != "" {
		patch["message"] = m
	}
	if n := strings.TrimSpace(ch.note); n != "" {
		patch["note"] = n
	}
	var out incident.Incident
	_, _, err := r.call(ctx, http.MethodPatch, "/incidents/"+seg(ref), nil, patch, &out)
	return out, err
}

func (r *remote) Contain(ctx context.Context, ref, reason string, block []string) (*service.Containment, error) {
	var c service.Containment
	_, _, err := r.call(ctx, http.MethodPost, "/incidents/"+seg(ref)+"/contain", nil, web.ContainRequest{Reason: reason, Block: block}, &c)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// BlastRadius reads the counts; with emit, it first streams the affected
// people (GET .../affected?format=jsonl, for roles that run incidents).
// The two are computed one after the other, so a ledger written to in
// between can make them differ by what arrived meanwhile.
func (r *remote) BlastRadius(ctx context.Context, ref string, emit func(incident.Affected) error) (*incident.BlastRadius, error) {
	if emit != nil {
		if err := r.stream(ctx, "/incidents/"+seg(ref)+"/affected", url.Values{"format": {"jsonl"}}, func(line []byte) error {
			var a incident.Affected
			if err := json.Unmarshal(line, &a); err != nil {
				return fmt.Errorf("the server's list of affected people is not what this weaklink expects (%v)", err)
			}
			return emit(a)
		}); err != nil {
			return nil, err
		}
	}
	var b incident.BlastRadius
	if err := r.get(ctx, "/incidents/"+seg(ref)+"/blast-radius", nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// stream GETs a JSON-lines answer and hands each line to fn as it
// arrives: lists too long to hold (millions of people). A line is at most
// remoteMaxLine bytes; a transfer that breaks off is an error, never a
// shorter list.
func (r *remote) stream(ctx context.Context, path string, q url.Values, fn func(line []byte) error) error {
	// No overall timeout: the list streams as long as it takes; the
	// context (Ctrl-C) still ends it.
	client := *r.client
	client.Timeout = 0
	res, err := r.send(ctx, &client, http.MethodGet, path, q, nil, "", "application/jsonl")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), remoteMaxLine)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return r.transportError(ctx, http.MethodGet, err, true)
	}
	return nil
}

// remoteMaxLine bounds one line of a streamed answer.
const remoteMaxLine = 1 << 20

func (r *remote) Clocks(ctx context.Context, ref string, _ *incident.Rules, _ incident.Profile) (*service.ClockReport, error) {
	var c service.ClockReport
	if err := r.get(ctx, "/incidents/"+seg(ref)+"/clocks", nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (r *remote) Audit(ctx context.Context, f store.AuditFilter, limit int) ([]audit.Entry, error) {
	q := values("object", f.Object)
	if f.From != 0 {
		q.Set("from", strconv.FormatInt(f.From, 10))
	}
	return list[audit.Entry](ctx, r, "/audit", q, limit)
}

func (r *remote) VerifyAudit(ctx context.Context) (service.AuditReport, error) {
	var rep service.AuditReport
	return rep, r.get(ctx, "/audit/verify", nil, &rep)
}

func (r *remote) Users(ctx context.Context) ([]auth.User, error) {
	var us []auth.User
	return us, r.get(ctx, "/users", nil, &us)
}

func (r *remote) AddUser(ctx context.Context, name string, role auth.Role, p service.AdminPassword) (service.UserWithPassword, error) {
	body := web.UserCreate{Name: name, Role: role, Password: p.Password}
	if p.NoChangeRequired {
		body.MustChangePassword = new(bool) // false
	}
	var u service.UserWithPassword
	_, _, err := r.call(ctx, http.MethodPost, "/users", nil, body, &u)
	return u, err
}

func (r *remote) UpdateUser(ctx context.Context, name string, role *auth.Role, disabled *bool) (auth.User, error) {
	var u auth.User
	_, _, err := r.call(ctx, http.MethodPatch, "/users/"+seg(name), nil, web.UserPatch{Role: role, Disabled: disabled}, &u)
	return u, err
}

func (r *remote) RemoveUser(ctx context.Context, name string) error {
	_, _, err := r.call(ctx, http.MethodDelete, "/users/"+seg(name), nil, nil, nil)
	return err
}

func (r *remote) Tokens(ctx context.Context, user string) ([]auth.Token, error) {
	var ts []auth.Token
	return ts, r.get(ctx, "/tokens", values("user", user), &ts)
}

func (r *remote) CreateToken(ctx context.Context, req service.TokenRequest, expires string) (service.TokenWithSecret, error) {
	var t service.TokenWithSecret
	_, _, err := r.call(ctx, http.MethodPost, "/tokens", nil, web.TokenCreate{User: req.User, Role: req.Role, Name: req.Name, Expires: expires}, &t)
	return t, err
}

// RevokeToken revokes by ID: given a whole token, only its ID goes in the
// URL.
func (r *remote) RevokeToken(ctx context.Context, id string) error {
	if sec, err := auth.ParseSecret(id, auth.TokenPrefix); err == nil {
		id = sec.ID
	}
	_, _, err := r.call(ctx, http.MethodDelete, "/tokens/"+seg(id), nil, nil, nil)
	return err
}
