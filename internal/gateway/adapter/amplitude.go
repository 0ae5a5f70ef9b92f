package adapter

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Amplitude is the adapter for Amplitude's ingestion APIs:
//
//   - POST /2/httpapi (HTTP V2 API) and POST /batch (Batch Event Upload):
//     a JSON body {"api_key", "events": [...], "options"}; every other
//     top-level field is kept as it is.
//   - POST /identify (Identify API): a form body with api_key and
//     identification, a JSON object or array of user updates.
//
// Each event is a message (KindEvent, or KindProfile for "$identify" and
// KindGroup for "$groupidentify" events); each identification is a
// KindProfile message named "identify". Group Identify (/groupidentify) and
// the other Amplitude APIs are refused.
//
// Client IP. Amplitude geolocates an event from its "ip" field, and the
// value "$remote" asks it to use the IP of the upload request instead
// (HTTP V2 API, event field "ip": "Use $remote to use the IP address on the
// upload request", https://amplitude.com/docs/apis/analytics/http-v2).
// The Browser SDK sends ip "$remote" unless trackingOptions.ipAddress is
// false, in which case it leaves "ip" out (Amplitude-TypeScript,
// packages/analytics-browser/src/plugins/context.ts), and Amplitude
// documents that with IP tracking disabled in the SDK it receives no IP
// address and leaves location properties empty
// (https://amplitude.com/docs/data/understand-ip-address-and-location). So
// ClientIPUsed is true when a message has ip "$remote", and DropClientIP
// removes those "ip" fields, as the SDK does. An explicit address in "ip"
// is a data field (in Fields) for the policy, not the client IP, as are
// location_lat/lng and city, region, country. Limits: Amplitude has no
// per-event switch that forbids geolocation outright (dropping IP and
// location after ingestion is a project setting made by Amplitude support),
// an event without "ip" may still carry the last IP Amplitude knows for the
// user ("Any IP address currently known for a user will be synced to all
// future events by default", same page, 2024 version), and the proxy must
// not pass the client address on in X-Forwarded-For.
//
// Not supported: the legacy root endpoint of amplitude-js 8 (POST / with a
// form e=[events] and an MD5 checksum of the payload), refused by Route.
type Amplitude struct{}

// Name is "amplitude".
func (Amplitude) Name() string { return "amplitude" }

const (
	ampHTTPAPI  = "/2/httpapi"
	ampBatch    = "/batch"
	ampIdentify = "/identify"
	// ampRemoteIP is the "ip" value that asks Amplitude to use the IP of
	// the upload request.
	ampRemoteIP = "$remote"
)

// Route: POST on /2/httpapi, /batch and /identify is data, OPTIONS there
// (the browser's CORS preflight) passes through, everything else is
// refused.
func (Amplitude) Route(method, p string) Route {
	switch p {
	case ampHTTPAPI, ampBatch, ampIdentify:
		switch method {
		case http.MethodPost:
			return RouteData
		case http.MethodOptions:
			return RoutePassThrough
		}
	}
	return RouteReject
}

// ampState records the envelope of an Amplitude request.
type ampState struct {
	// env is the JSON body of /2/httpapi and /batch.
	env map[string]any
	// form is the form body of /identify, in order; ident indexes the
	// identification pair; single is true when identification was one
	// object rather than an array.
	form   []formPair
	ident  int
	single bool
}

// ampPropMaps are the property maps of an event or identification, in the
// order Props lists them. User property operations are maps of property
// names ($set, $setOnce…); groups (group type → group id) are not personal
// and are left out. user_properties and group_properties themselves are
// listed only when they hold a property that is not an operation, so that a
// policy naming keys sees property names, not "$set" (a mixed map is listed
// with its operations: a policy may then treat "$set" as a key, which can
// only drop more).
var ampPropMaps = []Path{
	{"event_properties"},
	{"user_properties"},
	{"user_properties", "$set"},
	{"user_properties", "$setOnce"},
	{"user_properties", "$add"},
	{"user_properties", "$append"},
	{"user_properties", "$prepend"},
	{"user_properties", "$preInsert"},
	{"user_properties", "$postInsert"},
	{"user_properties", "$remove"},
	{"user_properties", "$unset"},
	{"group_properties"},
	{"group_properties", "$set"},
	{"group_properties", "$setOnce"},
	{"group_properties", "$add"},
	{"group_properties", "$append"},
	{"group_properties", "$prepend"},
	{"group_properties", "$preInsert"},
	{"group_properties", "$postInsert"},
	{"group_properties", "$remove"},
	{"group_properties", "$unset"},
}

