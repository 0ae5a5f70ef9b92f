package adapter

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Segment is the wire format of Segment's HTTP Tracking API: the server
// libraries' /v1/identify, /v1/track, /v1/page, /v1/screen, /v1/group,
// /v1/alias, /v1/batch (and its older name /v1/import), and analytics.js'
// short paths /v1/i, /v1/t, /v1/p, /v1/s, /v1/g, /v1/a, /v1/b (analytics.js
// posts to apiHost + "/" + the first letter of the call type, apiHost being
// "api.segment.io/v1" by default, so a proxy configured with an apiHost
// without /v1 receives /t, /b…). Every data path is accepted with or without
// the /v1 prefix: which one arrives depends on how the gateway's route prefix
// is mapped. The path is sent upstream unchanged.
//
// The body is always JSON (analytics.js sends it as text/plain). The write
// key, in the body (writeKey) or in basic auth, is never touched.
//
// Batch-level context. Segment applies the context of a batch envelope to
// every call in it. Decode merges it into each message's own context (the
// message's keys win, recursively), so the policy sees and edits every
// message's effective context, context.ip included, with per-message rules.
// Encode factors it back out: a leaf of the original batch context is
// written once at batch level only if every remaining message still carries
// that exact value (it is then removed from the messages that got it from the
// merge); any leaf the policy changed or removed in any message stays inline
// in the messages that still have it, and is left out of the batch context.
// An unchanged batch thus round-trips to the same envelope, and whatever the
// precedence Segment gives batch over message context, the vendor gets
// exactly the values the policy left.
//
// Client IP: Segment's servers fill context.ip from the request's IP for
// client-side calls that have none ("IP Address is not collected by our
// libraries, but instead filled in by our servers", Segment spec, common
// fields). ClientIPUsed is true when a message has no context.ip;
// DropClientIP makes Encode write context.ip "0.0.0.0" into those messages,
// so the vendor does not substitute the request's address.
type Segment struct{}

func (Segment) Name() string { return "segment" }

// segTypes maps the last path element to the call type ("batch" for both
// batch endpoints).
var segTypes = map[string]string{
	"identify": "identify", "i": "identify",
	"track": "track", "t": "track",
	"page": "page", "p": "page",
	"screen": "screen", "s": "screen",
	"group": "group", "g": "group",
	"alias": "alias", "a": "alias",
	"batch": "batch", "b": "batch", "import": "batch",
}

// segEndpoint is the call type of a data path, or "".
func segEndpoint(path string) string {
	p := strings.TrimSuffix(path, "/")
	if strings.HasPrefix(p, "/v1/") {
		p = p[len("/v1"):]
	}
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	return segTypes[p[1:]]
}

// Route: POST to a data path is data; GET /v1/projects/<writeKey>/settings
// (the CDN settings analytics.js loads) passes through; the rest is refused.
func (Segment) Route(method, path string) Route {
	if method == http.MethodPost && segEndpoint(path) != "" {
		return RouteData
	}
	if method == http.MethodGet {
		parts := strings.Split(path, "/")
		if len(parts) == 5 && parts[0] == "" && parts[1] == "v1" && parts[2] == "projects" && parts[3] != "" && parts[4] == "settings" {
			return RoutePassThrough
		}
	}
	return RouteReject
}

// segState is the envelope of a decoded Segment request.
type segState struct {
	batch bool
	// env is the batch envelope (writeKey, sentAt, integrations, context…).
	env map[string]any
	// root is {"context": the batch-level context}; nil when there is none.
	root map[string]any
	// leaves are the leaf paths of root.
	leaves []Path
	// injected are, per message, the paths Decode added from the batch
	// context (where the message had no value of its own).
	injected map[*Message][]Path
}

// segPropPaths are the maps whose keys are data fields.
var segPropPaths = []Path{
	{"properties"}, {"traits"},
	{"context", "traits"}, {"context", "page"}, {"context", "location"}, {"context", "campaign"},
}

// segFieldPaths are the single reserved fields that carry data.
var segFieldPaths = []Path{
	{"userId"}, {"anonymousId"}, {"previousId"}, {"groupId"},
	{"context", "ip"}, {"context", "userAgent"}, {"context", "userAgentData"},
	{"context", "locale"}, {"context", "timezone"}, {"context", "groupId"},
	{"context", "device", "id"}, {"context", "device", "advertisingId"},
}

// segMapPaths must be objects (or absent, or null) for a message to be read.
var segMapPaths = []Path{
	{"properties"}, {"traits"}, {"context"},
	{"context", "traits"}, {"context", "page"}, {"context", "location"}, {"context", "campaign"}, {"context", "device"},
}

