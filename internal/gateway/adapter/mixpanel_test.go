package adapter

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Helpers (prefixed: other adapters' tests share the package).

func mpFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mpJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := mpDecodeJSON(b, &v); err != nil {
		t.Fatalf("test JSON: %v\n%s", err, b)
	}
	return v
}

// mpSummary describes a message in one line for table comparisons.
func mpSummary(m *Message) string {
	paths := func(ps []Path) string {
		s := make([]string, len(ps))
		for i, p := range ps {
			s[i] = p.String()
		}
		return strings.Join(s, ",")
	}
	subject, dedup := "-", "-"
	if m.Subject != nil {
		subject = m.Subject.String() + "=" + String(m.Object, m.Subject)
	}
	if m.Dedup != nil {
		dedup = m.Dedup.String() + "=" + String(m.Object, m.Dedup)
	}
	return fmt.Sprintf("%s %q subject:%s dedup:%s props:[%s] fields:[%s]",
		m.Kind, m.Name, subject, dedup, paths(m.Props), paths(m.Fields))
}

func mpSummaries(b *Batch) []string {
	out := make([]string, len(b.Messages))
	for i, m := range b.Messages {
		out[i] = mpSummary(m)
	}
	return out
}

// mpFormField returns the unescaped value of a form field, and all the
// fields other than data, raw and in order.
func mpFormField(t testing.TB, body []byte, name string) (string, []string) {
	t.Helper()
	var val string
	found := false
	var others []string
	for _, pair := range strings.Split(string(body), "&") {
		k, v, _ := strings.Cut(pair, "=")
		if k != name {
			others = append(others, pair)
			continue
		}
		u, err := url.QueryUnescape(v)
		if err != nil {
			t.Fatal(err)
		}
		val, found = u, true
	}
	if !found {
		t.Fatalf("no %s= field in %q", name, body)
	}
	return val, others
}

// mpPayload is the decoded JSON a Mixpanel request carries, wherever it is.
func mpPayload(t testing.TB, r *Request) any {
	t.Helper()
	var data string
	switch {
	case len(strings.TrimSpace(string(r.Body))) == 0:
		data = r.Query.Get("data")
	case r.Header.Get("Content-Type") == "application/x-www-form-urlencoded":
		data, _ = mpFormField(t, r.Body, "data")
	case r.Header.Get("Content-Type") == "application/x-ndjson":
		arr := []any{}
		for _, line := range strings.Split(string(r.Body), "\n") {
			if strings.TrimSpace(line) != "" {
				arr = append(arr, mpJSON(t, []byte(line)))
			}
		}
		return arr
	default:
		return mpJSON(t, r.Body)
	}
	if strings.HasPrefix(data, "[") || strings.HasPrefix(data, "{") {
		return mpJSON(t, []byte(data))
	}
	enc, err := mpBase64Encoding(data)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := enc.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	return mpJSON(t, raw)
}

func mpReq(method, path, query, ctype string, body []byte) *Request {
	q, _ := url.ParseQuery(query)
	h := http.Header{}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &Request{Method: method, Path: path, Query: q, Header: h, Body: body}
}

const (
	mpForm     = "application/x-www-form-urlencoded"
	mpJSONType = "application/json"
)

