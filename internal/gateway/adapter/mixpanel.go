package adapter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// Mixpanel is the wire format of Mixpanel's ingestion API (/track, /engage,
// /groups, /import), as sent by its browser, mobile and server SDKs.
//
// Envelopes it reads and writes back unchanged apart from the data:
//   - application/x-www-form-urlencoded body with data= holding base64 (std
//     or URL alphabet, padded or not) of a JSON object or array, or the JSON
//     itself; every other form field is kept byte for byte, in order;
//   - data= in the query string (GET, or a POST with an empty body: old SDKs
//     and pixel tracking);
//   - application/json body: an array or a single object;
//   - application/x-ndjson body (/import): one object a line.
//
// Client IP: Mixpanel geolocates every request from its IP address unless
// the request says ip=0 ("If present and equal to 0, Mixpanel will not
// perform geolocation parsing using the IP address of the request", ingestion
// API reference); ip=1 additionally derives a distinct_id from the IP when
// there is none. So ClientIPUsed is true unless every ip parameter (query and
// form) is 0, on all four endpoints, whatever the SDK. DropClientIP makes
// Encode write ip=0 in the query and in any ip form field. $ip in profile
// updates and ip in event properties are fields for the policy.
type Mixpanel struct{}

func (Mixpanel) Name() string { return "mixpanel" }

// mpEndpoint is the endpoint name of a request path ("track"), accepting
// one trailing slash, or "" for a path that is not part of the API.
func mpEndpoint(path string) string {
	p := strings.TrimSuffix(path, "/")
	switch p {
	case "/track", "/engage", "/groups", "/import", "/decide", "/flags":
		return p[1:]
	}
	return ""
}

// Route: /track, /engage and /groups take POST and the GET with data= in the
// query of older SDKs; /import (server side) takes POST. /decide and /flags
// (SDK configuration and feature flags) pass through. Everything else,
// including the CDN's /lib*.js (served by another route) and /record
// (session replay, which this adapter cannot inspect), is refused.
func (Mixpanel) Route(method, path string) Route {
	switch mpEndpoint(path) {
	case "track", "engage", "groups":
		if method == http.MethodPost || method == http.MethodGet {
			return RouteData
		}
	case "import":
		if method == http.MethodPost {
			return RouteData
		}
	case "decide", "flags":
		if method == http.MethodPost || method == http.MethodGet {
			return RoutePassThrough
		}
	}
	return RouteReject
}

type mpWire int

const (
	mpWireForm   mpWire = iota // data= in a form body
	mpWireQuery                // data= in the query string
	mpWireJSON                 // JSON body
	mpWireNDJSON               // one JSON object a line
)

// mpState is the envelope of a decoded Mixpanel request.
type mpState struct {
	endpoint string
	wire     mpWire
	b64      *base64.Encoding // data= was base64 in this encoding; nil: JSON text
	single   bool             // a single object rather than an array
	pairs    []string         // raw form fields (mpWireForm)
	dataPair int              // index of data= in pairs
	ipPairs  []int            // indexes of ip= in pairs
}

// mpProfileOps are the profile and group operations, in the order used to
// name a message that has several.
var mpProfileOps = []string{"$set", "$set_once", "$add", "$union", "$append", "$remove", "$unset", "$delete"}

// mpPropOps are the operations whose value is a map keyed by property name.
var mpPropOps = []string{"$set", "$set_once", "$add", "$union", "$append", "$remove"}

func mpParseErr(format string, args ...any) error {
	return fmt.Errorf("%w: mixpanel: %s", ErrParse, fmt.Sprintf(format, args...))
}