func segParseErr(format string, args ...any) error {
	return fmt.Errorf("%w: segment: %s", ErrParse, fmt.Sprintf(format, args...))
}

func (Segment) Decode(r *Request) (*Batch, error) {
	ep := segEndpoint(r.Path)
	if ep == "" {
		return nil, fmt.Errorf("segment: %s is not a data endpoint", r.Path)
	}
	var top any
	if err := mpDecodeJSON(r.Body, &top); err != nil {
		return nil, segParseErr("body: %s", mpJSONErr(err))
	}
	obj, ok := top.(map[string]any)
	if !ok {
		return nil, segParseErr("body is %s, want an object", jsonKind(top))
	}
	st := &segState{injected: map[*Message][]Path{}}
	b := &Batch{State: st}

	if ep != "batch" {
		if _, ok := obj["batch"]; ok {
			return nil, segParseErr("the %s endpoint got a body with a batch array", ep)
		}
		m, err := segMessage(obj, ep)
		if err != nil {
			return nil, segParseErr("body: %v", err)
		}
		b.Messages = []*Message{m}
	} else {
		st.batch = true
		st.env = obj
		raw, ok := obj["batch"]
		if !ok {
			return nil, segParseErr("batch body has no \"batch\" array")
		}
		arr, ok := raw.([]any)
		if !ok {
			return nil, segParseErr("\"batch\" is %s, want an array", jsonKind(raw))
		}
		ctx, err := mpMapAt(obj, "context")
		if err != nil {
			return nil, segParseErr("batch-level %v", err)
		}
		if ctx != nil {
			st.root = map[string]any{"context": ctx}
			st.leaves = segLeaves(st.root, nil)
		}
		b.Messages = make([]*Message, 0, len(arr))
		for i, e := range arr {
			o, ok := e.(map[string]any)
			if !ok {
				return nil, segParseErr("batch[%d] is %s, not an object", i, jsonKind(e))
			}
			typ, _ := o["type"].(string)
			typ = strings.ToLower(typ)
			if t, ok := segTypes[typ]; !ok || t != typ || t == "batch" {
				if _, has := o["type"]; !has {
					return nil, segParseErr("batch[%d] has no type", i)
				}
				return nil, segParseErr("batch[%d] has type %s, want identify, track, page, screen, group or alias", i, segQuote(o["type"]))
			}
			if err := segCheckMaps(o); err != nil {
				return nil, segParseErr("batch[%d]: %v", i, err)
			}
			var inj []Path
			if st.root != nil {
				inj = segMerge(o, st.root, nil)
			}
			m, err := segMessage(o, typ)
			if err != nil {
				return nil, segParseErr("batch[%d]: %v", i, err)
			}
			if len(inj) > 0 {
				st.injected[m] = inj
			}
			b.Messages = append(b.Messages, m)
		}
	}
	for _, m := range b.Messages {
		if !segHasIP(m.Object) {
			b.ClientIPUsed = true
		}
	}
	return b, nil
}

// segMessage classifies one call of type typ.
func segMessage(o map[string]any, typ string) (*Message, error) {
	if err := segCheckMaps(o); err != nil {
		return nil, err
	}
	m := &Message{Object: o, Name: typ, Dedup: Path{"messageId"}}
	switch typ {
	case "track":
		m.Kind = KindEvent
		if s, ok := o["event"].(string); ok && s != "" {
			m.Name = s
		}
	case "page", "screen":
		m.Kind = KindEvent
		if s, ok := o["name"].(string); ok && s != "" {
			m.Name = s
		}
	case "identify":
		m.Kind = KindProfile
	case "group":
		m.Kind = KindGroup
	case "alias":
		m.Kind = KindAlias
	default:
		return nil, fmt.Errorf("unknown call type %q", typ)
	}
	// Every data map present counts, whatever the type, so a call whose
	// type the vendor reads differently cannot carry unread fields.
	for _, p := range segPropPaths {
		if Map(o, p) != nil {
			m.Props = append(m.Props, p)
		}
	}
	m.Fields = mpFieldsPresent(o, segFieldPaths...)
	if mpPresent(o, "userId") {
		m.Subject = Path{"userId"}
	}
	return m, nil
}

// segCheckMaps refuses a message whose data maps are not objects.
func segCheckMaps(o map[string]any) error {
	for _, p := range segMapPaths {
		v, ok := Get(o, p)
		if !ok || v == nil {
			continue
		}
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("%s is %s, not an object", p, jsonKind(v))
		}
	}
	return nil
}

