package adapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// GA4 is the adapter for Google Analytics 4 collection:
//
//   - the Measurement Protocol, POST /mp/collect and /debug/mp/collect: a
//     JSON request {client_id, user_id, user_properties, user_data,
//     user_location, ip_override, device, consent, events: [...]} with
//     measurement_id and api_secret (or firebase_app_id) in the query,
//     which is forwarded as it is;
//   - the gtag.js browser hits, GET or POST /g/collect: parameters in the
//     URL query (v, tid, cid, uid, dl, dt, ul, sr, en, ep.*, up.*…) and,
//     when the tag batches, one hit per body line, each a query string.
//
// Measurement Protocol representation: each events[i] is a KindEvent
// message whose Object is the event {"name", "params"}, and the request's
// other fields are ONE KindProfile message named "request" whose Object is
// the request object without "events" (Props user_properties,
// user_location, device; Fields client_id, app_instance_id, user_id,
// ip_override and the user_data hashes; Subject user_id). In that object
// user_properties values are unwrapped ({"plan": "pro"} for the wire's
// {"plan": {"value": "pro"}}) so that a rule that hashes or redacts a
// property changes its value, not the wrapper; Encode wraps them again,
// with their set_timestamp_micros. The policy edits request-level fields
// there, and Encode reassembles exactly one request: the profile's fields
// plus the remaining events. Event messages have no Subject: an MP request
// is about one person, whose ids are in the "request" message. If the
// policy removes that message, only the request's non-personal fields
// (timestamp_micros, non_personalized_ads, consent, validation_behavior)
// are kept, and Google discards the request for want of a client_id.
//
// gtag representation: every message is KindEvent. The URL query is one
// message (named by its en, "" when the tag batched its events into the
// body, where it holds the parameters every hit shares: cid, uid, dl, dt…)
// and each body line is another. Keeping the URL's parameters in a
// KindEvent message in both cases means kind-specific policy rules treat
// dl or uid alike whether the tag batched or not. Objects map parameter
// names (ep.plan kept as one key) to strings, or to arrays of strings for
// repeated parameters. Fields are the present cid, uid, dl, dr, dt, ul, sr,
// _uip and every ep.*, epn.*, up.*, upn.* key; Props is empty. If the
// policy removes the URL message, or every body hit of a batch while the
// URL names no event (its data would serve no hit), only the routing and
// consent parameters (v, tid, gtm, _p, gcs, gcd, npa, dma, dma_cps,
// tag_exp) stay in the URL.
//
// Neither format has a deduplication key (Dedup is nil): a replayed request
// may count twice.
//
// Client IP. GA4 has no wire switch to stop using the client's IP: the
// Universal Analytics "aip" (mask IP) parameter is "Not available" in GA4
// (https://cloud.google.com/analytics/devguides/collection/protocol/ga4/ua-feature-matrix).
// gtag hits are sent by the browser, so Google geolocates them from the
// request IP: ClientIPUsed is always true for /g/collect. For the
// Measurement Protocol, ip_override is the address Google derives
// geography from (MP reference); without it the only address Google has is
// the one the request comes from, so ClientIPUsed is true when ip_override
// is absent (a conservative reading: the reference does not say whether it
// then geolocates). In both cases DropClientIP changes nothing in the body
// (ip_override and _uip are data fields the policy handles): the proxy must
// not forward the client address (X-Forwarded-For, Forwarded) upstream, so
// that Google only sees the gateway's.
type GA4 struct{}

// Name is "ga4".
func (GA4) Name() string { return "ga4" }

const (
	ga4MP      = "/mp/collect"
	ga4DebugMP = "/debug/mp/collect"
	ga4Gtag    = "/g/collect"
)

// Route: POST on the Measurement Protocol paths and GET or POST on
// /g/collect are data; OPTIONS there (CORS preflight) passes through;
// everything else is refused.
func (GA4) Route(method, p string) Route {
	switch p {
	case ga4MP, ga4DebugMP:
		switch method {
		case http.MethodPost:
			return RouteData
		case http.MethodOptions:
			return RoutePassThrough
		}
	case ga4Gtag:
		switch method {
		case http.MethodGet, http.MethodPost:
			return RouteData
		case http.MethodOptions:
			return RoutePassThrough
		}
	}
	return RouteReject
}

