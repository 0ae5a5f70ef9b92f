package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// GenericConfig describes a JSON ingestion API that has no adapter of its
// own: which paths carry data and where the messages and their data fields
// are. Paths inside a message are dotted ("context.traits").
type GenericConfig struct {
	// Paths are request path prefixes (whole segments: "/v1" matches "/v1"
	// and "/v1/batch", not "/v1x") whose POST, PUT and PATCH requests carry
	// data. Other methods on them are refused, except OPTIONS (CORS
	// preflight), which passes through.
	Paths []string
	// PassThrough are path prefixes that carry no data (configuration,
	// feature flags): forwarded unchanged. When a path matches both lists
	// the longer prefix wins, and Paths wins a tie.
	PassThrough []string
	// Messages says where the messages are: "" = the body is one message;
	// "$" = the body is an array of messages; otherwise the dotted path of
	// an array of messages inside a body object ("events", "data.batch").
	Messages string
	// Kind of every message: event, profile, group or alias (default event).
	Kind string
	// Name is the dotted path of the event name within a message.
	Name string
	// Props are dotted paths of property maps within a message.
	Props []string
	// Fields are dotted paths of single data fields within a message.
	Fields []string
	// Subject is the dotted path of the customer's id for the person.
	Subject string
	// Dedup is the dotted path of the vendor's deduplication key.
	Dedup string
}

// Generic is the adapter for JSON APIs described by a GenericConfig. Build
// it with NewGeneric, which validates the configuration; a Generic built
// directly is validated on every Decode.
//
// Only the messages are exposed to the policy engine: data the envelope
// holds outside them (a batch-level "context", say) is forwarded as it is,
// so configure Messages to cover what carries personal data.
type Generic struct {
	Config GenericConfig
}

// NewGeneric validates c and returns the adapter.
func NewGeneric(c GenericConfig) (*Generic, error) {
	if _, err := compileGeneric(c); err != nil {
		return nil, err
	}
	return &Generic{Config: c}, nil
}

// genericPlan is a validated GenericConfig with its paths parsed.
type genericPlan struct {
	kind     Kind
	mode     int  // genericSingle, genericArray or genericEnvelope
	messages Path // for genericEnvelope
	name     Path
	props    []Path
	fields   []Path
	subject  Path
	dedup    Path
}

const (
	genericSingle = iota
	genericArray
	genericEnvelope
)

func compileGeneric(c GenericConfig) (*genericPlan, error) {
	var errs []error
	if len(c.Paths) == 0 {
		errs = append(errs, errors.New("paths: at least one request path that carries data is required"))
	}
	seen := map[string]string{}
	for _, list := range []struct {
		name  string
		paths []string
	}{{"paths", c.Paths}, {"pass_through", c.PassThrough}} {
		for i, p := range list.paths {
			if err := checkRoutePrefix(p); err != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", list.name, i, err))
				continue
			}
			if other, ok := seen[p]; ok {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is already in %s", list.name, i, p, other))
			}
			seen[p] = list.name
		}
	}
	plan := &genericPlan{kind: KindEvent}
	switch c.Kind {
	case "", string(KindEvent):
	case string(KindProfile), string(KindGroup), string(KindAlias):
		plan.kind = Kind(c.Kind)
	default:
		errs = append(errs, fmt.Errorf("kind: %q is not one of event, profile, group, alias", c.Kind))
	}
	switch c.Messages {
	case "":
		plan.mode = genericSingle
	case "$":
		plan.mode = genericArray
	default:
		plan.mode = genericEnvelope
		if err := checkDotted(c.Messages); err != nil {
			errs = append(errs, fmt.Errorf("messages: %w", err))
		}
		plan.messages = ParsePath(c.Messages)
	}
	optional := func(field, s string) Path {
		if s == "" {
			return nil
		}
		if err := checkDotted(s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
		return ParsePath(s)
	}
	plan.name = optional("name", c.Name)
	plan.subject = optional("subject", c.Subject)
	plan.dedup = optional("dedup", c.Dedup)
	for i, s := range c.Props {
		if err := checkDotted(s); err != nil {
			errs = append(errs, fmt.Errorf("props[%d]: %w", i, err))
		}
		plan.props = append(plan.props, ParsePath(s))
	}
	for i, s := range c.Fields {
		if err := checkDotted(s); err != nil {
			errs = append(errs, fmt.Errorf("fields[%d]: %w", i, err))
		}
		plan.fields = append(plan.fields, ParsePath(s))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("generic adapter configuration: %w", errors.Join(errs...))
	}
	return plan, nil
}