func TestMixpanelRoute(t *testing.T) {
	tests := []struct {
		method, path string
		want         Route
	}{
		{"POST", "/track", RouteData},
		{"POST", "/track/", RouteData},
		{"GET", "/track", RouteData},
		{"GET", "/track/", RouteData},
		{"POST", "/engage", RouteData},
		{"POST", "/engage/", RouteData},
		{"GET", "/engage/", RouteData},
		{"POST", "/groups", RouteData},
		{"POST", "/groups/", RouteData},
		{"POST", "/import", RouteData},
		{"POST", "/import/", RouteData},
		{"GET", "/import", RouteReject},
		{"GET", "/decide", RoutePassThrough},
		{"GET", "/decide/", RoutePassThrough},
		{"POST", "/decide", RoutePassThrough},
		{"GET", "/flags", RoutePassThrough},
		{"GET", "/flags/", RoutePassThrough},
		{"POST", "/flags/", RoutePassThrough},
		{"PUT", "/track", RouteReject},
		{"DELETE", "/engage", RouteReject},
		{"OPTIONS", "/track", RouteReject},
		{"HEAD", "/track", RouteReject},
		{"DELETE", "/flags", RouteReject},
		{"GET", "/lib.min.js", RouteReject},
		{"GET", "/libs/mixpanel-2-latest.min.js", RouteReject},
		{"POST", "/record/", RouteReject},
		{"POST", "/track//", RouteReject},
		{"POST", "//track", RouteReject},
		{"POST", "/track/../admin", RouteReject},
		{"POST", "/Track", RouteReject},
		{"POST", "/api/2.0/export", RouteReject},
		{"POST", "/", RouteReject},
		{"POST", "", RouteReject},
	}
	for _, tt := range tests {
		if got := (Mixpanel{}).Route(tt.method, tt.path); got != tt.want {
			t.Errorf("Route(%s %q) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	if (Mixpanel{}).Name() != "mixpanel" {
		t.Error("name")
	}
}

const mpToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

// mpCases are the realistic requests the decode and round-trip tests share.
func mpCases(t testing.TB) []struct {
	name string
	req  *Request
	want []string
} {
	trackJSON := mpFixture(t, "mixpanel/track_batch.json")
	b64 := base64.StdEncoding.EncodeToString([]byte(mpCompact(t, trackJSON)))
	return []struct {
		name string
		req  *Request
		want []string
	}{
		{"browser batch, base64 form", mpReq("POST", "/track/", "ip=1&_=1732540000123&ver=2.55.1", mpForm, mpFixture(t, "mixpanel/track_batch.form")), []string{
			`event "$mp_web_page_view" subject:properties.distinct_id=$device:18f0a7c2e5b1d9-0c4e8f2a dedup:properties.$insert_id=5d958f87-542d-4e37-9e0b-6c7b1f1d5a00 props:[properties] fields:[]`,
			`event "Sign Up" subject:properties.distinct_id=u_123 dedup:properties.$insert_id=5d958f87-542d-4e37-9e0b-6c7b1f1d5a01 props:[properties] fields:[]`,
		}},
		{"old SDK GET, data in query", mpReq("GET", "/track", "data="+url.QueryEscape(b64)+"&ip=1&img=1", "", nil), []string{
			`event "$mp_web_page_view" subject:properties.distinct_id=$device:18f0a7c2e5b1d9-0c4e8f2a dedup:properties.$insert_id=5d958f87-542d-4e37-9e0b-6c7b1f1d5a00 props:[properties] fields:[]`,
			`event "Sign Up" subject:properties.distinct_id=u_123 dedup:properties.$insert_id=5d958f87-542d-4e37-9e0b-6c7b1f1d5a01 props:[properties] fields:[]`,
		}},
		{"import JSON array", mpReq("POST", "/import", "strict=1&project_id=3141592", mpJSONType, mpFixture(t, "mixpanel/import.json")), []string{
			`event "Invoice Paid" subject:properties.distinct_id=u_123 dedup:properties.$insert_id=29fc2962-6d9c-455d-95ad-95b84f09b9e4 props:[properties] fields:[]`,
			`event "Seat Added" subject:properties.distinct_id=u_456 dedup:properties.$insert_id=935d87b1-00cd-41b7-be34-b9d98dd08b42 props:[properties] fields:[]`,
		}},
		{"import ndjson", mpReq("POST", "/import", "strict=1", "application/x-ndjson", mpNDJSON(t, mpFixture(t, "mixpanel/import.json"))), []string{
			`event "Invoice Paid" subject:properties.distinct_id=u_123 dedup:properties.$insert_id=29fc2962-6d9c-455d-95ad-95b84f09b9e4 props:[properties] fields:[]`,
			`event "Seat Added" subject:properties.distinct_id=u_456 dedup:properties.$insert_id=935d87b1-00cd-41b7-be34-b9d98dd08b42 props:[properties] fields:[]`,
		}},
		{"track JSON body, single object", mpReq("POST", "/track", "verbose=1", mpJSONType, []byte(`{"event":"Login","properties":{"token":"`+mpToken+`","distinct_id":42,"time":1732540000,"$insert_id":"ins-1"}}`)), []string{
			`event "Login" subject:properties.distinct_id=42 dedup:properties.$insert_id=ins-1 props:[properties] fields:[]`,
		}},
		{"engage, JSON in form (python SDK)", mpReq("POST", "/engage", "", mpForm, mpFixture(t, "mixpanel/engage.form")), []string{
			`profile "$set" subject:$distinct_id=u_123 dedup:- props:[$set] fields:[$distinct_id,$ip]`,
			`profile "$set_once" subject:$distinct_id=u_123 dedup:- props:[$set_once] fields:[$distinct_id]`,
			`profile "$unset" subject:$distinct_id=u_123 dedup:- props:[] fields:[$distinct_id]`,
		}},
		{"engage, several operations, base64 URL alphabet", mpReq("POST", "/engage/", "ip=1", mpForm, []byte("data="+base64.RawURLEncoding.EncodeToString([]byte(
			`{"$token":"`+mpToken+`","$distinct_id":"u_9","$add":{"logins":1},"$union":{"tags":["a"]},"$append":{"seen":"x"},"$remove":{"tags":"b"}}`)))), []string{
			`profile "$add" subject:$distinct_id=u_9 dedup:- props:[$add,$union,$append,$remove] fields:[$distinct_id]`,
		}},
		{"groups, JSON body", mpReq("POST", "/groups", "", mpJSONType, mpFixture(t, "mixpanel/groups.json")), []string{
			`group "$set" subject:- dedup:- props:[$set] fields:[$group_id]`,
		}},
		{"groups delete", mpReq("POST", "/groups", "", mpForm, []byte("data="+url.QueryEscape(`[{"$token":"`+mpToken+`","$group_key":"company","$group_id":"org-x","$delete":""}]`))), []string{
			`group "$delete" subject:- dedup:- props:[] fields:[$group_id]`,
		}},
		{"empty array", mpReq("POST", "/track", "", mpForm, []byte("data=W10%3D")), []string{}},
	}
}

func mpCompact(t testing.TB, b []byte) string {
	t.Helper()
	js, err := marshalPlainJSON(mpJSON(t, b))
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func mpNDJSON(t testing.TB, arr []byte) []byte {
	t.Helper()
	var sb strings.Builder
	for _, e := range mpJSON(t, arr).([]any) {
		js, err := marshalPlainJSON(e)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(js)
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}

func TestMixpanelDecode(t *testing.T) {
	for _, tc := range mpCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := (Mixpanel{}).Decode(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := mpSummaries(b); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("messages:\n got %q\nwant %q", got, tc.want)
			}
			// Object is the message as on the wire.
			payload := mpPayload(t, tc.req)
			arr, isArr := payload.([]any)
			if !isArr {
				arr = []any{payload}
			}
			if len(arr) != len(b.Messages) {
				t.Fatalf("%d messages for %d objects", len(b.Messages), len(arr))
			}
			for i, m := range b.Messages {
				if !reflect.DeepEqual(any(m.Object), arr[i]) {
					t.Errorf("message %d object differs from the payload", i)
				}
			}
		})
	}
}

func TestMixpanelDecodeBrowserProperties(t *testing.T) {
	b, err := (Mixpanel{}).Decode(mpReq("POST", "/track", "ip=1", mpForm, mpFixture(t, "mixpanel/track_batch.form")))
	if err != nil {
		t.Fatal(err)
	}
	props := Map(b.Messages[1].Object, Path{"properties"})
	for _, k := range []string{"$os", "$browser", "$current_url", "$browser_version", "$screen_height", "$screen_width", "mp_lib", "$lib_version", "$insert_id", "time", "distinct_id", "$device_id", "$user_id", "$initial_referrer", "$referrer", "$referring_domain", "utm_source", "token", "email"} {
		if _, ok := props[k]; !ok {
			t.Errorf("property %s missing", k)
		}
	}
	if got := String(props, Path{"time"}); got != "1732540000.456" {
		t.Errorf("time = %q: numbers must stay exact", got)
	}
	if !b.ClientIPUsed {
		t.Error("ip=1: ClientIPUsed false")
	}
	imp, err := (Mixpanel{}).Decode(mpReq("POST", "/import", "", mpJSONType, mpFixture(t, "mixpanel/import.json")))
	if err != nil {
		t.Fatal(err)
	}
	if got := String(imp.Messages[0].Object, Path{"properties", "invoice_id"}); got != "90071992547409931" {
		t.Errorf("invoice_id = %s: big integers must stay exact", got)
	}
}

func TestMixpanelRoundTrip(t *testing.T) {
	for _, tc := range mpCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.req
			b, err := (Mixpanel{}).Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := (Mixpanel{}).Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			if out.Method != in.Method || out.Path != in.Path {
				t.Errorf("endpoint changed: %s %s", out.Method, out.Path)
			}
			if !reflect.DeepEqual(out.Query, in.Query) && in.Query.Get("data") == "" {
				t.Errorf("query changed: %v -> %v", in.Query, out.Query)
			}
			if got := out.Header.Get("Content-Length"); got != strconv.Itoa(len(out.Body)) {
				t.Errorf("Content-Length %s for %d bytes", got, len(out.Body))
			}
			if out.Header.Get("Content-Type") != in.Header.Get("Content-Type") {
				t.Error("Content-Type changed")
			}
			if !reflect.DeepEqual(mpPayload(t, out), mpPayload(t, in)) {
				t.Errorf("payload changed:\n in %s\nout %s", in.Body, out.Body)
			}
			mpSameEnvelope(t, in, out)
		})
	}
}

