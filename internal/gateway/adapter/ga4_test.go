package adapter

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestGA4Route(t *testing.T) {
	tests := []struct {
		method, path string
		want         Route
	}{
		{"POST", "/mp/collect", RouteData},
		{"POST", "/debug/mp/collect", RouteData},
		{"GET", "/mp/collect", RouteReject},
		{"OPTIONS", "/mp/collect", RoutePassThrough},
		{"GET", "/g/collect", RouteData},
		{"POST", "/g/collect", RouteData},
		{"OPTIONS", "/g/collect", RoutePassThrough},
		{"PUT", "/g/collect", RouteReject},
		{"POST", "/collect", RouteReject},
		{"POST", "/j/collect", RouteReject},
		{"POST", "/mp/collect/", RouteReject},
		{"GET", "/gtag/js", RouteReject},
		{"POST", "/g/collect/../../admin", RouteReject},
		{"POST", "/", RouteReject},
	}
	for _, tt := range tests {
		if got := (GA4{}).Route(tt.method, tt.path); got != tt.want {
			t.Errorf("Route(%s %q) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	if (GA4{}).Name() != "ga4" {
		t.Error("Name")
	}
}

func ga4MPRequest(t testing.TB, fixture string) *Request {
	t.Helper()
	return &Request{Method: "POST", Path: "/mp/collect",
		Query:  url.Values{"measurement_id": {"G-ABC123XYZ"}, "api_secret": {"xYz-SECRET_42"}},
		Header: map[string][]string{"Content-Type": {"application/json"}},
		Body:   awgRead(t, fixture)}
}

func ga4GtagRequest(t testing.TB, query, body string) *Request {
	t.Helper()
	q, err := url.ParseQuery(string(awgRead(t, query)))
	if err != nil {
		t.Fatal(err)
	}
	r := &Request{Method: "GET", Path: "/g/collect", Query: q}
	if body != "" {
		r.Method, r.Body = "POST", awgRead(t, body)
		r.Header = map[string][]string{"Content-Type": {"text/plain;charset=UTF-8"}}
	}
	return r
}

func TestGA4Decode(t *testing.T) {
	tests := []struct {
		name     string
		req      func(testing.TB) *Request
		clientIP bool
		want     []awgMsg
	}{
		{"measurement protocol", func(t testing.TB) *Request { return ga4MPRequest(t, "ga4/mp_collect.json") }, false, []awgMsg{
			{Kind: KindProfile, Name: "request", Subject: "user_id=u_123456",
				Props: []string{"user_properties", "user_location", "device"},
				Fields: []string{"client_id", "user_id", "ip_override", "user_data.sha256_email_address",
					"user_data.sha256_phone_number", "user_data.address"}},
			{Kind: KindEvent, Name: "sign_up", Props: []string{"params"}},
			{Kind: KindEvent, Name: "purchase", Props: []string{"params"}},
			{Kind: KindEvent, Name: "tutorial_complete"},
		}},
		{"measurement protocol, app, no ip_override", func(t testing.TB) *Request {
			r := ga4MPRequest(t, "ga4/mp_app.json")
			r.Path = "/debug/mp/collect"
			r.Query = url.Values{"firebase_app_id": {"1:1234567890:android:321abc456def7890"}, "api_secret": {"s"}}
			return r
		}, true, []awgMsg{
			{Kind: KindProfile, Name: "request", Fields: []string{"app_instance_id"}},
			{Kind: KindEvent, Name: "level_up", Props: []string{"params"}},
		}},
		{"gtag batch", func(t testing.TB) *Request { return ga4GtagRequest(t, "ga4/gtag_batch.query", "ga4/gtag_batch.body") }, true, []awgMsg{
			{Kind: KindEvent, Name: "", Subject: "uid=u_123456",
				Fields: []string{"cid", "dl", "dr", "dt", "sr", "uid", "ul", "up.plan"}},
			{Kind: KindEvent, Name: "page_view"},
			{Kind: KindEvent, Name: "sign_up", Fields: []string{"ep.method", "ep.email", "epn.seats"}},
			{Kind: KindEvent, Name: "scroll", Fields: []string{"epn.percent_scrolled"}},
		}},
		{"gtag single hit", func(t testing.TB) *Request { return ga4GtagRequest(t, "ga4/gtag_single.query", "") }, true, []awgMsg{
			{Kind: KindEvent, Name: "begin_checkout",
				Fields: []string{"_uip", "cid", "dl", "dt", "ep.coupon", "epn.value", "sr", "ul", "up.customer_tier", "upn.lifetime_orders"}},
		}},
		{"gtag hits in the body only", func(t testing.TB) *Request {
			return &Request{Method: "POST", Path: "/g/collect", Body: []byte("v=2&tid=G-1&cid=1.2&en=a\n\nv=2&tid=G-1&cid=1.2&uid=u_9&en=b&en=c\n")}
		}, true, []awgMsg{
			{Kind: KindEvent, Name: "a", Fields: []string{"cid"}},
			{Kind: KindEvent, Name: "b", Subject: "uid=u_9", Fields: []string{"cid", "uid"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := GA4{}.Decode(tt.req(t))
			if err != nil {
				t.Fatal(err)
			}
			if b.ClientIPUsed != tt.clientIP {
				t.Errorf("ClientIPUsed = %v, want %v", b.ClientIPUsed, tt.clientIP)
			}
			awgCheckMessages(t, b, tt.want)
			for _, m := range b.Messages {
				if m.Dedup != nil {
					t.Errorf("%s: Dedup %v, GA4 has no deduplication key", m.Name, m.Dedup)
				}
			}
		})
	}
}

// ga4Lines parses a gtag body into its hits, each as its keys in order and
// its values.
func ga4Lines(t *testing.T, body []byte) (keys [][]string, vals []url.Values) {
	t.Helper()
	for _, line := range strings.Split(string(body), "\r\n") {
		v, err := url.ParseQuery(line)
		if err != nil {
			t.Fatalf("hit %q: %v", line, err)
		}
		var ks []string
		for _, kv := range strings.Split(line, "&") {
			k, _, _ := strings.Cut(kv, "=")
			ks = append(ks, k)
		}
		keys, vals = append(keys, ks), append(vals, v)
	}
	return keys, vals
}

func TestGA4RoundTrip(t *testing.T) {
	t.Run("measurement protocol", func(t *testing.T) {
		for _, fx := range []string{"ga4/mp_collect.json", "ga4/mp_app.json"} {
			in := ga4MPRequest(t, fx)
			b, err := GA4{}.Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := GA4{}.Encode(in, b)
			if err != nil {
				t.Fatal(err)
			}
			awgSameJSON(t, out.Body, in.Body)
			if !reflect.DeepEqual(out.Query, in.Query) || out.Path != in.Path || out.Header.Get("Content-Type") != "application/json" {
				t.Errorf("%s: envelope changed: %+v", fx, out)
			}
		}
	})
	t.Run("gtag batch", func(t *testing.T) {
		in := ga4GtagRequest(t, "ga4/gtag_batch.query", "ga4/gtag_batch.body")
		b, err := GA4{}.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := GA4{}.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Query, in.Query) {
			t.Errorf("query\n got %v\nwant %v", out.Query, in.Query)
		}
		gotKeys, gotVals := ga4Lines(t, out.Body)
		wantKeys, wantVals := ga4Lines(t, in.Body)
		if !reflect.DeepEqual(gotKeys, wantKeys) || !reflect.DeepEqual(gotVals, wantVals) {
			t.Errorf("body\n got %q\nwant %q", out.Body, in.Body)
		}
		if out.Method != "POST" || out.Header.Get("Content-Type") != "text/plain;charset=UTF-8" {
			t.Errorf("envelope changed: %+v", out)
		}
	})
	t.Run("gtag single hit", func(t *testing.T) {
		in := ga4GtagRequest(t, "ga4/gtag_single.query", "")
		b, err := GA4{}.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := GA4{}.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out.Query, in.Query) || len(out.Body) != 0 || out.Method != "GET" {
			t.Errorf("got %+v", out)
		}
	})
	t.Run("gtag repeated parameter and trailing newline", func(t *testing.T) {
		in := &Request{Method: "POST", Path: "/g/collect", Query: url.Values{"v": {"2"}, "tid": {"G-1"}, "cid": {"1.2"}},
			Body: []byte("en=a&ep.tag=x&ep.tag=y&_et=1\nen=b\n")}
		b, err := GA4{}.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := GA4{}.Encode(in, b)
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Body) != string(in.Body) || !reflect.DeepEqual(out.Query, in.Query) {
			t.Errorf("got %q %v", out.Body, out.Query)
		}
	})
}

func TestGA4EditMP(t *testing.T) {
	in := ga4MPRequest(t, "ga4/mp_collect.json")
	b, err := GA4{}.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	req := b.Messages[0].Object
	if v := String(req, Path{"user_properties", "plan"}); v != "pro" {
		t.Fatalf("user property plan = %q: not unwrapped", v)
	}
	Set(req, Path{"user_properties", "plan"}, "[redacted]")
	Set(req, Path{"user_id"}, "sha256:77aa")
	Delete(req, Path{"ip_override"})
	Delete(req, Path{"user_properties", "customer_tier"})
	Delete(req, Path{"user_data", "sha256_phone_number"})
	Delete(req, Path{"user_location", "city"})
	Delete(b.Messages[2].Object, Path{"params", "email"})
	b.Messages = b.Messages[:3] // tutorial_complete is dropped
	out, err := GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	want := awgDecodeJSON(t, in.Body).(map[string]any)
	want["user_id"] = "sha256:77aa"
	want["user_properties"].(map[string]any)["plan"] = map[string]any{"value": "[redacted]"}
	delete(want, "ip_override")
	delete(want["user_properties"].(map[string]any), "customer_tier")
	delete(want["user_data"].(map[string]any), "sha256_phone_number")
	delete(want["user_location"].(map[string]any), "city")
	events := want["events"].([]any)
	delete(events[1].(map[string]any)["params"].(map[string]any), "email")
	want["events"] = events[:2]
	awgSameJSON(t, out.Body, want)

	// A wrapper's other keys and values that were not wrappers survive.
	in2 := &Request{Method: "POST", Path: "/mp/collect", Body: []byte(`{"client_id":"1.2","user_properties":{
		"tier":{"value":"gold","set_timestamp_micros":1732539000000000},"odd":"x","empty":{}},"events":[]}`)}
	b2, err := GA4{}.Decode(in2)
	if err != nil {
		t.Fatal(err)
	}
	Set(b2.Messages[0].Object, Path{"user_properties", "tier"}, "h:91")
	out2, err := GA4{}.Encode(in2, b2)
	if err != nil {
		t.Fatal(err)
	}
	awgSameJSON(t, out2.Body, []byte(`{"client_id":"1.2","user_properties":{
		"tier":{"value":"h:91","set_timestamp_micros":1732539000000000},"odd":"x","empty":{}},"events":[]}`))

	// Without its request-level message, the request keeps only the
	// fields that say nothing about the person.
	b.Messages = b.Messages[1:]
	out, err = GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	awgSameJSON(t, out.Body, map[string]any{
		"timestamp_micros":     want["timestamp_micros"],
		"non_personalized_ads": false,
		"consent":              want["consent"],
		"events":               events[:2],
	})

	// Two request-level messages cannot make one request.
	b3, _ := GA4{}.Decode(in)
	b3.Messages = append(b3.Messages, &Message{Kind: KindProfile, Object: map[string]any{}})
	if _, err := (GA4{}).Encode(in, b3); err == nil {
		t.Error("two request-level messages: no error")
	}
}

func TestGA4EditGtag(t *testing.T) {
	in := ga4GtagRequest(t, "ga4/gtag_batch.query", "ga4/gtag_batch.body")
	b, err := GA4{}.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	urlHit := b.Messages[0].Object
	Delete(urlHit, Path{"uid"})
	Set(urlHit, Path{"dl"}, "https://platform.example.com/usage")
	Delete(b.Messages[2].Object, Path{"ep.email"})
	Set(b.Messages[2].Object, Path{"ep.method"}, "redacted")
	b.Messages = b.Messages[:3] // the scroll hit is dropped
	out, err := GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	wantQuery := url.Values{}
	for k, v := range in.Query {
		wantQuery[k] = v
	}
	wantQuery.Del("uid")
	wantQuery.Set("dl", "https://platform.example.com/usage")
	if !reflect.DeepEqual(out.Query, wantQuery) {
		t.Errorf("query\n got %v\nwant %v", out.Query, wantQuery)
	}
	if want := "en=page_view&_ee=1&_et=12\r\nen=sign_up&ep.method=redacted&epn.seats=3&_et=4012"; string(out.Body) != want {
		t.Errorf("body\n got %q\nwant %q", out.Body, want)
	}

	// Without the URL's message only routing and consent stay in the URL.
	b.Messages = b.Messages[1:]
	out, err = GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"v": {"2"}, "tid": {"G-ABC123XYZ"}, "gtm": {"45je4bk0v9"}, "_p": {"1732540000123"},
		"gcs": {"G111"}, "gcd": {"13l3l3l3l1l1"}, "npa": {"0"}, "dma": {"0"}}
	if !reflect.DeepEqual(out.Query, want) {
		t.Errorf("query\n got %v\nwant %v", out.Query, want)
	}

	// Without any body hit, the URL's shared parameters serve nothing.
	b, _ = GA4{}.Decode(in)
	b.Messages = b.Messages[:1]
	out, err = GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Query, want) || len(out.Body) != 0 {
		t.Errorf("no hit left: query %v body %q", out.Query, out.Body)
	}

	// DropClientIP has no wire form in GA4: nothing changes.
	b, _ = GA4{}.Decode(in)
	b.DropClientIP = true
	out, err = GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out.Query, in.Query) {
		t.Errorf("DropClientIP changed the query: %v", out.Query)
	}

	// A hit the policy emptied is not sent as an empty line.
	b, _ = GA4{}.Decode(in)
	for k := range b.Messages[1].Object {
		delete(b.Messages[1].Object, k)
	}
	out, err = GA4{}.Encode(in, b)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(string(out.Body), "\r\n") || strings.Count(string(out.Body), "\r\n") != 1 {
		t.Errorf("body %q", out.Body)
	}
}