// checkRoutePrefix accepts absolute, clean request paths ("/v1", "/e/").
func checkRoutePrefix(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q does not start with /", p)
	}
	if !cleanRequestPath(p) {
		return fmt.Errorf("%q is not a clean path (no //, . or .. segments)", p)
	}
	return nil
}

// cleanRequestPath reports whether p is absolute and has no empty, . or ..
// segments (a trailing slash is allowed): a path that only matches a prefix
// once cleaned ("/v1/batch/../../admin") must not reach the upstream.
func cleanRequestPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	c := path.Clean(p)
	return c == p || (c != "/" && c+"/" == p)
}

// checkDotted accepts "a", "a.b": no empty segment.
func checkDotted(s string) error {
	if s == "" {
		return errors.New("empty path")
	}
	for _, seg := range strings.Split(s, ".") {
		if seg == "" {
			return fmt.Errorf("%q has an empty segment", s)
		}
	}
	return nil
}

// prefixMatch returns the length of the longest prefix in list that covers
// p on whole segments, or -1.
func prefixMatch(list []string, p string) int {
	best := -1
	for _, pfx := range list {
		ok := p == pfx ||
			(strings.HasSuffix(pfx, "/") && strings.HasPrefix(p, pfx)) ||
			strings.HasPrefix(p, pfx+"/")
		if ok && len(pfx) > best {
			best = len(pfx)
		}
	}
	return best
}

// Name is "generic".
func (Generic) Name() string { return "generic" }

// Route: POST, PUT and PATCH on a data path are data; OPTIONS on a data
// path and any method on a pass-through path pass through; the rest,
// including any path that is not clean, is refused.
func (g Generic) Route(method, p string) Route {
	if !cleanRequestPath(p) {
		return RouteReject
	}
	data := prefixMatch(g.Config.Paths, p)
	pass := prefixMatch(g.Config.PassThrough, p)
	switch {
	case data < 0 && pass < 0:
		return RouteReject
	case pass > data:
		return RoutePassThrough
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return RouteData
	case http.MethodOptions:
		return RoutePassThrough
	}
	return RouteReject
}

// genericState is the decoded body, kept to re-encode the envelope.
type genericState struct {
	body any
}

// Decode reads the JSON body and finds the messages the configuration
// describes.
func (g Generic) Decode(r *Request) (*Batch, error) {
	plan, err := compileGeneric(g.Config)
	if err != nil {
		return nil, err
	}
	var body any
	if err := DecodeJSON(r.Body, &body); err != nil {
		return nil, fmt.Errorf("%w: generic: the body is not JSON: %v", ErrParse, err)
	}
	var objs []map[string]any
	switch plan.mode {
	case genericSingle:
		obj, ok := body.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: generic: the body is %s, not a JSON object", ErrParse, jsonKind(body))
		}
		objs = []map[string]any{obj}
	case genericArray:
		if objs, err = objectsOf(body, "the body"); err != nil {
			return nil, fmt.Errorf("%w: generic: %v", ErrParse, err)
		}
	case genericEnvelope:
		env, ok := body.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: generic: the body is %s, not a JSON object", ErrParse, jsonKind(body))
		}
		v, ok := Get(env, plan.messages)
		if !ok {
			return nil, fmt.Errorf("%w: generic: the body has no %q array of messages", ErrParse, plan.messages.String())
		}
		if objs, err = objectsOf(v, fmt.Sprintf("%q", plan.messages.String())); err != nil {
			return nil, fmt.Errorf("%w: generic: %v", ErrParse, err)
		}
	}
	b := &Batch{State: &genericState{body: body}}
	for i, obj := range objs {
		m := &Message{Kind: plan.kind, Object: obj, Dedup: plan.dedup}
		if plan.name != nil {
			m.Name = String(obj, plan.name)
		}
		if m.Props, err = propPaths(obj, plan.props); err != nil {
			return nil, fmt.Errorf("%w: generic: message %d: %v", ErrParse, i, err)
		}
		m.Fields = fieldPaths(obj, plan.fields)
		if plan.subject != nil && idPresent(obj, plan.subject) {
			m.Subject = plan.subject
		}
		b.Messages = append(b.Messages, m)
	}
	return b, nil
}