// ampOps are Amplitude's user and group property operations.
var ampOps = map[string]bool{
	"$set": true, "$setOnce": true, "$add": true, "$append": true,
	"$prepend": true, "$preInsert": true, "$postInsert": true,
	"$remove": true, "$unset": true, "$clearAll": true,
}

// ampFields are the reserved event fields that carry data about a person
// or their device.
var ampFields = []Path{
	{"user_id"}, {"device_id"}, {"ip"}, {"city"}, {"region"}, {"country"},
	{"dma"}, {"language"}, {"platform"}, {"os_name"}, {"os_version"},
	{"device_brand"}, {"device_manufacturer"}, {"device_model"}, {"carrier"},
	{"location_lat"}, {"location_lng"}, {"idfa"}, {"idfv"}, {"adid"},
	{"android_id"},
}

// Decode parses an HTTP V2, Batch or Identify request.
func (Amplitude) Decode(r *Request) (*Batch, error) {
	switch r.Path {
	case ampHTTPAPI, ampBatch:
		return ampDecodeEvents(r)
	case ampIdentify:
		return ampDecodeIdentify(r)
	}
	return nil, fmt.Errorf("amplitude: %s is not a data path", r.Path)
}

func ampDecodeEvents(r *Request) (*Batch, error) {
	var body any
	if err := DecodeJSON(r.Body, &body); err != nil {
		return nil, fmt.Errorf("%w: amplitude: the body is not JSON: %v", ErrParse, err)
	}
	env, ok := body.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: amplitude: the body is %s, not a JSON object", ErrParse, jsonKind(body))
	}
	raw, ok := env["events"]
	if !ok {
		return nil, fmt.Errorf("%w: amplitude: the body has no \"events\" array", ErrParse)
	}
	events, err := objectsOf(raw, `"events"`)
	if err != nil {
		return nil, fmt.Errorf("%w: amplitude: %v", ErrParse, err)
	}
	b := &Batch{State: &ampState{env: env}}
	for i, ev := range events {
		m, err := ampMessage(ev)
		if err != nil {
			return nil, fmt.Errorf("%w: amplitude: events[%d]: %v", ErrParse, i, err)
		}
		switch m.Name {
		case "$identify":
			m.Kind = KindProfile
		case "$groupidentify":
			m.Kind = KindGroup
		default:
			m.Kind = KindEvent
		}
		m.Dedup = Path{"insert_id"}
		b.Messages = append(b.Messages, m)
	}
	b.ClientIPUsed = ampRemoteIPUsed(b.Messages)
	return b, nil
}

func ampDecodeIdentify(r *Request) (*Batch, error) {
	if _, ok := r.Query["identification"]; ok {
		// The vendor might read it from the URL: it would go unpoliced.
		return nil, fmt.Errorf("%w: amplitude: identification in the URL query is not supported", ErrParse)
	}
	form, err := parseFormPairs(string(r.Body))
	if err != nil {
		return nil, fmt.Errorf("%w: amplitude: the identify form is malformed: %v", ErrParse, err)
	}
	st := &ampState{form: form, ident: -1}
	for i, p := range form {
		if p.key != "identification" {
			continue
		}
		if st.ident >= 0 {
			return nil, fmt.Errorf("%w: amplitude: the identify form has more than one identification field", ErrParse)
		}
		st.ident = i
	}
	if st.ident < 0 {
		return nil, fmt.Errorf("%w: amplitude: the identify form has no identification field", ErrParse)
	}
	var v any
	if err := DecodeJSON([]byte(form[st.ident].value), &v); err != nil {
		return nil, fmt.Errorf("%w: amplitude: identification is not JSON: %v", ErrParse, err)
	}
	var idents []map[string]any
	switch x := v.(type) {
	case map[string]any:
		idents, st.single = []map[string]any{x}, true
	case []any:
		if idents, err = objectsOf(x, "identification"); err != nil {
			return nil, fmt.Errorf("%w: amplitude: %v", ErrParse, err)
		}
	default:
		return nil, fmt.Errorf("%w: amplitude: identification is %s, not a JSON object or array", ErrParse, jsonKind(v))
	}
	b := &Batch{State: st}
	for i, id := range idents {
		m, err := ampMessage(id)
		if err != nil {
			return nil, fmt.Errorf("%w: amplitude: identification[%d]: %v", ErrParse, i, err)
		}
		m.Kind, m.Name = KindProfile, "identify"
		b.Messages = append(b.Messages, m)
	}
	b.ClientIPUsed = ampRemoteIPUsed(b.Messages)
	return b, nil
}