func segHasIP(o map[string]any) bool {
	v, ok := Get(o, Path{"context", "ip"})
	s, isString := v.(string)
	return ok && v != nil && (!isString || s != "")
}

func segQuote(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return jsonKind(v)
}

// segMerge copies into dst what src has and dst lacks (null counts as
// lacking), recursing where both hold objects, and returns the paths it
// added.
func segMerge(dst, src map[string]any, prefix Path) []Path {
	var added []Path
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sv := src[k]
		p := append(append(Path(nil), prefix...), k)
		dv, ok := dst[k]
		if !ok || dv == nil {
			dst[k] = mpClone(sv)
			added = append(added, p)
			continue
		}
		dm, dok := dv.(map[string]any)
		sm, sok := sv.(map[string]any)
		if dok && sok {
			added = append(added, segMerge(dm, sm, p)...)
		}
	}
	return added
}

// segLeaves lists the paths of v's non-object values and empty objects.
func segLeaves(v any, prefix Path) []Path {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return []Path{prefix}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Path
	for _, k := range keys {
		out = append(out, segLeaves(m[k], append(append(Path(nil), prefix...), k))...)
	}
	return out
}

func segHasPrefix(p, prefix Path) bool {
	if len(prefix) > len(p) {
		return false
	}
	for i := range prefix {
		if p[i] != prefix[i] {
			return false
		}
	}
	return true
}

func (Segment) Encode(r *Request, b *Batch) (*Request, error) {
	st, ok := b.State.(*segState)
	if !ok {
		return nil, errors.New("segment: the batch was not decoded by the segment adapter")
	}
	// Work on copies: the batch stays as the policy left it.
	objs := make([]map[string]any, len(b.Messages))
	for i, m := range b.Messages {
		if m == nil || m.Object == nil {
			return nil, fmt.Errorf("segment: message %d has no object", i)
		}
		objs[i] = mpClone(m.Object).(map[string]any)
		if b.DropClientIP && !segHasIP(objs[i]) {
			Set(objs[i], Path{"context", "ip"}, "0.0.0.0")
		}
	}

	var top any
	if !st.batch {
		switch len(objs) {
		case 0:
			// Nothing left to send: the proxy sees an empty batch and
			// decides; the body carries no data.
			top = map[string]any{}
		case 1:
			top = objs[0]
		default:
			return nil, fmt.Errorf("segment: %d messages for a single-call endpoint", len(objs))
		}
	} else {
		env := make(map[string]any, len(st.env))
		for k, v := range st.env {
			env[k] = v
		}
		if st.root != nil {
			delete(env, "context")
			if ctx := segFactor(st, b.Messages, objs); ctx != nil {
				env["context"] = ctx
			}
		}
		list := make([]any, len(objs))
		for i, o := range objs {
			list[i] = o
		}
		env["batch"] = list
		top = env
	}
	body, err := marshalPlainJSON(top)
	if err != nil {
		return nil, err
	}
	out := &Request{Method: r.Method, Path: r.Path, Query: mpCloneValues(r.Query), Header: r.Header.Clone(), Body: body}
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return out, nil
}

// segFactor moves back to batch level the leaves of the batch context that
// every message still has with the original value, removing them from the
// messages that got them from the merge, and returns the new batch context
// (nil for none).
func segFactor(st *segState, msgs []*Message, objs []map[string]any) any {
	if len(objs) == 0 {
		return nil
	}
	var keep []Path
	for _, leaf := range st.leaves {
		want, _ := Get(st.root, leaf)
		all := true
		for _, o := range objs {
			if v, ok := Get(o, leaf); !ok || !mpEqual(v, want) {
				all = false
				break
			}
		}
		if all {
			keep = append(keep, leaf)
		}
	}
	root := map[string]any{}
	for _, leaf := range keep {
		v, _ := Get(st.root, leaf)
		Set(root, leaf, mpClone(v))
	}
	for i, m := range msgs {
		o := objs[i]
		for _, q := range st.injected[m] {
			for _, leaf := range keep {
				if segHasPrefix(leaf, q) {
					Delete(o, leaf)
				}
			}
			// Objects the merge created that are now empty (their
			// leaves moved back to batch level or removed by the
			// policy) carry nothing: drop them.
			if v, ok := Get(o, q); ok && segPruneEmpty(v) {
				Delete(o, q)
			}
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return root["context"]
}

// segPruneEmpty removes the empty objects nested in v and says whether v is
// itself an object left empty.
func segPruneEmpty(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, e := range m {
		if segPruneEmpty(e) {
			delete(m, k)
		}
	}
	return len(m) == 0
}