// Encode writes the remaining messages back in the body's shape. A body
// that is a single message has no form for "no message": Encode refuses,
// and the gateway must not forward the request.
func (g Generic) Encode(r *Request, b *Batch) (*Request, error) {
	plan, err := compileGeneric(g.Config)
	if err != nil {
		return nil, err
	}
	st, ok := b.State.(*genericState)
	if !ok {
		return nil, errors.New("generic: the batch was not decoded by the generic adapter")
	}
	list := make([]any, len(b.Messages))
	for i, m := range b.Messages {
		list[i] = m.Object
	}
	var out any
	switch plan.mode {
	case genericSingle:
		if len(b.Messages) != 1 {
			return nil, fmt.Errorf("generic: the body is one message and the batch has %d: nothing to forward", len(b.Messages))
		}
		out = b.Messages[0].Object
	case genericArray:
		out = list
	case genericEnvelope:
		env, ok := st.body.(map[string]any)
		if !ok {
			return nil, errors.New("generic: the batch state has no envelope")
		}
		env = cloneAlong(env, plan.messages)
		Set(env, plan.messages, list)
		out = env
	}
	body, err := marshalPlainJSON(out)
	if err != nil {
		return nil, fmt.Errorf("generic: %w", err)
	}
	return derivedRequest(r, r.Query, body), nil
}

// cloneAlong copies the objects on the way to p (not p itself), so that
// setting p in the copy leaves the original untouched.
func cloneAlong(obj map[string]any, p Path) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	if len(p) > 1 {
		if next, ok := out[p[0]].(map[string]any); ok {
			out[p[0]] = cloneAlong(next, p[1:])
		}
	}
	return out
}

// idPresent reports whether obj has an id at p: a non-empty string or a
// number.
func idPresent(obj map[string]any, p Path) bool {
	v, _ := Get(obj, p)
	switch x := v.(type) {
	case string:
		return x != ""
	case json.Number:
		return true
	}
	return false
}

// propPaths returns the candidates that are objects in obj, skipping absent
// and null ones. Any other value is an error: the policy could not see its
// keys, so it must not pass through unread.
func propPaths(obj map[string]any, candidates []Path) ([]Path, error) {
	var out []Path
	for _, p := range candidates {
		v, ok := Get(obj, p)
		if !ok || v == nil {
			continue
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("%s is %s, not an object", p, jsonKind(v))
		}
		out = append(out, p)
	}
	return out, nil
}

// fieldPaths returns the candidates that hold a non-null value in obj.
func fieldPaths(obj map[string]any, candidates []Path) []Path {
	var out []Path
	for _, p := range candidates {
		if v, ok := Get(obj, p); ok && v != nil {
			out = append(out, p)
		}
	}
	return out
}

// objectsOf checks that v is an array of objects; what names v in errors.
func objectsOf(v any, what string) ([]map[string]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not an array", what, jsonKind(v))
	}
	objs := make([]map[string]any, len(arr))
	for i, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("element %d of %s is %s, not an object", i, what, jsonKind(e))
		}
		objs[i] = obj
	}
	return objs, nil
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// marshalPlainJSON encodes v without escaping <, > and & (so URLs and
// titles keep their bytes) and without a trailing newline.
func marshalPlainJSON(v any) ([]byte, error) {
	if out, ok := appendJSON(nil, v); ok {
		return out, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// derivedRequest is r with a new query and body. Content-Length is dropped
// from the headers: the body changed and the proxy sets it.
func derivedRequest(r *Request, q url.Values, body []byte) *Request {
	h := r.Header.Clone()
	if h != nil {
		h.Del("Content-Length")
	}
	var qc url.Values
	if q != nil {
		qc = make(url.Values, len(q))
		for k, v := range q {
			qc[k] = append([]string(nil), v...)
		}
	}
	return &Request{Method: r.Method, Path: r.Path, Query: qc, Header: h, Body: body}
}

// formPair is one key=value of a query string or form body, with its raw
// text so that pairs the policy does not touch are forwarded byte for byte.
type formPair struct {
	raw   string
	key   string
	value string
}

// parseFormPairs splits an application/x-www-form-urlencoded string in
// order. Like net/url it refuses a raw ";": some servers still split on it,
// and a pair hidden behind one would reach the vendor undecoded.
func parseFormPairs(s string) ([]formPair, error) {
	var out []formPair
	for _, raw := range strings.Split(s, "&") {
		if raw == "" {
			continue
		}
		if strings.Contains(raw, ";") {
			return nil, fmt.Errorf("raw semicolon in %q", clip(raw))
		}
		k, v, _ := strings.Cut(raw, "=")
		key, err := formUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("key %q: %v", clip(k), err)
		}
		val, err := formUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %v", clip(key), err)
		}
		out = append(out, formPair{raw: raw, key: key, value: val})
	}
	return out, nil
}

// clip shortens s for an error message.
func clip(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