// ampMessage fills Name, Object, Props, Fields and Subject.
func ampMessage(obj map[string]any) (*Message, error) {
	props, err := propPaths(obj, ampPropMaps)
	if err != nil {
		return nil, err
	}
	kept := props[:0]
	for _, p := range props {
		if len(p) == 1 && (p[0] == "user_properties" || p[0] == "group_properties") && ampOnlyOps(Map(obj, p)) {
			continue
		}
		kept = append(kept, p)
	}
	m := &Message{Name: String(obj, Path{"event_type"}), Object: obj, Props: kept}
	m.Fields = fieldPaths(obj, ampFields)
	if idPresent(obj, Path{"user_id"}) {
		m.Subject = Path{"user_id"}
	}
	return m, nil
}

// ampOnlyOps reports whether every key of m is a property operation.
func ampOnlyOps(m map[string]any) bool {
	for k := range m {
		if !ampOps[k] {
			return false
		}
	}
	return true
}

func ampRemoteIPUsed(msgs []*Message) bool {
	for _, m := range msgs {
		if String(m.Object, Path{"ip"}) == ampRemoteIP {
			return true
		}
	}
	return false
}

// ampWireObject is the object to send for m: m.Object, or a copy without
// ip "$remote" when the policy drops the client IP.
func ampWireObject(m *Message, dropClientIP bool) map[string]any {
	if !dropClientIP || String(m.Object, Path{"ip"}) != ampRemoteIP {
		return m.Object
	}
	out := make(map[string]any, len(m.Object))
	for k, v := range m.Object {
		if k != "ip" {
			out[k] = v
		}
	}
	return out
}

// Encode writes the remaining messages in the request's envelope: the same
// JSON object with its events replaced, or the same form with its
// identification replaced (an object again if it was one and one remains).
func (Amplitude) Encode(r *Request, b *Batch) (*Request, error) {
	st, ok := b.State.(*ampState)
	if !ok {
		return nil, errors.New("amplitude: the batch was not decoded by the amplitude adapter")
	}
	objs := make([]any, len(b.Messages))
	for i, m := range b.Messages {
		objs[i] = ampWireObject(m, b.DropClientIP)
	}
	if st.env != nil {
		env := make(map[string]any, len(st.env))
		for k, v := range st.env {
			env[k] = v
		}
		env["events"] = objs
		body, err := marshalPlainJSON(env)
		if err != nil {
			return nil, fmt.Errorf("amplitude: %w", err)
		}
		return derivedRequest(r, r.Query, body), nil
	}
	if st.ident < 0 || st.ident >= len(st.form) {
		return nil, errors.New("amplitude: the batch state has no identify form")
	}
	var ident any = objs
	if st.single && len(objs) == 1 {
		ident = objs[0]
	}
	js, err := marshalPlainJSON(ident)
	if err != nil {
		return nil, fmt.Errorf("amplitude: %w", err)
	}
	parts := make([]string, len(st.form))
	for i, p := range st.form {
		parts[i] = p.raw
	}
	parts[st.ident] = formEscape(st.form[st.ident].key) + "=" + formEscape(string(js))
	return derivedRequest(r, r.Query, []byte(strings.Join(parts, "&"))), nil
}