// mpSameEnvelope checks that out has the wire shape of in: form fields,
// base64 or JSON, alphabet and padding, array or object.
func mpSameEnvelope(t *testing.T, in, out *Request) {
	t.Helper()
	var inData, outData string
	switch {
	case len(in.Body) == 0:
		inData, outData = in.Query.Get("data"), out.Query.Get("data")
		if len(out.Body) != 0 {
			t.Error("body added")
		}
	case in.Header.Get("Content-Type") == mpForm:
		var inOthers, outOthers []string
		inData, inOthers = mpFormField(t, in.Body, "data")
		outData, outOthers = mpFormField(t, out.Body, "data")
		if !reflect.DeepEqual(inOthers, outOthers) {
			t.Errorf("form fields changed: %q -> %q", inOthers, outOthers)
		}
	case in.Header.Get("Content-Type") == "application/x-ndjson":
		inData, outData = string(in.Body), string(out.Body)
		if strings.Count(strings.TrimSpace(inData), "\n") != strings.Count(strings.TrimSpace(outData), "\n") {
			t.Error("line structure changed")
		}
	default:
		inData, outData = string(in.Body), string(out.Body)
	}
	in0, out0 := strings.TrimSpace(inData)[0], strings.TrimSpace(outData)[0]
	switch {
	case in0 == '[' || in0 == '{':
		if out0 != in0 {
			t.Errorf("JSON %c became %c", in0, out0)
		}
	default:
		if out0 == '[' || out0 == '{' {
			t.Fatal("base64 became JSON")
		}
		inEnc, _ := mpBase64Encoding(inData)
		if _, err := inEnc.DecodeString(outData); err != nil {
			t.Errorf("output is not in the input's base64 variant: %v", err)
		}
		if strings.ContainsAny(inData, "-_") && strings.ContainsAny(outData, "+/") ||
			strings.ContainsAny(inData, "+/") && strings.ContainsAny(outData, "-_") {
			t.Error("base64 alphabet changed")
		}
		if !strings.Contains(inData, "=") && len(inData)%4 != 0 && strings.Contains(outData, "=") {
			t.Error("padding added")
		}
	}
}