// ga4MPState keeps the original Measurement Protocol request and how its
// user properties were wrapped.
type ga4MPState struct {
	request map[string]any
	// wrapped is true when user_properties was an object whose values
	// the request-level message holds unwrapped; extras are the other
	// keys of each wrapper (set_timestamp_micros); raw are the names whose
	// value was not a {"value": …} wrapper and is kept as it was.
	wrapped bool
	extras  map[string]map[string]any
	raw     map[string]bool
}

// ga4GtagState keeps what gtag hits need to be re-encoded.
type ga4GtagState struct {
	query    url.Values
	urlMsg   *Message              // the URL query's message, nil if none
	order    map[*Message][]string // body hits' parameter order
	sep      string                // line separator of the body
	trailing bool                  // the body ended with a separator
	hadHits  bool                  // the body had hits
}

// ga4MPProps are the property maps of the request-level message.
var ga4MPProps = []Path{{"user_properties"}, {"user_location"}, {"device"}}

// ga4MPFields are the request-level fields that identify or locate the
// person; user_data holds SHA-256 hashes (or, for address, objects of them)
// of what the user gave.
var ga4MPFields = []Path{
	{"client_id"}, {"app_instance_id"}, {"user_id"}, {"ip_override"},
	{"user_data", "sha256_email_address"}, {"user_data", "sha256_phone_number"},
	{"user_data", "address"},
}

// ga4MPKeep are the request-level MP fields that carry no personal data,
// kept when the policy removes the "request" message.
var ga4MPKeep = []string{"timestamp_micros", "non_personalized_ads", "consent", "validation_behavior"}

// ga4GtagKeep are the gtag URL parameters needed to route a hit and carry
// consent, kept when the policy removes the URL's message.
var ga4GtagKeep = []string{"v", "tid", "gtm", "_p", "gcs", "gcd", "npa", "dma", "dma_cps", "tag_exp"}

// ga4GtagFields are the gtag parameters outside ep./up. that carry data.
var ga4GtagFields = map[string]bool{
	"cid": true, "uid": true, "dl": true, "dr": true, "dt": true,
	"ul": true, "sr": true, "_uip": true,
}

// Decode parses a Measurement Protocol request or gtag hits.
func (GA4) Decode(r *Request) (*Batch, error) {
	switch r.Path {
	case ga4MP, ga4DebugMP:
		return ga4DecodeMP(r)
	case ga4Gtag:
		return ga4DecodeGtag(r)
	}
	return nil, fmt.Errorf("ga4: %s is not a data path", r.Path)
}

func ga4DecodeMP(r *Request) (*Batch, error) {
	var body any
	if err := DecodeJSON(r.Body, &body); err != nil {
		return nil, fmt.Errorf("%w: ga4: the body is not JSON: %v", ErrParse, err)
	}
	req, ok := body.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: ga4: the body is %s, not a JSON object", ErrParse, jsonKind(body))
	}
	raw, ok := req["events"]
	if !ok {
		return nil, fmt.Errorf("%w: ga4: the body has no \"events\" array", ErrParse)
	}
	events, err := objectsOf(raw, `"events"`)
	if err != nil {
		return nil, fmt.Errorf("%w: ga4: %v", ErrParse, err)
	}
	top := make(map[string]any, len(req))
	for k, v := range req {
		if k != "events" {
			top[k] = v
		}
	}
	st := &ga4MPState{request: req}
	if up, ok := req["user_properties"].(map[string]any); ok {
		top["user_properties"] = st.unwrap(up)
	}
	props, err := propPaths(top, ga4MPProps)
	if err == nil {
		// user_data is not a property map, but its fields must be seen.
		_, err = propPaths(top, []Path{{"user_data"}})
	}
	if err != nil {
		return nil, fmt.Errorf("%w: ga4: %v", ErrParse, err)
	}
	profile := &Message{Kind: KindProfile, Name: "request", Object: top, Props: props}
	profile.Fields = fieldPaths(top, ga4MPFields)
	if idPresent(top, Path{"user_id"}) {
		profile.Subject = Path{"user_id"}
	}
	_, override := req["ip_override"]
	b := &Batch{
		Messages:     []*Message{profile},
		ClientIPUsed: !override,
		State:        st,
	}
	for i, ev := range events {
		m := &Message{Kind: KindEvent, Name: String(ev, Path{"name"}), Object: ev}
		if m.Props, err = propPaths(ev, []Path{{"params"}}); err != nil {
			return nil, fmt.Errorf("%w: ga4: events[%d]: %v", ErrParse, i, err)
		}
		b.Messages = append(b.Messages, m)
	}
	return b, nil
}