func (Mixpanel) Decode(r *Request) (*Batch, error) {
	ep := mpEndpoint(r.Path)
	switch ep {
	case "track", "engage", "groups", "import":
	default:
		return nil, fmt.Errorf("mixpanel: %s is not a data endpoint", r.Path)
	}
	st := &mpState{endpoint: ep}
	var ipValues []string
	ipValues = append(ipValues, r.Query["ip"]...)
	queryData, inQuery := r.Query["data"]
	var payload []byte // the JSON text
	where := "body"

	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := bytes.TrimSpace(r.Body)
	switch {
	case len(body) == 0:
		if !inQuery {
			return nil, mpParseErr("no data: the body is empty and the query has no data= parameter")
		}
		if len(queryData) > 1 {
			return nil, mpParseErr("query has %d data= parameters, want one", len(queryData))
		}
		st.wire = mpWireQuery
		where = "query parameter data"
		var err error
		if payload, st.b64, err = mpDataValue(queryData[0], where); err != nil {
			return nil, err
		}
	case inQuery:
		return nil, mpParseErr("data= is in both the query and the body")
	case ctype == "application/x-ndjson":
		st.wire = mpWireNDJSON
		payload = body
	case ctype == "application/json" || body[0] == '[' || body[0] == '{':
		st.wire = mpWireJSON
		payload = body
	default:
		st.wire = mpWireForm
		where = "form field data"
		st.pairs = strings.Split(string(r.Body), "&")
		st.dataPair = -1
		for i, pair := range st.pairs {
			rawKey, rawVal, _ := strings.Cut(pair, "=")
			key, err := formUnescape(rawKey)
			if err != nil {
				return nil, mpParseErr("form field %d: bad escape in the name: %v", i, err)
			}
			if key != "data" && key != "ip" {
				continue
			}
			val, err := formUnescape(rawVal)
			if err != nil {
				return nil, mpParseErr("form field %s: bad escape: %v", key, err)
			}
			if key == "ip" {
				st.ipPairs = append(st.ipPairs, i)
				ipValues = append(ipValues, val)
				continue
			}
			if st.dataPair >= 0 {
				return nil, mpParseErr("form body has more than one data= field")
			}
			st.dataPair = i
			if payload, st.b64, err = mpDataValue(val, where); err != nil {
				return nil, err
			}
		}
		if st.dataPair < 0 {
			return nil, mpParseErr("form body has no data= field")
		}
	}

	var objs []map[string]any
	if st.wire == mpWireNDJSON {
		for n, line := range bytes.Split(payload, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var v any
			if err := mpDecodeJSON(line, &v); err != nil {
				return nil, mpParseErr("body line %d: %s", n+1, mpJSONErr(err))
			}
			o, ok := v.(map[string]any)
			if !ok {
				return nil, mpParseErr("body line %d is %s, not an object", n+1, jsonKind(v))
			}
			objs = append(objs, o)
		}
	} else {
		var v any
		if err := mpDecodeJSON(payload, &v); err != nil {
			return nil, mpParseErr("%s: %s", where, mpJSONErr(err))
		}
		switch x := v.(type) {
		case map[string]any:
			st.single = true
			objs = []map[string]any{x}
		case []any:
			objs = make([]map[string]any, len(x))
			for i, e := range x {
				o, ok := e.(map[string]any)
				if !ok {
					return nil, mpParseErr("%s: message %d is %s, not an object", where, i, jsonKind(e))
				}
				objs[i] = o
			}
		default:
			return nil, mpParseErr("%s: JSON is %s, want an object or an array of objects", where, jsonKind(v))
		}
	}

	b := &Batch{State: st, Messages: make([]*Message, 0, len(objs))}
	for i, o := range objs {
		m, err := mpMessage(ep, o)
		if err != nil {
			return nil, mpParseErr("%s: message %d: %v", where, i, err)
		}
		b.Messages = append(b.Messages, m)
	}
	// Geolocation from the request IP is on unless every ip parameter is 0.
	b.ClientIPUsed = true
	if len(ipValues) > 0 {
		off := true
		for _, v := range ipValues {
			off = off && strings.TrimSpace(v) == "0"
		}
		b.ClientIPUsed = !off
	}
	return b, nil
}