func TestMixpanelBase64Variants(t *testing.T) {
	// '?' and '>' make standard base64 use '+' and '/'.
	// Keys in sorted order, as Encode writes them, so the bytes match.
	payload := []byte(`[{"event":"a?>?>","properties":{"distinct_id":"u","k":"~~~???>>>"}}]`)
	if !strings.ContainsAny(base64.StdEncoding.EncodeToString(payload), "+/") {
		t.Fatal("test payload does not exercise the alphabet")
	}
	variants := []struct {
		name  string
		value string // form value, before escaping
		raw   bool   // send without escaping (the '+' reads as a space)
	}{
		{"std padded", base64.StdEncoding.EncodeToString(payload), false},
		{"std raw", base64.RawStdEncoding.EncodeToString(payload), false},
		{"url padded", base64.URLEncoding.EncodeToString(payload), false},
		{"url raw", base64.RawURLEncoding.EncodeToString(payload), false},
		{"std with unescaped +", base64.StdEncoding.EncodeToString(payload), true},
		{"std with line breaks", mpWrap(base64.StdEncoding.EncodeToString(payload), 60), false},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			body := "data=" + url.QueryEscape(v.value) + "&verbose=1"
			if v.raw {
				body = "data=" + v.value + "&verbose=1"
			}
			in := mpReq("POST", "/track", "", mpForm, []byte(body))
			b, err := (Mixpanel{}).Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages) != 1 || b.Messages[0].Name != "a?>?>" {
				t.Fatalf("got %q", mpSummaries(b))
			}
			out, err := (Mixpanel{}).Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			outData, others := mpFormField(t, out.Body, "data")
			if !reflect.DeepEqual(others, []string{"verbose=1"}) {
				t.Errorf("other fields: %q", others)
			}
			clean := strings.NewReplacer("\n", "", " ", "+").Replace(v.value)
			if outData != clean {
				t.Errorf("re-encoded data differs:\n in %s\nout %s", clean, outData)
			}
		})
	}
}

