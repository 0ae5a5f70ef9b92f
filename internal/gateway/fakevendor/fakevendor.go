// Package fakevendor is a stand-in for a vendor's ingestion API, for tests
// and demos on loopback: it answers like Mixpanel ("1") and reports every
// request it receives, with Mixpanel's data= bodies decoded.
package fakevendor

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
)

// ReceivedRequest is what the fake vendor prints for each request.
type ReceivedRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Messages is the body decoded: a Mixpanel data= form (base64 or JSON),
	// or JSON as it came.
	Messages any    `json:"messages,omitempty"`
	Raw      string `json:"raw,omitempty"` // the body when it could not be decoded
}

// Handler is a stand-in for a vendor's ingestion API on loopback: it
// answers like Mixpanel ("1") and reports every request it received.
func Handler(report func(ReceivedRequest)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		rec := ReceivedRequest{Method: r.Method, Path: r.URL.Path, Query: map[string]string{}, Headers: map[string]string{}}
		for k := range r.URL.Query() {
			rec.Query[k] = r.URL.Query().Get(k)
		}
		for _, h := range []string{"Content-Type", "User-Agent", "X-Forwarded-For", "Cookie", "Referer", "Authorization"} {
			if v := r.Header.Get(h); v != "" {
				if h == "Authorization" {
					v = "(present)"
				}
				rec.Headers[h] = v
			}
		}
		if msgs, ok := DecodeBody(body); ok {
			rec.Messages = msgs
		} else {
			rec.Raw = string(body)
		}
		report(rec)
		_, _ = w.Write([]byte("1"))
	})
}

func DecodeBody(body []byte) (any, bool) {
	raw := body
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("data") != "" {
		d := form.Get("data")
		if b, err := base64.StdEncoding.DecodeString(d); err == nil {
			raw = b
		} else {
			raw = []byte(d)
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false
	}
	return v, true
}
