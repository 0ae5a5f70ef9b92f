package adapter

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Helpers shared by the amplitude, ga4 and generic tests (prefix awg).

// awgRead reads a file under testdata.
func awgRead(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// awgMsg is what a test states about a message.
type awgMsg struct {
	Kind    Kind
	Name    string
	Subject string // "path=value", "" when nil
	Dedup   string // path, "" when nil
	Props   []string
	Fields  []string
}

func awgSummary(m *Message) awgMsg {
	s := awgMsg{Kind: m.Kind, Name: m.Name, Dedup: m.Dedup.String()}
	if m.Subject != nil {
		s.Subject = m.Subject.String() + "=" + String(m.Object, m.Subject)
	}
	for _, p := range m.Props {
		s.Props = append(s.Props, p.String())
	}
	for _, p := range m.Fields {
		s.Fields = append(s.Fields, p.String())
	}
	return s
}

// awgCheckMessages compares the batch's messages with want, one by one.
func awgCheckMessages(t *testing.T, b *Batch, want []awgMsg) {
	t.Helper()
	if len(b.Messages) != len(want) {
		var got []awgMsg
		for _, m := range b.Messages {
			got = append(got, awgSummary(m))
		}
		t.Fatalf("got %d messages, want %d:\n%+v", len(b.Messages), len(want), got)
	}
	for i, m := range b.Messages {
		if got := awgSummary(m); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

// awgDecodeJSON decodes b keeping numbers exact.
func awgDecodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := DecodeJSON(b, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

// awgSameJSON fails unless got and want hold the same JSON value.
func awgSameJSON(t testing.TB, got []byte, want any) {
	t.Helper()
	if w, ok := want.([]byte); ok {
		want = awgDecodeJSON(t, w)
	}
	if g := awgDecodeJSON(t, got); !reflect.DeepEqual(g, want) {
		wb, _ := json.MarshalIndent(want, "", "  ")
		gb, _ := json.MarshalIndent(g, "", "  ")
		t.Errorf("JSON differs:\n got %s\nwant %s", gb, wb)
	}
}

// awgParseErr checks that err wraps ErrParse and says what it should.
func awgParseErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("no error, want one about %q", want)
	case !errors.Is(err, ErrParse):
		t.Errorf("error %q does not wrap ErrParse", err)
	case !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not say %q", err, want)
	}
}

// Generic configurations of the fixtures.
var (
	genPostHog = GenericConfig{
		Paths:       []string{"/batch", "/e/"},
		PassThrough: []string{"/decide", "/flags"},
		Messages:    "batch",
		Name:        "event",
		Props:       []string{"properties", "properties.$set", "properties.$set_once"},
		Fields:      []string{"distinct_id", "properties.$ip", "properties.$current_url", "properties.$anon_distinct_id"},
		Subject:     "distinct_id",
		Dedup:       "uuid",
	}
	genSegment = GenericConfig{
		Paths:    []string{"/v1/track"},
		Name:     "event",
		Props:    []string{"properties", "context.traits"},
		Fields:   []string{"userId", "anonymousId", "context.ip", "context.userAgent", "context.page.url"},
		Subject:  "userId",
		Dedup:    "messageId",
		Messages: "",
	}
	genProfiles = GenericConfig{
		Paths:    []string{"/ingest/"},
		Messages: "$",
		Kind:     "profile",
		Name:     "type",
		Props:    []string{"data"},
		Fields:   []string{"user.id", "user.email", "ip"},
		Subject:  "user.id",
		Dedup:    "request_id",
	}
	genNested = GenericConfig{
		Paths:    []string{"/collect"},
		Messages: "payload.events",
		Name:     "name",
		Props:    []string{"props"},
		Fields:   []string{"visitor.id", "visitor.email"},
		Subject:  "visitor.id",
	}
)

func TestNewGenericValidation(t *testing.T) {
	tests := []struct {
		name string
		c    GenericConfig
		want string // "" = valid
	}{
		{"posthog", genPostHog, ""},
		{"segment", genSegment, ""},
		{"profiles", genProfiles, ""},
		{"nested", genNested, ""},
		{"no paths", GenericConfig{Messages: "$"}, "at least one request path"},
		{"relative path", GenericConfig{Paths: []string{"v1/track"}}, `"v1/track" does not start with /`},
		{"dot-dot path", GenericConfig{Paths: []string{"/v1/../admin"}}, "not a clean path"},
		{"double slash", GenericConfig{Paths: []string{"/v1//track"}}, "not a clean path"},
		{"same path twice", GenericConfig{Paths: []string{"/v1"}, PassThrough: []string{"/v1"}}, `"/v1" is already in paths`},
		{"bad kind", GenericConfig{Paths: []string{"/v1"}, Kind: "person"}, `kind: "person" is not one of`},
		{"empty messages segment", GenericConfig{Paths: []string{"/v1"}, Messages: "data..events"}, `messages: "data..events" has an empty segment`},
		{"empty prop", GenericConfig{Paths: []string{"/v1"}, Props: []string{""}}, "props[0]: empty path"},
		{"bad field", GenericConfig{Paths: []string{"/v1"}, Fields: []string{"user."}}, `fields[0]: "user." has an empty segment`},
		{"bad subject", GenericConfig{Paths: []string{"/v1"}, Subject: ".id"}, `subject: ".id" has an empty segment`},
		{"kind alias", GenericConfig{Paths: []string{"/v1"}, Kind: "alias"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGeneric(tt.c)
			if tt.want == "" {
				if err != nil || g == nil {
					t.Fatalf("NewGeneric: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	_, err := NewGeneric(GenericConfig{Kind: "x", Props: []string{""}})
	if err == nil || !strings.Contains(err.Error(), "at least one") || !strings.Contains(err.Error(), "kind") || !strings.Contains(err.Error(), "props[0]") {
		t.Errorf("error %v does not list every problem", err)
	}
}

func TestGenericRoute(t *testing.T) {
	g, err := NewGeneric(GenericConfig{
		Paths:       []string{"/batch", "/e/", "/api"},
		PassThrough: []string{"/decide", "/api/config"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		want         Route
	}{
		{"POST", "/batch", RouteData},
		{"POST", "/batch/", RouteData},
		{"PUT", "/batch/2024", RouteData},
		{"PATCH", "/batch", RouteData},
		{"GET", "/batch", RouteReject},
		{"DELETE", "/batch", RouteReject},
		{"OPTIONS", "/batch", RoutePassThrough},
		{"POST", "/batchx", RouteReject},
		{"POST", "/e/", RouteData},
		{"POST", "/e/v2", RouteData},
		{"POST", "/e", RouteReject},
		{"GET", "/decide", RoutePassThrough},
		{"POST", "/decide/v3", RoutePassThrough},
		{"POST", "/api/track", RouteData},
		{"POST", "/api/config", RoutePassThrough}, // longer prefix wins
		{"GET", "/api/config/flags", RoutePassThrough},
		{"POST", "/", RouteReject},
		{"POST", "/admin", RouteReject},
		{"POST", "/batch/../admin", RouteReject},
		{"POST", "/batch//x", RouteReject},
		{"POST", "/batch/./x", RouteReject},
		{"POST", "batch", RouteReject},
		{"POST", "", RouteReject},
	}
	for _, tt := range tests {
		if got := g.Route(tt.method, tt.path); got != tt.want {
			t.Errorf("Route(%s %q) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	// A tie between a data path and a pass-through path goes to data.
	tie := Generic{Config: GenericConfig{Paths: []string{"/v1/"}, PassThrough: []string{"/v1"}}}
	if got := tie.Route("POST", "/v1/track"); got != RouteData {
		t.Errorf("tie: Route = %v, want RouteData", got)
	}
}

func TestGenericDecode(t *testing.T) {
	tests := []struct {
		name    string
		c       GenericConfig
		fixture string
		want    []awgMsg
	}{
		{"posthog envelope", genPostHog, "generic/posthog_batch.json", []awgMsg{
			{Kind: KindEvent, Name: "$pageview", Subject: "distinct_id=u_123456", Dedup: "uuid",
				Props:  []string{"properties"},
				Fields: []string{"distinct_id", "properties.$ip", "properties.$current_url"}},
			{Kind: KindEvent, Name: "$identify", Subject: "distinct_id=u_123456", Dedup: "uuid",
				Props:  []string{"properties", "properties.$set", "properties.$set_once"},
				Fields: []string{"distinct_id", "properties.$anon_distinct_id"}},
			{Kind: KindEvent, Name: "invoice_downloaded", Subject: "distinct_id=0193665a-aaaa-7bbb-8ccc-dddddddddddd", Dedup: "uuid",
				Props:  []string{"properties"},
				Fields: []string{"distinct_id"}},
		}},
		{"segment single", genSegment, "generic/segment_track.json", []awgMsg{
			{Kind: KindEvent, Name: "Order Completed", Subject: "userId=u_123456", Dedup: "messageId",
				Props:  []string{"properties", "context.traits"},
				Fields: []string{"userId", "anonymousId", "context.ip", "context.userAgent", "context.page.url"}},
		}},
		{"profiles array", genProfiles, "generic/profiles_array.json", []awgMsg{
			{Kind: KindProfile, Name: "upsert", Subject: "user.id=u_123456", Dedup: "request_id",
				Props: []string{"data"}, Fields: []string{"user.id", "user.email", "ip"}},
			{Kind: KindProfile, Name: "upsert", Subject: "user.id=u_777", Dedup: "request_id",
				Props: []string{"data"}, Fields: []string{"user.id", "user.email"}},
			{Kind: KindProfile, Name: "delete", Dedup: "request_id",
				Fields: []string{"user.email"}},
		}},
		{"nested envelope", genNested, "generic/nested_envelope.json", []awgMsg{
			{Kind: KindEvent, Name: "add_to_cart", Subject: "visitor.id=v_91",
				Props: []string{"props"}, Fields: []string{"visitor.id", "visitor.email"}},
			{Kind: KindEvent, Name: "checkout", Subject: "visitor.id=v_91",
				Props: []string{"props"}, Fields: []string{"visitor.id"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := NewGeneric(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			b, err := g.Decode(&Request{Method: "POST", Path: tt.c.Paths[0], Body: awgRead(t, tt.fixture)})
			if err != nil {
				t.Fatal(err)
			}
			if b.ClientIPUsed {
				t.Error("ClientIPUsed: the generic adapter knows no client IP switch")
			}
			awgCheckMessages(t, b, tt.want)
		})
	}
}

func TestGenericRoundTrip(t *testing.T) {
	tests := []struct {
		c       GenericConfig
		fixture string
	}{
		{genPostHog, "generic/posthog_batch.json"},
		{genSegment, "generic/segment_track.json"},
		{genProfiles, "generic/profiles_array.json"},
		{genNested, "generic/nested_envelope.json"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			g := Generic{Config: tt.c}
			body := awgRead(t, tt.fixture)
			in := &Request{Method: "POST", Path: tt.c.Paths[0], Query: map[string][]string{"v": {"2"}},
				Header: map[string][]string{"Content-Type": {"application/json"}, "Content-Length": {"999"}}, Body: body}
			b, err := g.Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := g.Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			awgSameJSON(t, out.Body, body)
			if out.Method != "POST" || out.Path != in.Path || out.Query.Get("v") != "2" ||
				out.Header.Get("Content-Type") != "application/json" || out.Header.Get("Content-Length") != "" {
				t.Errorf("envelope not kept: %+v", out)
			}
			// HTML-sensitive characters are not escaped.
			if strings.Contains(string(out.Body), `\u0026`) {
				t.Errorf("body escapes &: %s", out.Body)
			}
		})
	}
}

func TestGenericEdit(t *testing.T) {
	t.Run("envelope", func(t *testing.T) {
		g := Generic{Config: genPostHog}
		in := &Request{Method: "POST", Path: "/batch", Body: awgRead(t, "generic/posthog_batch.json")}
		b, err := g.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		Delete(b.Messages[0].Object, Path{"properties", "$ip"})
		Set(b.Messages[1].Object, Path{"properties", "$set", "email"}, "sha256:1f2e")
		b.Messages = []*Message{b.Messages[0], b.Messages[1]} // drop the third
		out, err := g.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		want := awgDecodeJSON(t, awgRead(t, "generic/posthog_batch.json")).(map[string]any)
		batch := want["batch"].([]any)
		delete(batch[0].(map[string]any)["properties"].(map[string]any), "$ip")
		batch[1].(map[string]any)["properties"].(map[string]any)["$set"].(map[string]any)["email"] = "sha256:1f2e"
		want["batch"] = batch[:2]
		awgSameJSON(t, out.Body, want)
	})
	t.Run("nested envelope leaves the decoded body alone", func(t *testing.T) {
		g := Generic{Config: genNested}
		in := &Request{Method: "POST", Path: "/collect", Body: awgRead(t, "generic/nested_envelope.json")}
		b, err := g.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		Delete(b.Messages[0].Object, Path{"visitor", "email"})
		b.Messages = b.Messages[:1]
		out, err := g.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		want := awgDecodeJSON(t, awgRead(t, "generic/nested_envelope.json")).(map[string]any)
		payload := want["payload"].(map[string]any)
		events := payload["events"].([]any)
		delete(events[0].(map[string]any)["visitor"].(map[string]any), "email")
		payload["events"] = events[:1]
		awgSameJSON(t, out.Body, want)
		// Encoding twice gives the same body.
		again, err := g.Encode(in, b)
		if err != nil || string(again.Body) != string(out.Body) {
			t.Errorf("second Encode differs: %v\n%s\n%s", err, again.Body, out.Body)
		}
	})
	t.Run("array", func(t *testing.T) {
		g := Generic{Config: genProfiles}
		in := &Request{Method: "POST", Path: "/ingest/", Body: awgRead(t, "generic/profiles_array.json")}
		b, err := g.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		Delete(b.Messages[1].Object, Path{"data", "plan"})
		Delete(b.Messages[1].Object, Path{"user", "email"})
		b.Messages = b.Messages[1:]
		out, err := g.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		awgSameJSON(t, out.Body, []byte(`[
			{"type": "upsert", "user": {"id": "u_777"}, "data": {}, "request_id": "req-0002"},
			{"type": "delete", "user": {"email": "grace@example.com"}, "request_id": "req-0003"}]`))
		b.Messages = nil
		if out, err = g.Encode(in, b); err != nil || string(out.Body) != "[]" {
			t.Errorf("no message left: %s, %v", out.Body, err)
		}
	})
	t.Run("single", func(t *testing.T) {
		g := Generic{Config: genSegment}
		in := &Request{Method: "POST", Path: "/v1/track", Body: awgRead(t, "generic/segment_track.json")}
		b, err := g.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		Delete(b.Messages[0].Object, Path{"context", "ip"})
		Delete(b.Messages[0].Object, Path{"context", "traits", "email"})
		out, err := g.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		want := awgDecodeJSON(t, awgRead(t, "generic/segment_track.json")).(map[string]any)
		ctx := want["context"].(map[string]any)
		delete(ctx, "ip")
		delete(ctx["traits"].(map[string]any), "email")
		awgSameJSON(t, out.Body, want)
		b.Messages = nil
		if _, err := g.Encode(in, b); err == nil || !strings.Contains(err.Error(), "nothing to forward") {
			t.Errorf("single message removed: error %v", err)
		}
	})
}

func TestGenericMalformed(t *testing.T) {
	tests := []struct {
		name string
		c    GenericConfig
		body string
		want string
	}{
		{"truncated", genPostHog, `{"batch": [{"event": "x"`, "the body is not JSON"},
		{"empty", genSegment, ``, "the body is not JSON"},
		{"trailing data", genSegment, `{"event": "x"} {"event": "y"}`, "trailing data"},
		{"single is array", genSegment, `[{"event": "x"}]`, "the body is an array, not a JSON object"},
		{"envelope is array", genPostHog, `[]`, "the body is an array, not a JSON object"},
		{"no messages", genPostHog, `{"api_key": "k"}`, `the body has no "batch" array of messages`},
		{"messages not array", genPostHog, `{"batch": {"event": "x"}}`, `"batch" is an object, not an array`},
		{"message not object", genPostHog, `{"batch": [{"event": "x"}, "y"]}`, `element 1 of "batch" is a string, not an object`},
		{"body not array", genProfiles, `{"type": "upsert"}`, "the body is an object, not an array"},
		{"element not object", genProfiles, `[{"type": "upsert"}, 7]`, "element 1 of the body is a number, not an object"},
		{"prop not object", genProfiles, `[{"type": "upsert"}, {"data": "plan=pro"}]`, "message 1: data is a string, not an object"},
		{"nested prop not object", genPostHog, `{"batch": [{"properties": {"$set": ["email"]}}]}`, "message 0: properties.$set is an array, not an object"},
		{"path through a non-object", genNested, `{"payload": "events"}`, `the body has no "payload.events" array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Generic{Config: tt.c}.Decode(&Request{Method: "POST", Path: tt.c.Paths[0], Body: []byte(tt.body)})
			awgParseErr(t, err, tt.want)
		})
	}
	// A configuration error is not a parse error.
	_, err := Generic{}.Decode(&Request{Body: []byte(`{}`)})
	if err == nil || errors.Is(err, ErrParse) {
		t.Errorf("invalid configuration: error %v", err)
	}
}

var genFuzzConfigs = []GenericConfig{genPostHog, genSegment, genProfiles, genNested}

func FuzzGenericDecode(f *testing.F) {
	for i, fx := range []string{"generic/posthog_batch.json", "generic/segment_track.json", "generic/profiles_array.json", "generic/nested_envelope.json"} {
		f.Add(uint8(i), awgRead(f, fx))
	}
	f.Add(uint8(0), []byte(`{"batch": [{"properties": null, "distinct_id": 5}]}`))
	f.Add(uint8(2), []byte(`[{"data": {"a": [1, {"b": 2}]}, "user": {"id": 1e400}}]`))
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		c := genFuzzConfigs[int(sel)%len(genFuzzConfigs)]
		g := Generic{Config: c}
		in := &Request{Method: "POST", Path: c.Paths[0], Body: body}
		b, err := g.Decode(in)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("Decode error does not wrap ErrParse: %v", err)
			}
			return
		}
		out, err := g.Encode(in, b)
		if err != nil {
			t.Fatalf("Encode after a successful Decode: %v", err)
		}
		b2, err := g.Decode(out)
		if err != nil {
			t.Fatalf("re-Decode of %q: %v", out.Body, err)
		}
		if len(b2.Messages) != len(b.Messages) {
			t.Fatalf("re-Decode gives %d messages, Decode gave %d", len(b2.Messages), len(b.Messages))
		}
	})
}