func mpWrap(s string, n int) string {
	var sb strings.Builder
	for len(s) > n {
		sb.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	sb.WriteString(s)
	return sb.String()
}

func TestMixpanelEncodeEdits(t *testing.T) {
	in := mpReq("POST", "/track", "ip=1&_=1732540000123", mpForm, mpFixture(t, "mixpanel/track_batch.form"))
	b, err := (Mixpanel{}).Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	// The policy drops a property of the second event and the first event.
	Delete(b.Messages[1].Object, Path{"properties", "email"})
	b.Messages = b.Messages[1:]
	out, err := (Mixpanel{}).Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	want := mpJSON(t, mpFixture(t, "mixpanel/track_batch.json")).([]any)[1:]
	delete(want[0].(map[string]any)["properties"].(map[string]any), "email")
	if got := mpPayload(t, out); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("payload:\n got %v\nwant %v", got, want)
	}
	data, _ := mpFormField(t, out.Body, "data")
	if strings.HasPrefix(data, "[") {
		t.Error("base64 became JSON")
	}
	if strings.Contains(mpDecodeB64(t, data), "ada@example.com") {
		t.Error("deleted property still sent")
	}

	// Profile update: drop $ip and a $set key, keep the token.
	in = mpReq("POST", "/engage", "", mpForm, mpFixture(t, "mixpanel/engage.form"))
	if b, err = (Mixpanel{}).Decode(in); err != nil {
		t.Fatal(err)
	}
	Delete(b.Messages[0].Object, Path{"$ip"})
	Delete(b.Messages[0].Object, Path{"$set", "$phone"})
	b.Messages = b.Messages[:2]
	if out, err = (Mixpanel{}).Encode(in, b); err != nil {
		t.Fatal(err)
	}
	arr := mpPayload(t, out).([]any)
	if len(arr) != 2 {
		t.Fatalf("%d profile updates", len(arr))
	}
	first := arr[0].(map[string]any)
	if _, ok := first["$ip"]; ok {
		t.Error("$ip still sent")
	}
	if _, ok := first["$set"].(map[string]any)["$phone"]; ok {
		t.Error("$phone still sent")
	}
	if first["$token"] != mpToken || first["$set"].(map[string]any)["$email"] != "ada@example.com" {
		t.Error("kept fields altered")
	}
}

