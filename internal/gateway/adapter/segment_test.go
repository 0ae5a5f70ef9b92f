package adapter

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func segReq(path string, body []byte) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Basic d2tfOWY4ZTdkNmM1YjRhMzkyODo=")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return &Request{Method: "POST", Path: path, Header: h, Body: body}
}

func TestSegmentRoute(t *testing.T) {
	tests := []struct {
		method, path string
		want         Route
	}{
		{"POST", "/v1/identify", RouteData},
		{"POST", "/v1/track", RouteData},
		{"POST", "/v1/page", RouteData},
		{"POST", "/v1/screen", RouteData},
		{"POST", "/v1/group", RouteData},
		{"POST", "/v1/alias", RouteData},
		{"POST", "/v1/batch", RouteData},
		{"POST", "/v1/import", RouteData},
		{"POST", "/v1/i", RouteData},
		{"POST", "/v1/t", RouteData},
		{"POST", "/v1/p", RouteData},
		{"POST", "/v1/s", RouteData},
		{"POST", "/v1/g", RouteData},
		{"POST", "/v1/a", RouteData},
		{"POST", "/v1/b", RouteData},
		{"POST", "/v1/track/", RouteData},
		{"POST", "/t", RouteData}, // analytics.js with an apiHost without /v1
		{"POST", "/b", RouteData},
		{"POST", "/batch", RouteData}, // route prefix mapped to …/v1
		{"POST", "/identify", RouteData},
		{"GET", "/v1/track", RouteReject},
		{"PUT", "/v1/batch", RouteReject},
		{"OPTIONS", "/v1/t", RouteReject},
		{"POST", "/v1/x", RouteReject},
		{"POST", "/v1/", RouteReject},
		{"POST", "/v1", RouteReject},
		{"POST", "/v2/track", RouteReject},
		{"POST", "/v1/v1/track", RouteReject},
		{"POST", "/v1track", RouteReject},
		{"POST", "/v1/Track", RouteReject},
		{"POST", "/v1/track//", RouteReject},
		{"GET", "/v1/projects/wk_9f8e7d6c5b4a3928/settings", RoutePassThrough},
		{"POST", "/v1/projects/wk_9f8e7d6c5b4a3928/settings", RouteReject},
		{"GET", "/v1/projects//settings", RouteReject},
		{"GET", "/v1/projects/wk/settings/x", RouteReject},
		{"GET", "/v1/projects/wk/sources", RouteReject},
		{"GET", "/analytics.js/v1/wk/analytics.min.js", RouteReject},
		{"POST", "/", RouteReject},
		{"POST", "", RouteReject},
	}
	for _, tt := range tests {
		if got := (Segment{}).Route(tt.method, tt.path); got != tt.want {
			t.Errorf("Route(%s %q) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	if (Segment{}).Name() != "segment" {
		t.Error("name")
	}
}

func segCases(t testing.TB) []struct {
	name string
	req  *Request
	want []string
} {
	return []struct {
		name string
		req  *Request
		want []string
	}{
		{"identify, nested traits", segReq("/v1/identify", mpFixture(t, "segment/identify.json")), []string{
			`profile "identify" subject:userId=u_123 dedup:messageId=node-next-1732540000000-5d958f87-542d-4e37-9e0b-6c7b1f1d5a01 props:[traits] fields:[userId,anonymousId,context.ip,context.userAgent,context.locale,context.timezone]`,
		}},
		{"track", segReq("/v1/track", mpFixture(t, "segment/track.json")), []string{
			`event "Order Completed" subject:userId=u_123 dedup:messageId=node-next-1732540100000-0c4e8f2a-1111-4e37-9e0b-6c7b1f1d5a02 props:[properties,context.traits] fields:[userId,context.ip]`,
		}},
		{"page, anonymous", segReq("/v1/page", mpFixture(t, "segment/page.json")), []string{
			`event "Pricing" subject:- dedup:messageId=ajs-next-1732540200000-7a1c3e5f-2222-4d6b-8e9f-0a1b2c3d4e5f props:[properties,context.page,context.location,context.campaign] fields:[anonymousId,context.userAgent,context.locale]`,
		}},
		{"analytics.js short path, writeKey in body", segReq("/v1/t", mpFixture(t, "segment/ajs_track.json")), []string{
			`event "Signup Clicked" subject:- dedup:messageId=ajs-next-1732540205123-8b2d4f6a-3333-4c5d-9e0f-1a2b3c4d5e6f props:[properties,context.page] fields:[anonymousId,context.userAgent,context.userAgentData,context.locale,context.timezone]`,
		}},
		{"analytics.js batch without /v1", segReq("/b", mpFixture(t, "segment/ajs_batch.json")), []string{
			`event "Pricing" subject:userId=u_123 dedup:messageId=ajs-next-1 props:[properties,context.page] fields:[userId,anonymousId,context.userAgent,context.locale]`,
			`profile "identify" subject:userId=u_123 dedup:messageId=ajs-next-2 props:[traits] fields:[userId,anonymousId,context.userAgent,context.locale]`,
		}},
		{"batch with batch-level context", segReq("/v1/batch", mpFixture(t, "segment/batch.json")), []string{
			`profile "identify" subject:userId=u_123 dedup:messageId=b-msg-1 props:[traits,context.traits] fields:[userId,context.ip,context.locale,context.device.id]`,
			`event "Report Exported" subject:userId=u_123 dedup:messageId=b-msg-2 props:[properties,context.traits,context.page] fields:[userId,context.ip,context.locale,context.device.id]`,
			`group "group" subject:userId=u_123 dedup:messageId=b-msg-3 props:[traits,context.traits] fields:[userId,groupId,context.ip,context.locale,context.device.id]`,
			`alias "alias" subject:userId=u_123 dedup:messageId=b-msg-4 props:[context.traits] fields:[userId,previousId,context.ip,context.locale,context.device.id]`,
		}},
		{"screen, type from the endpoint", segReq("/v1/screen", []byte(`{"userId":"u_1","name":"Home","properties":{"tab":"feed"},"messageId":"m1","context":{"device":{"id":"dev-1","advertisingId":"ad-1","model":"iPhone15,2"},"os":{"name":"iOS"}}}`)), []string{
			`event "Home" subject:userId=u_1 dedup:messageId=m1 props:[properties] fields:[userId,context.device.id,context.device.advertisingId]`,
		}},
		{"legacy import endpoint", segReq("/v1/import", []byte(`{"batch":[{"type":"screen","anonymousId":"a1","messageId":"m2"}]}`)), []string{
			`event "screen" subject:- dedup:messageId=m2 props:[] fields:[anonymousId]`,
		}},
		{"empty batch", segReq("/v1/batch", []byte(`{"batch":[],"writeKey":"wk"}`)), []string{}},
	}
}

func TestSegmentDecode(t *testing.T) {
	for _, tc := range segCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := (Segment{}).Decode(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := mpSummaries(b); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("messages:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSegmentDecodeBatchContext(t *testing.T) {
	b, err := (Segment{}).Decode(segReq("/v1/batch", mpFixture(t, "segment/batch.json")))
	if err != nil {
		t.Fatal(err)
	}
	// Every message carries the batch-level context, its own keys kept.
	for i, m := range b.Messages {
		if got := String(m.Object, Path{"context", "ip"}); got != "203.0.113.7" {
			t.Errorf("message %d: context.ip %q", i, got)
		}
		if got := String(m.Object, Path{"context", "traits", "email"}); got != "ada@example.com" {
			t.Errorf("message %d: context.traits.email %q", i, got)
		}
	}
	if got := String(b.Messages[1].Object, Path{"context", "traits", "plan"}); got != "pro" {
		t.Errorf("own context.traits.plan lost: %q", got)
	}
	// Each message has its own copy: editing one leaves the others.
	Delete(b.Messages[0].Object, Path{"context", "ip"})
	if String(b.Messages[1].Object, Path{"context", "ip"}) == "" {
		t.Error("messages share their context")
	}
	if b.ClientIPUsed {
		t.Error("context.ip is given: ClientIPUsed should be false")
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	for _, tc := range segCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			b, err := (Segment{}).Decode(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			out, err := (Segment{}).Encode(tc.req, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(mpJSON(t, out.Body), mpJSON(t, tc.req.Body)) {
				t.Errorf("body changed:\n in %s\nout %s", mpCompactBytes(t, tc.req.Body), out.Body)
			}
			if out.Method != tc.req.Method || out.Path != tc.req.Path {
				t.Error("endpoint changed")
			}
			if out.Header.Get("Authorization") != tc.req.Header.Get("Authorization") {
				t.Error("basic auth changed")
			}
			if out.Header.Get("Content-Length") != strconv.Itoa(len(out.Body)) {
				t.Error("Content-Length")
			}
			// The batch is left as the policy gave it.
			b2, err := (Segment{}).Decode(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			for i := range b.Messages {
				if !reflect.DeepEqual(b.Messages[i].Object, b2.Messages[i].Object) {
					t.Errorf("Encode altered message %d", i)
				}
			}
		})
	}
}

func mpCompactBytes(t testing.TB, b []byte) string { return mpCompact(t, b) }

// segWant is the batch fixture after edit, as JSON.
func segWant(t *testing.T, edit func(body map[string]any)) any {
	t.Helper()
	v := mpJSON(t, mpFixture(t, "segment/batch.json"))
	edit(v.(map[string]any))
	js, err := marshalPlainJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return mpJSON(t, js)
}

func segBatchMsg(body map[string]any, i int) map[string]any {
	return body["batch"].([]any)[i].(map[string]any)
}

func TestSegmentEncodeEdits(t *testing.T) {
	tests := []struct {
		name   string
		policy func(b *Batch)
		want   func(body map[string]any)
	}{
		{"drop a property and a message",
			func(b *Batch) {
				Delete(b.Messages[1].Object, Path{"properties", "rows"})
				b.Messages = append(b.Messages[:2], b.Messages[3:]...) // the group call
			},
			func(body map[string]any) {
				delete(segBatchMsg(body, 1)["properties"].(map[string]any), "rows")
				body["batch"] = append(body["batch"].([]any)[:2], body["batch"].([]any)[3:]...)
			}},
		{"drop context.ip everywhere: gone from the batch-level context",
			func(b *Batch) {
				for _, m := range b.Messages {
					Delete(m.Object, Path{"context", "ip"})
				}
			},
			func(body map[string]any) {
				delete(body["context"].(map[string]any), "ip")
			}},
		{"drop context.ip of one message: inlined in the others",
			func(b *Batch) { Delete(b.Messages[0].Object, Path{"context", "ip"}) },
			func(body map[string]any) {
				delete(body["context"].(map[string]any), "ip")
				for i := 1; i < 4; i++ {
					Set(segBatchMsg(body, i), Path{"context", "ip"}, "203.0.113.7")
				}
			}},
		{"hash a batch-level trait everywhere",
			func(b *Batch) {
				for _, m := range b.Messages {
					Set(m.Object, Path{"context", "traits", "email"}, "sha256:1f2e")
				}
			},
			func(body map[string]any) {
				delete(body["context"].(map[string]any), "traits")
				for i := 0; i < 4; i++ {
					Set(segBatchMsg(body, i), Path{"context", "traits", "email"}, "sha256:1f2e")
				}
			}},
		{"drop a batch-level trait everywhere: no empty objects left",
			func(b *Batch) {
				for _, m := range b.Messages {
					Delete(m.Object, Path{"context", "traits", "email"})
					Delete(m.Object, Path{"context", "device"})
				}
			},
			func(body map[string]any) {
				delete(body["context"].(map[string]any), "traits")
				delete(body["context"].(map[string]any), "device")
			}},
		{"all messages removed: no context sent",
			func(b *Batch) { b.Messages = nil },
			func(body map[string]any) {
				body["batch"] = []any{}
				delete(body, "context")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := segReq("/v1/batch", mpFixture(t, "segment/batch.json"))
			b, err := (Segment{}).Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			tt.policy(b)
			out, err := (Segment{}).Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mpJSON(t, out.Body), segWant(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("body:\n got %s\nwant %s", out.Body, mpCompact(t, mustMarshal(t, want)))
			}
		})
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	js, err := marshalPlainJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestSegmentEncodeSingle(t *testing.T) {
	in := segReq("/v1/identify", mpFixture(t, "segment/identify.json"))
	b, err := (Segment{}).Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	Delete(b.Messages[0].Object, Path{"traits", "address"})
	Delete(b.Messages[0].Object, Path{"context", "ip"})
	out, err := (Segment{}).Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	want := mpJSON(t, mpFixture(t, "segment/identify.json")).(map[string]any)
	delete(want["traits"].(map[string]any), "address")
	delete(want["context"].(map[string]any), "ip")
	if got := mpJSON(t, out.Body); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("body %s", out.Body)
	}

	// analytics.js: the writeKey in the body is kept.
	in = segReq("/v1/t", mpFixture(t, "segment/ajs_track.json"))
	if b, err = (Segment{}).Decode(in); err != nil {
		t.Fatal(err)
	}
	Delete(b.Messages[0].Object, Path{"properties", "email"})
	if out, err = (Segment{}).Encode(in, b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out.Body), "ada@example.com") || !strings.Contains(string(out.Body), `"writeKey":"wk_9f8e7d6c5b4a3928"`) {
		t.Errorf("body %s", out.Body)
	}

	// Nothing left: an empty object, and the proxy sees no messages.
	b.Messages = nil
	if out, err = (Segment{}).Encode(in, b); err != nil || string(out.Body) != "{}" {
		t.Errorf("empty single call: %s, %v", out.Body, err)
	}
}

// A message that overrides a batch-level context value: the batch value is
// sent at batch level only while every message carries it, so it is inlined
// in the others (same effective context, whichever of batch and message
// Segment lets win).
func TestSegmentBatchContextOverride(t *testing.T) {
	body := []byte(`{"batch":[
	  {"type":"track","event":"A","userId":"u1","messageId":"m1"},
	  {"type":"track","event":"B","userId":"u1","messageId":"m2","context":{"locale":"fr-FR"}},
	  {"type":"track","event":"C","userId":"u1","messageId":"m3","context":null}],
	 "context":{"locale":"en-GB","ip":"203.0.113.7"}}`)
	in := segReq("/v1/batch", body)
	b, err := (Segment{}).Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := String(b.Messages[1].Object, Path{"context", "locale"}); got != "fr-FR" {
		t.Errorf("message context must win in what the policy sees: %s", got)
	}
	out, err := (Segment{}).Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"batch":[{"context":{"locale":"en-GB"},"event":"A","messageId":"m1","type":"track","userId":"u1"},{"context":{"locale":"fr-FR"},"event":"B","messageId":"m2","type":"track","userId":"u1"},{"context":{"locale":"en-GB"},"event":"C","messageId":"m3","type":"track","userId":"u1"}],"context":{"ip":"203.0.113.7"}}`
	if string(out.Body) != want {
		t.Errorf("body\n got %s\nwant %s", out.Body, want)
	}
	// Without the overriding message, the batch context is whole again.
	b.Messages = []*Message{b.Messages[0], b.Messages[2]}
	if out, err = (Segment{}).Encode(in, b); err != nil {
		t.Fatal(err)
	}
	want = `{"batch":[{"event":"A","messageId":"m1","type":"track","userId":"u1"},{"event":"C","messageId":"m3","type":"track","userId":"u1"}],"context":{"ip":"203.0.113.7","locale":"en-GB"}}`
	if string(out.Body) != want {
		t.Errorf("body\n got %s\nwant %s", out.Body, want)
	}
}

func TestSegmentClientIP(t *testing.T) {
	tests := []struct {
		name, path, fixture string
		used                bool
	}{
		{"server identify with context.ip", "/v1/identify", "segment/identify.json", false},
		{"analytics.js track without ip", "/v1/t", "segment/ajs_track.json", true},
		{"analytics.js batch without ip", "/v1/b", "segment/ajs_batch.json", true},
		{"batch-level ip", "/v1/batch", "segment/batch.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := segReq(tt.path, mpFixture(t, tt.fixture))
			b, err := (Segment{}).Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			if b.ClientIPUsed != tt.used {
				t.Errorf("ClientIPUsed = %v", b.ClientIPUsed)
			}
			b.DropClientIP = true
			out, err := (Segment{}).Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			b2, err := (Segment{}).Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			if b2.ClientIPUsed {
				t.Error("ClientIPUsed after DropClientIP")
			}
			for i, m := range b2.Messages {
				want := String(b.Messages[i].Object, Path{"context", "ip"})
				if want == "" {
					want = "0.0.0.0"
				}
				if got := String(m.Object, Path{"context", "ip"}); got != want {
					t.Errorf("message %d: context.ip %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestSegmentDecodeErrors(t *testing.T) {
	tests := []struct {
		name, path, body string
		want             string
	}{
		{"truncated JSON", "/v1/track", `{"type":"track","event":"A","properties":{"a":`, "body: truncated JSON (unexpected end of input)"},
		{"invalid JSON", "/v1/track", `{"event":"A",}`, "body: invalid JSON at byte 13"},
		{"trailing garbage", "/v1/track", `{"event":"A"}}`, "trailing data after the JSON value at byte 13"},
		{"empty body", "/v1/t", ``, "body: no JSON value (empty)"},
		{"top-level number", "/v1/track", `42`, "body is a number, want an object"},
		{"top-level array", "/v1/batch", `[{"type":"track"}]`, "body is an array, want an object"},
		{"batch missing", "/v1/batch", `{"writeKey":"wk"}`, `batch body has no "batch" array`},
		{"batch not an array", "/v1/b", `{"batch":{"type":"track"}}`, `"batch" is an object, want an array`},
		{"message not an object", "/v1/batch", `{"batch":[{"type":"track","event":"A"},"x"]}`, "batch[1] is a string, not an object"},
		{"message without type", "/v1/batch", `{"batch":[{"type":"track"},{"event":"A"}]}`, "batch[1] has no type"},
		{"unknown type", "/v1/batch", `{"batch":[{"type":"t"}]}`, `batch[0] has type "t", want identify, track, page, screen, group or alias`},
		{"type not a string", "/v1/batch", `{"batch":[{"type":7}]}`, `batch[0] has type a number`},
		{"batch-level context not an object", "/v1/batch", `{"batch":[],"context":"x"}`, "batch-level context is a string, not an object"},
		{"properties not an object", "/v1/track", `{"event":"A","properties":"x"}`, "body: properties is a string, not an object"},
		{"traits not an object", "/v1/batch", `{"batch":[{"type":"identify","traits":[1]}]}`, "batch[0]: traits is an array, not an object"},
		{"context.page not an object", "/v1/p", `{"context":{"page":"/x"}}`, "body: context.page is a string, not an object"},
		{"batch-level context.traits not an object", "/v1/batch", `{"batch":[{"type":"track"}],"context":{"traits":"x"}}`, "batch[0]: context.traits is a string, not an object"},
		{"batch on a single-call endpoint", "/v1/track", `{"batch":[{"type":"track"}]}`, "the track endpoint got a body with a batch array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (Segment{}).Decode(segReq(tt.path, []byte(tt.body)))
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
	if _, err := (Segment{}).Decode(segReq("/v1/projects/wk/settings", []byte(`{}`))); err == nil {
		t.Error("decoded a pass-through path")
	}
	if _, err := (Segment{}).Encode(segReq("/v1/track", nil), &Batch{State: &mpState{}}); err == nil {
		t.Error("encoded another adapter's batch")
	}
}

func FuzzSegmentDecode(f *testing.F) {
	for _, s := range []struct{ path, fixture string }{
		{"/v1/identify", "segment/identify.json"},
		{"/v1/track", "segment/track.json"},
		{"/v1/page", "segment/page.json"},
		{"/v1/batch", "segment/batch.json"},
		{"/v1/t", "segment/ajs_track.json"},
		{"/b", "segment/ajs_batch.json"},
	} {
		f.Add(s.path, mpFixture(f, s.fixture))
	}
	f.Add("/v1/batch", []byte(`{"batch":[{"type":"track","context":{"a":{"b":1}}},{"type":"alias","context":null}],"context":{"a":{"b":1,"c":[]},"d":{}}}`))
	f.Add("/v1/b", []byte(`{"batch":[{"type":"page","context":{"ip":null}}],"context":{"ip":null,"x":{}}}`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		in := segReq(path, body)
		b, err := (Segment{}).Decode(in)
		if err != nil {
			if (Segment{}).Route("POST", path) == RouteData && !errors.Is(err, ErrParse) {
				t.Fatalf("data endpoint error does not wrap ErrParse: %v", err)
			}
			return
		}
		out, err := (Segment{}).Encode(in, b)
		if err != nil {
			t.Fatalf("Encode after a successful Decode: %v", err)
		}
		b2, err := (Segment{}).Decode(out)
		if err != nil {
			t.Fatalf("Decode of Encode's output: %v\n%s", err, out.Body)
		}
		if len(b2.Messages) != len(b.Messages) {
			t.Fatalf("%d messages became %d", len(b.Messages), len(b2.Messages))
		}
		// Each message's effective content survives the round trip,
		// batch-level context included.
		for i := range b.Messages {
			if !reflect.DeepEqual(b.Messages[i].Object, b2.Messages[i].Object) {
				t.Fatalf("message %d changed:\n%s\n%v\n%v", i, out.Body, b.Messages[i].Object, b2.Messages[i].Object)
			}
		}
		b.DropClientIP = true
		if out, err = (Segment{}).Encode(in, b); err != nil {
			t.Fatal(err)
		}
		if b3, err := (Segment{}).Decode(out); err != nil || b3.ClientIPUsed {
			t.Fatalf("after DropClientIP: %v, %s", err, out.Body)
		}
	})
}

// Requests built without Query or Header maps still decode and encode.
func TestSegmentMixpanelNilMaps(t *testing.T) {
	mp := &Request{Method: "POST", Path: "/track", Body: []byte("data=W3siZXZlbnQiOiJhIn1d")}
	b, err := (Mixpanel{}).Decode(mp)
	if err != nil {
		t.Fatal(err)
	}
	b.DropClientIP = true
	out, err := (Mixpanel{}).Encode(mp, b)
	if err != nil || out.Query.Get("ip") != "0" || out.Header.Get("Content-Length") == "" {
		t.Fatalf("mixpanel: %v %v %v", err, out.Query, out.Header)
	}
	seg := &Request{Method: "POST", Path: "/v1/t", Body: []byte(`{"event":"a"}`)}
	if b, err = (Segment{}).Decode(seg); err != nil {
		t.Fatal(err)
	}
	if out, err = (Segment{}).Encode(seg, b); err != nil || out.Header.Get("Content-Length") == "" {
		t.Fatalf("segment: %v", err)
	}
}