// mpMessage classifies one Mixpanel object.
func mpMessage(ep string, o map[string]any) (*Message, error) {
	switch ep {
	case "track", "import":
		m := &Message{Kind: KindEvent, Object: o, Dedup: Path{"properties", "$insert_id"}}
		m.Name, _ = o["event"].(string)
		props, err := mpMapAt(o, "properties")
		if err != nil {
			return nil, err
		}
		if props != nil {
			m.Props = []Path{{"properties"}}
			if mpPresent(props, "distinct_id") {
				m.Subject = Path{"properties", "distinct_id"}
			}
		}
		return m, nil
	}
	m := &Message{Kind: KindProfile, Object: o, Name: ep}
	if ep == "groups" {
		m.Kind = KindGroup
	}
	for _, op := range mpProfileOps {
		if _, ok := o[op]; ok {
			m.Name = op
			break
		}
	}
	for _, op := range mpPropOps {
		props, err := mpMapAt(o, op)
		if err != nil {
			return nil, err
		}
		if props != nil {
			m.Props = append(m.Props, Path{op})
		}
	}
	if ep == "groups" {
		m.Fields = mpFieldsPresent(o, Path{"$group_id"})
		return m, nil
	}
	m.Fields = mpFieldsPresent(o, Path{"$distinct_id"}, Path{"$ip"})
	if mpPresent(o, "$distinct_id") {
		m.Subject = Path{"$distinct_id"}
	}
	return m, nil
}

// mpDataValue decodes the value of a data= parameter: the JSON itself, or
// base64 of it. It returns the JSON text and the base64 encoding used (nil
// for JSON text).
func mpDataValue(v, where string) ([]byte, *base64.Encoding, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil, mpParseErr("%s is empty", where)
	}
	if v[0] == '[' || v[0] == '{' {
		return []byte(v), nil, nil
	}
	// A '+' sent unescaped in a form reads as a space; base64 has no spaces.
	v = strings.ReplaceAll(v, " ", "+")
	enc, err := mpBase64Encoding(v)
	if err != nil {
		return nil, nil, mpParseErr("%s: %v", where, err)
	}
	out, err := enc.DecodeString(v)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, nil, mpParseErr("%s: invalid base64 at byte %d", where, int64(ce))
		}
		return nil, nil, mpParseErr("%s: invalid base64: %v", where, err)
	}
	return out, enc, nil
}

// mpBase64Encoding picks the base64 variant of s: the URL alphabet when s
// has - or _, unpadded when its length says so.
func mpBase64Encoding(s string) (*base64.Encoding, error) {
	urlSafe := strings.ContainsAny(s, "-_")
	if urlSafe && strings.ContainsAny(s, "+/") {
		return nil, errors.New("invalid base64: mixes the standard and URL-safe alphabets")
	}
	n := len(s) - strings.Count(s, "\n") - strings.Count(s, "\r")
	padded := strings.HasSuffix(strings.TrimRight(s, "\r\n"), "=") || n%4 == 0
	switch {
	case urlSafe && padded:
		return base64.URLEncoding, nil
	case urlSafe:
		return base64.RawURLEncoding, nil
	case padded:
		return base64.StdEncoding, nil
	}
	return base64.RawStdEncoding, nil
}