// unwrap turns {"plan": {"value": "pro"}} into {"plan": "pro"}, so that
// the policy acts on values (a hash or "[redacted]" in place of the
// wrapper would be a malformed user property), and records what rewrap
// needs.
func (st *ga4MPState) unwrap(up map[string]any) map[string]any {
	st.wrapped = true
	st.extras, st.raw = map[string]map[string]any{}, map[string]bool{}
	flat := make(map[string]any, len(up))
	for k, v := range up {
		w, ok := v.(map[string]any)
		val, hasValue := w["value"]
		if !ok || !hasValue {
			flat[k] = v
			st.raw[k] = true
			continue
		}
		flat[k] = val
		for wk, wv := range w {
			if wk == "value" {
				continue
			}
			if st.extras[k] == nil {
				st.extras[k] = map[string]any{}
			}
			st.extras[k][wk] = wv
		}
	}
	return flat
}

// rewrap is the wire form of the (policed) unwrapped user properties.
func (st *ga4MPState) rewrap(flat map[string]any) map[string]any {
	out := make(map[string]any, len(flat))
	for k, v := range flat {
		if st.raw[k] {
			out[k] = v
			continue
		}
		w := map[string]any{"value": v}
		for wk, wv := range st.extras[k] {
			w[wk] = wv
		}
		out[k] = w
	}
	return out
}

func ga4DecodeGtag(r *Request) (*Batch, error) {
	st := &ga4GtagState{query: r.Query, order: map[*Message][]string{}, sep: "\n"}
	body := string(r.Body)
	if strings.Contains(body, "\r\n") {
		st.sep = "\r\n"
	}
	st.trailing = body != "" && strings.HasSuffix(body, "\n")
	var hits []*Message
	for i, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		pairs, err := parseFormPairs(line)
		if err != nil {
			return nil, fmt.Errorf("%w: ga4: hit on body line %d: %v", ErrParse, i+1, err)
		}
		if len(pairs) == 0 {
			continue
		}
		obj := map[string]any{}
		var order []string
		for _, p := range pairs {
			switch old := obj[p.key].(type) {
			case nil:
				obj[p.key] = p.value
				order = append(order, p.key)
			case string:
				obj[p.key] = []any{old, p.value}
			case []any:
				obj[p.key] = append(old, p.value)
			}
		}
		m := ga4HitMessage(obj, order)
		st.order[m] = order
		hits = append(hits, m)
	}
	st.hadHits = len(hits) > 0
	b := &Batch{ClientIPUsed: true, State: st}
	keys := make([]string, 0, len(r.Query))
	obj := make(map[string]any, len(r.Query))
	for k, vs := range r.Query {
		if len(vs) == 0 {
			continue
		}
		keys = append(keys, k)
		if len(vs) == 1 {
			obj[k] = vs[0]
		} else {
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = v
			}
			obj[k] = list
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		st.urlMsg = ga4HitMessage(obj, keys)
		b.Messages = append(b.Messages, st.urlMsg)
	}
	b.Messages = append(b.Messages, hits...)
	return b, nil
}

// ga4HitMessage makes a KindEvent message of a gtag hit's parameters.
func ga4HitMessage(obj map[string]any, order []string) *Message {
	m := &Message{Kind: KindEvent, Name: ga4ParamString(obj["en"]), Object: obj}
	for _, k := range order {
		if ga4GtagFields[k] || strings.HasPrefix(k, "ep.") || strings.HasPrefix(k, "epn.") ||
			strings.HasPrefix(k, "up.") || strings.HasPrefix(k, "upn.") {
			m.Fields = append(m.Fields, Path{k})
		}
	}
	if idPresent(obj, Path{"uid"}) {
		m.Subject = Path{"uid"}
	}
	return m
}