func TestGA4Malformed(t *testing.T) {
	tests := []struct {
		name, path, body string
		want             string
	}{
		{"truncated", "/mp/collect", `{"client_id":"1.2","events":[{"name":"a"`, "the body is not JSON"},
		{"empty", "/debug/mp/collect", ``, "the body is not JSON"},
		{"array", "/mp/collect", `[{"name":"a"}]`, "the body is an array, not a JSON object"},
		{"no events", "/mp/collect", `{"client_id":"1.2"}`, `the body has no "events" array`},
		{"events not array", "/mp/collect", `{"client_id":"1.2","events":{"name":"a"}}`, `"events" is an object, not an array`},
		{"event not object", "/mp/collect", `{"client_id":"1.2","events":[{"name":"a"},["b"]]}`, `element 1 of "events" is an array, not an object`},
		{"params not object", "/mp/collect", `{"events":[{"name":"a","params":"email=x"}]}`, "events[0]: params is a string, not an object"},
		{"user_properties not object", "/mp/collect", `{"user_properties":[1],"events":[]}`, "user_properties is an array, not an object"},
		{"user_data not object", "/mp/collect", `{"user_data":"ada@example.com","events":[]}`, "user_data is a string, not an object"},
		{"bad escape", "/g/collect", "en=a&_et=1\nen=b&ep.q=%E2%8", `hit on body line 2: value of "ep.q": invalid URL escape "%8"`},
		{"bad key escape", "/g/collect", "en=a&ep.%zz=1", `hit on body line 1: key "ep.%zz": invalid URL escape`},
		{"semicolon", "/g/collect", "en=a;uid=u_1", "hit on body line 1: raw semicolon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := GA4{}.Decode(&Request{Method: "POST", Path: tt.path, Body: []byte(tt.body)})
			awgParseErr(t, err, tt.want)
		})
	}
	if _, err := (GA4{}).Decode(&Request{Method: "POST", Path: "/collect"}); err == nil || errors.Is(err, ErrParse) {
		t.Errorf("a path that is not data: error %v", err)
	}
	if _, err := (GA4{}).Encode(&Request{}, &Batch{State: &ampState{}}); err == nil {
		t.Error("Encode of a batch GA4 did not decode: no error")
	}
}

