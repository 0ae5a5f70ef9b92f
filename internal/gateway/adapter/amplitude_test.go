package adapter

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestAmplitudeRoute(t *testing.T) {
	tests := []struct {
		method, path string
		want         Route
	}{
		{"POST", "/2/httpapi", RouteData},
		{"POST", "/batch", RouteData},
		{"POST", "/identify", RouteData},
		{"OPTIONS", "/2/httpapi", RoutePassThrough},
		{"OPTIONS", "/identify", RoutePassThrough},
		{"GET", "/2/httpapi", RouteReject},
		{"PUT", "/batch", RouteReject},
		{"GET", "/identify", RouteReject},
		{"POST", "/2/httpapi/", RouteReject},
		{"POST", "/httpapi", RouteReject},
		{"POST", "/groupidentify", RouteReject},
		{"POST", "/usersearch", RouteReject},
		{"GET", "/api/2/export", RouteReject},
		{"POST", "/2/httpapi/../../admin", RouteReject},
		{"POST", "/", RouteReject},
		{"OPTIONS", "/other", RouteReject},
	}
	for _, tt := range tests {
		if got := (Amplitude{}).Route(tt.method, tt.path); got != tt.want {
			t.Errorf("Route(%s %q) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	if (Amplitude{}).Name() != "amplitude" {
		t.Error("Name")
	}
}

// ampRequest is a request for a fixture, with the path its name implies.
func ampRequest(t testing.TB, fixture string) *Request {
	t.Helper()
	r := &Request{Method: "POST", Path: "/2/httpapi", Body: awgRead(t, fixture),
		Header: map[string][]string{"Content-Type": {"application/json"}}}
	switch {
	case strings.HasPrefix(fixture, "amplitude/batch"):
		r.Path = "/batch"
	case strings.HasSuffix(fixture, ".form"):
		r.Path = "/identify"
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

func TestAmplitudeDecode(t *testing.T) {
	browserFields := []string{"user_id", "device_id", "ip", "language", "platform", "os_name", "os_version", "device_model"}
	tests := []struct {
		fixture  string
		clientIP bool
		want     []awgMsg
	}{
		{"amplitude/httpapi_browser.json", true, []awgMsg{
			{Kind: KindEvent, Name: "[Amplitude] Page Viewed", Subject: "user_id=u_123456", Dedup: "insert_id",
				Props: []string{"event_properties"}, Fields: browserFields},
			{Kind: KindEvent, Name: "Plan Upgraded", Subject: "user_id=u_123456", Dedup: "insert_id",
				Props: []string{"event_properties"}, Fields: browserFields},
			{Kind: KindProfile, Name: "$identify", Subject: "user_id=u_123456", Dedup: "insert_id",
				Props:  []string{"user_properties.$set", "user_properties.$setOnce", "user_properties.$add"},
				Fields: []string{"user_id", "device_id", "ip", "language", "platform"}},
		}},
		{"amplitude/batch_server.json", true, []awgMsg{
			{Kind: KindEvent, Name: "Invoice Paid", Subject: "user_id=u_123456", Dedup: "insert_id",
				Props: []string{"event_properties", "user_properties", "user_properties.$set"},
				Fields: []string{"user_id", "device_id", "ip", "city", "region", "country", "language", "platform",
					"os_name", "os_version", "device_model", "location_lat", "location_lng"}},
			{Kind: KindEvent, Name: "Pricing Viewed", Dedup: "insert_id",
				Props: []string{"event_properties"},
				Fields: []string{"device_id", "platform", "os_name", "os_version", "device_brand",
					"device_manufacturer", "device_model", "carrier", "idfa", "idfv"}},
			{Kind: KindGroup, Name: "$groupidentify", Subject: "user_id=u_123456", Dedup: "insert_id",
				Props: []string{"group_properties.$set"}, Fields: []string{"user_id"}},
			{Kind: KindEvent, Name: "Report Exported", Subject: "user_id=svc-export", Dedup: "insert_id",
				Fields: []string{"user_id", "device_id", "ip", "adid", "android_id"}},
		}},
		{"amplitude/identify_array.form", false, []awgMsg{
			{Kind: KindProfile, Name: "identify", Subject: "user_id=u_123456",
				Props:  []string{"user_properties.$set", "user_properties.$setOnce", "user_properties.$unset"},
				Fields: []string{"user_id", "device_id", "city", "region", "country", "dma", "language", "platform"}},
			{Kind: KindProfile, Name: "identify",
				Props: []string{"user_properties"}, Fields: []string{"device_id"}},
		}},
		{"amplitude/identify_object.form", false, []awgMsg{
			{Kind: KindProfile, Name: "identify", Subject: "user_id=u_123456",
				Props:  []string{"user_properties.$set"},
				Fields: []string{"user_id", "os_name", "os_version", "device_brand", "device_model", "carrier"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			b, err := Amplitude{}.Decode(ampRequest(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if b.ClientIPUsed != tt.clientIP {
				t.Errorf("ClientIPUsed = %v, want %v", b.ClientIPUsed, tt.clientIP)
			}
			awgCheckMessages(t, b, tt.want)
		})
	}
}

// ampFormParts splits a form body into its keys, in order, and its
// identification decoded.
func ampFormParts(t *testing.T, body []byte) ([]string, any, url.Values) {
	t.Helper()
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("form %q: %v", body, err)
	}
	var keys []string
	for _, kv := range strings.Split(string(body), "&") {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	return keys, awgDecodeJSON(t, []byte(vals.Get("identification"))), vals
}

func TestAmplitudeRoundTrip(t *testing.T) {
	for _, fixture := range []string{
		"amplitude/httpapi_browser.json", "amplitude/batch_server.json",
		"amplitude/identify_array.form", "amplitude/identify_object.form",
	} {
		t.Run(fixture, func(t *testing.T) {
			in := ampRequest(t, fixture)
			in.Query = url.Values{"debug": {"1"}}
			b, err := Amplitude{}.Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Amplitude{}.Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			if out.Path != in.Path || out.Method != "POST" || out.Query.Get("debug") != "1" ||
				out.Header.Get("Content-Type") != in.Header.Get("Content-Type") {
				t.Errorf("envelope changed: %+v", out)
			}
			if !strings.HasSuffix(fixture, ".form") {
				awgSameJSON(t, out.Body, in.Body)
				return
			}
			// Same fields in the same order, the unchanged ones byte for
			// byte, and the same identification.
			gotKeys, gotIdent, gotVals := ampFormParts(t, out.Body)
			wantKeys, wantIdent, wantVals := ampFormParts(t, in.Body)
			if !reflect.DeepEqual(gotKeys, wantKeys) {
				t.Errorf("form keys %v, want %v", gotKeys, wantKeys)
			}
			if gotVals.Get("api_key") != wantVals.Get("api_key") {
				t.Errorf("api_key %q, want %q", gotVals.Get("api_key"), wantVals.Get("api_key"))
			}
			if !reflect.DeepEqual(gotIdent, wantIdent) {
				t.Errorf("identification\n got %v\nwant %v", gotIdent, wantIdent)
			}
		})
	}
}

func TestAmplitudeEdit(t *testing.T) {
	t.Run("events", func(t *testing.T) {
		in := ampRequest(t, "amplitude/batch_server.json")
		b, err := Amplitude{}.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		first := b.Messages[0].Object
		Delete(first, Path{"user_properties", "email"})                      // a property
		Delete(first, Path{"ip"})                                            // a field
		Set(first, Path{"user_id"}, "sha256:8f3a")                           // a hashed subject
		b.Messages = []*Message{b.Messages[0], b.Messages[1], b.Messages[3]} // the $groupidentify is dropped
		out, err := Amplitude{}.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		want := awgDecodeJSON(t, in.Body).(map[string]any)
		events := want["events"].([]any)
		ev := events[0].(map[string]any)
		delete(ev["user_properties"].(map[string]any), "email")
		delete(ev, "ip")
		ev["user_id"] = "sha256:8f3a"
		want["events"] = []any{events[0], events[1], events[3]}
		awgSameJSON(t, out.Body, want)
	})
	t.Run("identify array to one", func(t *testing.T) {
		in := ampRequest(t, "amplitude/identify_array.form")
		b, err := Amplitude{}.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		Delete(b.Messages[0].Object, Path{"user_properties", "$set", "phone"})
		Delete(b.Messages[0].Object, Path{"city"})
		b.Messages = b.Messages[:1]
		out, err := Amplitude{}.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		keys, ident, vals := ampFormParts(t, out.Body)
		if !reflect.DeepEqual(keys, []string{"api_key", "identification"}) || vals.Get("api_key") != "0f3c1a9b7d2e4f60a1b2c3d4e5f60718" {
			t.Errorf("form %s", out.Body)
		}
		_, orig, _ := ampFormParts(t, in.Body)
		want := orig.([]any)[:1]
		id := want[0].(map[string]any)
		delete(id["user_properties"].(map[string]any)["$set"].(map[string]any), "phone")
		delete(id, "city")
		if !reflect.DeepEqual(ident, want) {
			t.Errorf("identification\n got %v\nwant %v", ident, want)
		}
	})
	t.Run("identify object removed", func(t *testing.T) {
		in := ampRequest(t, "amplitude/identify_object.form")
		b, err := Amplitude{}.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		b.Messages = nil
		out, err := Amplitude{}.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		want := "identification=%5B%5D&api_key=0f3c1a9b7d2e4f60a1b2c3d4e5f60718"
		if string(out.Body) != want {
			t.Errorf("body %s, want %s", out.Body, want)
		}
	})
}

func TestAmplitudeClientIP(t *testing.T) {
	body := `{"api_key":"k","events":[
		{"event_type":"a","device_id":"d_12345","ip":"$remote","insert_id":"1"},
		{"event_type":"b","device_id":"d_12345","ip":"198.51.100.4","insert_id":"2"},
		{"event_type":"c","device_id":"d_12345","insert_id":"3"}]}`
	in := &Request{Method: "POST", Path: "/2/httpapi", Body: []byte(body)}
	b, err := Amplitude{}.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if !b.ClientIPUsed {
		t.Fatal(`ClientIPUsed is false with ip "$remote"`)
	}
	b.DropClientIP = true
	out, err := Amplitude{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	// "$remote" goes (as the SDK's ipAddress: false does), an explicit
	// address is a field for the policy, an absent ip stays absent.
	awgSameJSON(t, out.Body, []byte(`{"api_key":"k","events":[
		{"event_type":"a","device_id":"d_12345","insert_id":"1"},
		{"event_type":"b","device_id":"d_12345","ip":"198.51.100.4","insert_id":"2"},
		{"event_type":"c","device_id":"d_12345","insert_id":"3"}]}`))
	if _, ok := b.Messages[0].Object["ip"]; !ok {
		t.Error("Encode changed the policy's message object")
	}
	again, err := Amplitude{}.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if again.ClientIPUsed {
		t.Error("ClientIPUsed after DropClientIP")
	}
	// Without "$remote" Amplitude does not use the request's IP.
	b, err = Amplitude{}.Decode(&Request{Method: "POST", Path: "/batch", Body: []byte(`{"events":[{"event_type":"x","ip":"203.0.113.9"},{"event_type":"y"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if b.ClientIPUsed {
		t.Error("ClientIPUsed without $remote")
	}
}

func TestAmplitudeMalformed(t *testing.T) {
	form := func(ident string) string { return "api_key=k&identification=" + url.QueryEscape(ident) }
	tests := []struct {
		name, path, body string
		query            url.Values
		want             string
	}{
		{name: "truncated JSON", path: "/2/httpapi", body: `{"api_key":"k","events":[{"event_type":"a"`, want: "the body is not JSON"},
		{name: "empty body", path: "/2/httpapi", body: ``, want: "the body is not JSON"},
		{name: "two JSON values", path: "/batch", body: `{"events":[]} {"events":[]}`, want: "trailing data"},
		{name: "body is an array", path: "/2/httpapi", body: `[{"event_type":"a"}]`, want: "the body is an array, not a JSON object"},
		{name: "no events", path: "/2/httpapi", body: `{"api_key":"k","event":[]}`, want: `the body has no "events" array`},
		{name: "events not an array", path: "/batch", body: `{"api_key":"k","events":{"event_type":"a"}}`, want: `"events" is an object, not an array`},
		{name: "event not an object", path: "/2/httpapi", body: `{"events":[{"event_type":"a"},"b"]}`, want: `element 1 of "events" is a string, not an object`},
		{name: "event_properties not an object", path: "/2/httpapi", body: `{"events":[{"event_type":"a","event_properties":"email=ada@example.com"}]}`, want: "events[0]: event_properties is a string, not an object"},
		{name: "$set not an object", path: "/2/httpapi", body: `{"events":[{},{"user_properties":{"$set":["email"]}}]}`, want: "events[1]: user_properties.$set is an array, not an object"},
		{name: "identification not JSON", path: "/identify", body: form(`{"user_id":`), want: "identification is not JSON"},
		{name: "identification a string", path: "/identify", body: form(`"u_123456"`), want: "identification is a string, not a JSON object or array"},
		{name: "identification element", path: "/identify", body: form(`[{"user_id":"u_1"},[1]]`), want: "element 1 of identification is an array, not an object"},
		{name: "identification user_properties", path: "/identify", body: form(`{"user_properties":7}`), want: "identification[0]: user_properties is a number, not an object"},
		{name: "no identification", path: "/identify", body: "api_key=k", want: "has no identification field"},
		{name: "two identifications", path: "/identify", body: form(`{}`) + "&identification=%7B%7D", want: "more than one identification"},
		{name: "bad escape", path: "/identify", body: "api_key=k&identification=%7B%zz", want: `value of "identification": invalid URL escape "%zz"`},
		{name: "bad escape in key", path: "/identify", body: "api%_key=k&identification=%7B%7D", want: `key "api%_key": invalid URL escape`},
		{name: "semicolon", path: "/identify", body: "api_key=k;identification=%7B%7D", want: "raw semicolon"},
		{name: "JSON body on identify", path: "/identify", body: `{"api_key":"k","identification":[]}`, want: "has no identification field"},
		{name: "identification in the URL", path: "/identify", body: form(`{}`), query: url.Values{"identification": {`{"user_id":"x"}`}}, want: "identification in the URL query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Amplitude{}.Decode(&Request{Method: "POST", Path: tt.path, Query: tt.query, Body: []byte(tt.body)})
			awgParseErr(t, err, tt.want)
		})
	}
	if _, err := (Amplitude{}).Decode(&Request{Method: "POST", Path: "/groupidentify", Body: []byte(`{}`)}); err == nil || errors.Is(err, ErrParse) {
		t.Errorf("a path that is not data: error %v", err)
	}
	if _, err := (Amplitude{}).Encode(&Request{}, &Batch{}); err == nil {
		t.Error("Encode of a batch Amplitude did not decode: no error")
	}
}

var ampFuzzPaths = []string{"/2/httpapi", "/batch", "/identify"}

func FuzzAmplitudeDecode(f *testing.F) {
	f.Add(uint8(0), awgRead(f, "amplitude/httpapi_browser.json"))
	f.Add(uint8(1), awgRead(f, "amplitude/batch_server.json"))
	f.Add(uint8(2), awgRead(f, "amplitude/identify_array.form"))
	f.Add(uint8(2), awgRead(f, "amplitude/identify_object.form"))
	f.Add(uint8(0), []byte(`{"events":[{"ip":"$remote","user_properties":{"$set":null}}],"options":null}`))
	f.Add(uint8(2), []byte(`identification=%5B%5D&x&&=y`))
	f.Fuzz(func(t *testing.T, sel uint8, body []byte) {
		in := &Request{Method: "POST", Path: ampFuzzPaths[int(sel)%len(ampFuzzPaths)], Body: body}
		b, err := Amplitude{}.Decode(in)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("Decode error does not wrap ErrParse: %v", err)
			}
			return
		}
		b.DropClientIP = sel >= 128
		out, err := Amplitude{}.Encode(in, b)
		if err != nil {
			t.Fatalf("Encode after a successful Decode: %v", err)
		}
		b2, err := Amplitude{}.Decode(out)
		if err != nil {
			t.Fatalf("re-Decode of %q: %v", out.Body, err)
		}
		if len(b2.Messages) != len(b.Messages) {
			t.Fatalf("re-Decode gives %d messages, Decode gave %d", len(b2.Messages), len(b.Messages))
		}
		if b.DropClientIP && b2.ClientIPUsed {
			t.Fatalf("ClientIPUsed after DropClientIP: %s", out.Body)
		}
	})
}