func mpDecodeB64(t testing.TB, s string) string {
	t.Helper()
	enc, err := mpBase64Encoding(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := enc.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestMixpanelEncodeEmpty(t *testing.T) {
	tests := []struct {
		name string
		req  *Request
		want string // decoded payload
	}{
		{"base64 form", mpReq("POST", "/track", "ip=1", mpForm, mpFixture(t, "mixpanel/track_batch.form")), "[]"},
		{"single object JSON", mpReq("POST", "/groups", "", mpJSONType, mpFixture(t, "mixpanel/groups.json")), "[]"},
		{"ndjson", mpReq("POST", "/import", "", "application/x-ndjson", []byte(`{"event":"a","properties":{}}`+"\n")), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := (Mixpanel{}).Decode(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			b.Messages = nil
			out, err := (Mixpanel{}).Encode(tt.req, b)
			if err != nil {
				t.Fatal(err)
			}
			got := string(out.Body)
			if tt.req.Header.Get("Content-Type") == mpForm {
				data, _ := mpFormField(t, out.Body, "data")
				got = mpDecodeB64(t, data)
			}
			if got != tt.want {
				t.Errorf("body %q, want %q", got, tt.want)
			}
			if out.Header.Get("Content-Length") != strconv.Itoa(len(out.Body)) {
				t.Error("Content-Length")
			}
		})
	}
}

func TestMixpanelClientIP(t *testing.T) {
	form := mpFixture(t, "mixpanel/track_batch.form")
	engage := mpFixture(t, "mixpanel/engage.form") // has ip=0 as a form field
	tests := []struct {
		name, path, query string
		body              []byte
		used              bool
	}{
		{"no ip parameter", "/track", "", form, true},
		{"ip=1", "/track", "ip=1", form, true},
		{"ip=0", "/track", "ip=0&verbose=1", form, false},
		{"import without ip", "/import", "", form, true},
		{"engage, ip=0 form field", "/engage", "", engage, false},
		{"ip=0 form field, ip=1 query", "/engage", "ip=1", engage, true},
		{"ip=1 form field", "/engage", "", []byte(strings.Replace(string(engage), "ip=0", "ip=1", 1)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mpReq("POST", tt.path, tt.query, mpForm, tt.body)
			b, err := (Mixpanel{}).Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			if b.ClientIPUsed != tt.used {
				t.Errorf("ClientIPUsed = %v, want %v", b.ClientIPUsed, tt.used)
			}
			b.DropClientIP = true
			out, err := (Mixpanel{}).Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Query["ip"]; !reflect.DeepEqual(got, []string{"0"}) {
				t.Errorf("query ip = %q, want [0]", got)
			}
			for _, pair := range strings.Split(string(out.Body), "&") {
				if k, v, _ := strings.Cut(pair, "="); k == "ip" && v != "0" {
					t.Errorf("form field ip=%s left", v)
				}
			}
			for k, v := range in.Query {
				if k != "ip" && !reflect.DeepEqual(out.Query[k], v) {
					t.Errorf("query %s changed", k)
				}
			}
			b2, err := (Mixpanel{}).Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			if b2.ClientIPUsed {
				t.Error("still uses the client IP after DropClientIP")
			}
		})
	}
	// Not dropping leaves ip alone.
	in := mpReq("POST", "/track", "ip=1", mpForm, form)
	b, _ := (Mixpanel{}).Decode(in)
	out, _ := (Mixpanel{}).Encode(in, b)
	if out.Query.Get("ip") != "1" {
		t.Error("ip=1 changed without DropClientIP")
	}
}

func TestMixpanelDecodeErrors(t *testing.T) {
	b64 := func(s string) string { return url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(s))) }
	tests := []struct {
		name, method, path, query, ctype, body string
		want                                   string
	}{
		{"bad base64", "POST", "/track", "", mpForm, "data=eyJldmVudCI6*IkEifQ%3D%3D", "form field data: invalid base64 at byte 12"},
		{"mixed alphabets", "POST", "/track", "", mpForm, "data=ab%2Bc-d_e", "mixes the standard and URL-safe alphabets"},
		{"truncated JSON in base64", "POST", "/track", "", mpForm, "data=" + b64(`[{"event":"Sign Up","properties":{"distinct_id":"u_1"`), "form field data: truncated JSON"},
		{"invalid JSON in base64", "POST", "/track", "", mpForm, "data=" + b64(`[{"event":"Sign Up",,}]`), "form field data: invalid JSON at byte 20"},
		{"truncated JSON body", "POST", "/import", "", mpJSONType, `[{"event":"a","properties":{}},{"event":`, "body: truncated JSON"},
		{"trailing garbage", "POST", "/import", "", mpJSONType, `[{"event":"a"}]]`, "trailing data after the JSON value at byte 15"},
		{"data missing", "POST", "/track", "", mpForm, "verbose=1&ip=1", "form body has no data= field"},
		{"no data at all", "GET", "/track", "ip=1", "", "", "the body is empty and the query has no data= parameter"},
		{"empty data", "POST", "/track", "", mpForm, "data=&verbose=1", "form field data is empty"},
		{"two data fields", "POST", "/track", "", mpForm, "data=W10%3D&data=W10%3D", "more than one data= field"},
		{"data in query and body", "POST", "/track", "data=W10%3D", mpForm, "data=W10%3D", "data= is in both the query and the body"},
		{"top-level number, base64", "POST", "/track", "", mpForm, "data=NDI%3D", "form field data: JSON is a number, want an object or an array of objects"},
		{"top-level number, JSON body", "POST", "/import", "", mpJSONType, "42", "body: JSON is a number"},
		{"top-level string in query", "GET", "/track", "data=" + b64(`"x"`), "", "", "query parameter data: JSON is a string"},
		{"message not an object", "POST", "/track", "", mpForm, "data=" + b64(`[{"event":"a","properties":{}},"b"]`), "form field data: message 1 is a string, not an object"},
		{"properties not an object", "POST", "/import", "", mpJSONType, `[{"event":"a","properties":{}},{"event":"b","properties":[1]}]`, "body: message 1: properties is an array, not an object"},
		{"$set not an object", "POST", "/engage", "", mpJSONType, `{"$distinct_id":"u","$set":"x"}`, "message 0: $set is a string, not an object"},
		{"ndjson line not an object", "POST", "/import", "", "application/x-ndjson", "{\"event\":\"a\"}\n[1]\n", "body line 2 is an array, not an object"},
		{"ndjson bad line", "POST", "/import", "", "application/x-ndjson", "{\"event\":\"a\"}\n{\"event\":}\n", "body line 2: invalid JSON at byte 9"},
		{"bad escape", "POST", "/track", "", mpForm, "data=%zz", "form field data: bad escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (Mixpanel{}).Decode(mpReq(tt.method, tt.path, tt.query, tt.ctype, []byte(tt.body)))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrParse) {
				t.Errorf("error does not wrap ErrParse: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	if _, err := (Mixpanel{}).Decode(mpReq("GET", "/decide", "", "", nil)); err == nil {
		t.Error("decoded a pass-through endpoint")
	}
}

func FuzzMixpanelDecode(f *testing.F) {
	f.Add("/track", mpForm, "ip=1", mpFixture(f, "mixpanel/track_batch.form"))
	f.Add("/engage", mpForm, "", mpFixture(f, "mixpanel/engage.form"))
	f.Add("/import", mpJSONType, "strict=1", mpFixture(f, "mixpanel/import.json"))
	f.Add("/groups", "", "", mpFixture(f, "mixpanel/groups.json"))
	f.Add("/import", "application/x-ndjson", "", []byte("{\"event\":\"a\"}\n{\"event\":\"b\"}\n"))
	f.Add("/track", "", "data=W3siZXZlbnQiOiJhIn1d&ip=0", []byte{})
	f.Add("/track", mpForm, "", []byte("data=W3siZXZlbnQiOiJhIn1d&ip=1&ip=0"))
	f.Add("/track/", mpForm, "", []byte("data=%5B%7B%22event%22%3A%22a%22%7D%5D"))
	f.Fuzz(func(t *testing.T, path, ctype, query string, body []byte) {
		in := mpReq("POST", path, query, ctype, body)
		b, err := (Mixpanel{}).Decode(in)
		if err != nil {
			if (Mixpanel{}).Route("POST", path) == RouteData && !errors.Is(err, ErrParse) {
				t.Fatalf("data endpoint error does not wrap ErrParse: %v", err)
			}
			return
		}
		out, err := (Mixpanel{}).Encode(in, b)
		if err != nil {
			t.Fatalf("Encode after a successful Decode: %v", err)
		}
		b2, err := (Mixpanel{}).Decode(out)
		if err != nil {
			t.Fatalf("Decode of Encode's output: %v\n%q", err, out.Body)
		}
		if len(b2.Messages) != len(b.Messages) {
			t.Fatalf("%d messages became %d", len(b.Messages), len(b2.Messages))
		}
		for i := range b.Messages {
			if !reflect.DeepEqual(b.Messages[i].Object, b2.Messages[i].Object) {
				t.Fatalf("message %d changed in a round trip", i)
			}
		}
		b.DropClientIP = true
		out, err = (Mixpanel{}).Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		if b3, err := (Mixpanel{}).Decode(out); err != nil || b3.ClientIPUsed {
			t.Fatalf("after DropClientIP: err %v, ClientIPUsed %v", err, b3 != nil && b3.ClientIPUsed)
		}
	})
}