var ga4FuzzPaths = []string{"/mp/collect", "/debug/mp/collect", "/g/collect"}

func FuzzGA4Decode(f *testing.F) {
	f.Add(uint8(0), "measurement_id=G-1&api_secret=s", awgRead(f, "ga4/mp_collect.json"))
	f.Add(uint8(1), "firebase_app_id=1:2:android:3&api_secret=s", awgRead(f, "ga4/mp_app.json"))
	f.Add(uint8(2), string(awgRead(f, "ga4/gtag_batch.query")), awgRead(f, "ga4/gtag_batch.body"))
	f.Add(uint8(2), string(awgRead(f, "ga4/gtag_single.query")), []byte(nil))
	f.Add(uint8(2), "", []byte("en=a&en=b&=&x\r\n\r\n&&\nep.k=%20\r"))
	f.Fuzz(func(t *testing.T, sel uint8, query string, body []byte) {
		q, _ := url.ParseQuery(query) // what the proxy could parse
		in := &Request{Method: "POST", Path: ga4FuzzPaths[int(sel)%len(ga4FuzzPaths)], Query: q, Body: body}
		b, err := GA4{}.Decode(in)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("Decode error does not wrap ErrParse: %v", err)
			}
			return
		}
		out, err := GA4{}.Encode(in, b)
		if err != nil {
			t.Fatalf("Encode after a successful Decode: %v", err)
		}
		b2, err := GA4{}.Decode(out)
		if err != nil {
			t.Fatalf("re-Decode of %v %q: %v", out.Query, out.Body, err)
		}
		if len(b2.Messages) != len(b.Messages) {
			t.Fatalf("re-Decode gives %d messages, Decode gave %d (%v %q)", len(b2.Messages), len(b.Messages), out.Query, out.Body)
		}
	})
}