// ga4ParamString is the text of a gtag parameter value: strings as they
// are, numbers in their JSON form, the first of repeated values.
func ga4ParamString(v any) string {
	vs := ga4ParamStrings(v)
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// ga4ParamStrings turns a parameter value, perhaps rewritten by the
// policy, into query values. null gives none.
func ga4ParamStrings(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case json.Number:
		return []string{x.String()}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case int:
		return []string{strconv.Itoa(x)}
	case int64:
		return []string{strconv.FormatInt(x, 10)}
	case bool:
		if x {
			return []string{"1"}
		}
		return []string{"0"}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, ga4ParamStrings(e)...)
		}
		return out
	case []string:
		return x
	}
	js, err := marshalPlainJSON(v)
	if err != nil {
		return []string{fmt.Sprint(v)}
	}
	return []string{string(js)}
}

// Encode writes the remaining messages as one request of the same kind.
func (GA4) Encode(r *Request, b *Batch) (*Request, error) {
	switch st := b.State.(type) {
	case *ga4MPState:
		return ga4EncodeMP(r, b, st)
	case *ga4GtagState:
		return ga4EncodeGtag(r, b, st)
	}
	return nil, errors.New("ga4: the batch was not decoded by the ga4 adapter")
}

func ga4EncodeMP(r *Request, b *Batch, st *ga4MPState) (*Request, error) {
	var profile *Message
	events := []any{}
	for _, m := range b.Messages {
		if m.Kind == KindEvent {
			events = append(events, m.Object)
			continue
		}
		if profile != nil {
			return nil, errors.New("ga4: more than one request-level message in a Measurement Protocol batch")
		}
		profile = m
	}
	out := map[string]any{}
	if profile != nil {
		for k, v := range profile.Object {
			out[k] = v
		}
		if flat, ok := out["user_properties"].(map[string]any); ok && st.wrapped {
			out["user_properties"] = st.rewrap(flat)
		}
	} else {
		for _, k := range ga4MPKeep {
			if v, ok := st.request[k]; ok {
				out[k] = v
			}
		}
	}
	out["events"] = events
	body, err := marshalPlainJSON(out)
	if err != nil {
		return nil, fmt.Errorf("ga4: %w", err)
	}
	return derivedRequest(r, r.Query, body), nil
}

func ga4EncodeGtag(r *Request, b *Batch, st *ga4GtagState) (*Request, error) {
	q := url.Values{}
	var urlObj map[string]any
	var lines []string
	for _, m := range b.Messages {
		if m == st.urlMsg {
			urlObj = m.Object
			continue
		}
		if line := ga4EncodeHit(m.Object, st.order[m]); line != "" {
			lines = append(lines, line)
		}
	}
	if urlObj != nil && len(lines) == 0 && st.hadHits && ga4ParamString(urlObj["en"]) == "" {
		urlObj = nil // shared parameters of hits that are all gone
	}
	for k, v := range urlObj {
		if vs := ga4ParamStrings(v); len(vs) > 0 {
			q[k] = vs
		}
	}
	if urlObj == nil {
		for _, k := range ga4GtagKeep {
			if vs, ok := st.query[k]; ok {
				q[k] = append([]string(nil), vs...)
			}
		}
	}
	body := strings.Join(lines, st.sep)
	if st.trailing && len(lines) > 0 {
		body += st.sep
	}
	out := derivedRequest(r, q, []byte(body))
	if len(q) == 0 && r.Query == nil {
		out.Query = nil
	}
	return out, nil
}

// ga4EncodeHit writes a hit's parameters as a query string, in their
// original order and then any new keys sorted.
func ga4EncodeHit(obj map[string]any, order []string) string {
	keys := make([]string, 0, len(obj))
	done := make(map[string]bool, len(obj))
	for _, k := range order {
		if _, ok := obj[k]; ok && !done[k] {
			keys = append(keys, k)
			done[k] = true
		}
	}
	var extra []string
	for k := range obj {
		if !done[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	keys = append(keys, extra...)
	var sb strings.Builder
	for _, k := range keys {
		for _, v := range ga4ParamStrings(obj[k]) {
			if sb.Len() > 0 {
				sb.WriteByte('&')
			}
			sb.WriteString(formEscape(k))
			sb.WriteByte('=')
			sb.WriteString(formEscape(v))
		}
	}
	return sb.String()
}