func (Mixpanel) Encode(r *Request, b *Batch) (*Request, error) {
	st, ok := b.State.(*mpState)
	if !ok {
		return nil, errors.New("mixpanel: the batch was not decoded by the mixpanel adapter")
	}
	objs := make([]any, 0, len(b.Messages))
	for i, m := range b.Messages {
		if m == nil || m.Object == nil {
			return nil, fmt.Errorf("mixpanel: message %d has no object", i)
		}
		objs = append(objs, m.Object)
	}
	out := &Request{Method: r.Method, Path: r.Path, Query: mpCloneValues(r.Query), Header: r.Header.Clone()}
	if out.Header == nil {
		out.Header = http.Header{}
	}

	var top any = objs
	if st.single && len(objs) == 1 {
		top = objs[0]
	}
	switch st.wire {
	case mpWireNDJSON:
		var buf bytes.Buffer
		for _, o := range objs {
			js, err := marshalPlainJSON(o)
			if err != nil {
				return nil, err
			}
			buf.Write(js)
			buf.WriteByte('\n')
		}
		out.Body = buf.Bytes()
	case mpWireJSON:
		js, err := marshalPlainJSON(top)
		if err != nil {
			return nil, err
		}
		out.Body = js
	default:
		js, err := marshalPlainJSON(top)
		if err != nil {
			return nil, err
		}
		val := string(js)
		if st.b64 != nil {
			val = st.b64.EncodeToString(js)
		}
		if st.wire == mpWireQuery {
			out.Query.Set("data", val)
			out.Body = append([]byte(nil), r.Body...)
			break
		}
		pairs := append([]string(nil), st.pairs...)
		if st.dataPair < 0 || st.dataPair >= len(pairs) {
			return nil, errors.New("mixpanel: inconsistent form state")
		}
		rawKey, _, _ := strings.Cut(pairs[st.dataPair], "=")
		pairs[st.dataPair] = rawKey + "=" + formEscape(val)
		if b.DropClientIP {
			for _, i := range st.ipPairs {
				rawKey, _, _ := strings.Cut(pairs[i], "=")
				pairs[i] = rawKey + "=0"
			}
		}
		out.Body = []byte(strings.Join(pairs, "&"))
	}
	if b.DropClientIP {
		out.Query.Set("ip", "0")
	}
	out.Header.Set("Content-Length", strconv.Itoa(len(out.Body)))
	return out, nil
}

// Helpers shared with segment.go.

// mpDecodeJSON decodes one JSON value with numbers as json.Number and
// refuses anything but white space after it.
func mpDecodeJSON(b []byte, v any) error { return decodeFast(b, v, mpDecodeJSONStd) }

func mpDecodeJSONStd(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	off := dec.InputOffset()
	rest := b[off:]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		return fmt.Errorf("trailing data after the JSON value at byte %d", off+int64(len(rest)-len(trimmed)))
	}
	return nil
}

// mpJSONErr describes a JSON decoding error with the position (0-based byte
// offset in the JSON text) of the offending byte.
func mpJSONErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "no JSON value (empty)"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON (unexpected end of input)"
	case errors.As(err, &se):
		// Offset counts the bytes read, the bad one included.
		return fmt.Sprintf("invalid JSON at byte %d: %v", max(se.Offset-1, 0), se)
	case errors.As(err, &te):
		return fmt.Sprintf("invalid JSON at byte %d: %v", te.Offset, te)
	}
	return "invalid JSON: " + err.Error()
}

// mpMapAt returns the object under key k of o: nil when absent or null, an
// error when it is something else (a policy could not see its keys, so it
// must not pass through unread).
func mpMapAt(o map[string]any, k string) (map[string]any, error) {
	v, ok := o[k]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is %s, not an object", k, jsonKind(v))
	}
	return m, nil
}

// mpPresent says whether o has a non-empty id under k.
func mpPresent(o map[string]any, k string) bool {
	switch v := o[k].(type) {
	case string:
		return v != ""
	case json.Number:
		return true
	}
	return false
}

// mpFieldsPresent returns the paths that hold a non-null value in o.
func mpFieldsPresent(o map[string]any, paths ...Path) []Path {
	var out []Path
	for _, p := range paths {
		if v, ok := Get(o, p); ok && v != nil {
			out = append(out, p)
		}
	}
	return out
}

func mpCloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// mpClone deep-copies a decoded JSON value.
func mpClone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = mpClone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = mpClone(e)
		}
		return s
	}
	return v
}

// mpEqual compares decoded JSON values.
func mpEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
