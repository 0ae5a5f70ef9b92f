// Package adapter turns vendor ingestion requests (Mixpanel, Segment,
// Amplitude, GA4, generic JSON) into a vendor-neutral list of messages that
// the gateway's policy engine edits, and back into the same wire format for
// the upstream. One file per wire format.
package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Kind is what a message describes.
type Kind string

const (
	KindEvent   Kind = "event"   // something a person did (track, page, screen)
	KindProfile Kind = "profile" // facts about a person (identify, engage, user properties)
	KindGroup   Kind = "group"   // facts about an organization or group
	KindAlias   Kind = "alias"   // links two ids of one person
)

// Path addresses a value inside a message object: ["properties", "$email"].
type Path []string

// ParsePath reads a dotted path ("context.traits"); an empty string is the
// message object itself.
func ParsePath(s string) Path {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

func (p Path) String() string { return strings.Join(p, ".") }

// Message is one event, profile update or group update.
type Message struct {
	Kind Kind
	// Name is the event name, or the profile or group operation ($set,
	// identify), for metrics and the ledger.
	Name string
	// Object is the message as the wire format has it, decoded from JSON
	// with numbers as json.Number. The policy engine edits it in place.
	Object map[string]any
	// Props are the property maps in Object whose keys are data fields a
	// policy names by key: "properties", "$set", "traits", "context.traits".
	Props []Path
	// Fields are reserved single fields outside property maps that carry
	// data: "$distinct_id", "$ip", "userId", "context.ip", "user_id".
	Fields []Path
	// Subject is where the customer's own id for the person is
	// (distinct_id, userId, user_id); nil when the message has none.
	Subject Path
	// Dedup is where the vendor's deduplication key is ($insert_id,
	// messageId, insert_id); nil when the format has none.
	Dedup Path
}

// Batch is the decoded content of one request.
type Batch struct {
	Messages []*Message
	// ClientIPUsed is true when the request asks the vendor to derive data
	// from the client's IP address (Mixpanel ip=1, the default of most
	// browser SDKs). The policy engine sets DropClientIP when its policy
	// forbids that, and Encode then turns it off in the wire format.
	ClientIPUsed bool
	DropClientIP bool
	// State is the adapter's own record of the envelope (form fields,
	// base64 or JSON, batch-level context, api keys) needed to re-encode.
	State any
}

// Request is an inbound or outbound request, with its body decoded from any
// Content-Encoding (the proxy gunzips and re-gzips).
type Request struct {
	Method string
	Path   string // relative to the route prefix: /track, /v1/batch, /2/httpapi
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Route says how the gateway treats a request path.
type Route int

const (
	// RouteData requests carry personal data: decode, apply policy, encode.
	RouteData Route = iota
	// RoutePassThrough requests carry no event data (SDK configuration,
	// feature flags): forward unchanged.
	RoutePassThrough
	// RouteReject requests are not part of the vendor's ingestion API: refuse
	// them, so the gateway is never an open proxy.
	RouteReject
)

// Adapter is one wire format.
type Adapter interface {
	// Name is the adapter's name in configuration: mixpanel, segment…
	Name() string
	// Route classifies a request by method and path.
	Route(method, path string) Route
	// Decode parses a data request. A body it cannot parse is an error that
	// wraps ErrParse and says what was wrong.
	Decode(r *Request) (*Batch, error)
	// Encode writes the batch, after policy, as a request in the same wire
	// format: same envelope and encoding, query adjusted where needed.
	// Messages the policy removed are absent from b.Messages.
	Encode(r *Request, b *Batch) (*Request, error)
}

// ErrParse marks a body an adapter cannot parse.
var ErrParse = errors.New("cannot parse the request body")

// DecodeJSON decodes a JSON value keeping numbers exact (json.Number), so a
// re-encoded payload carries the same numbers.
func DecodeJSON(b []byte, v any) error { return decodeFast(b, v, decodeJSONStd) }

func decodeJSONStd(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// More() is false before a stray ] or }: only EOF ends the value.
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Get returns the value at p in obj.
func Get(obj map[string]any, p Path) (any, bool) {
	var cur any = obj
	for _, k := range p {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Map returns the object at p in obj, or nil.
func Map(obj map[string]any, p Path) map[string]any {
	v, _ := Get(obj, p)
	m, _ := v.(map[string]any)
	return m
}

// Set stores v at p in obj, creating intermediate objects.
func Set(obj map[string]any, p Path, v any) {
	if len(p) == 0 {
		return
	}
	cur := obj
	for _, k := range p[:len(p)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[p[len(p)-1]] = v
}

// Delete removes the value at p in obj.
func Delete(obj map[string]any, p Path) {
	if len(p) == 0 {
		return
	}
	if m := Map(obj, p[:len(p)-1]); m != nil { // Map of an empty path is obj itself
		delete(m, p[len(p)-1])
	}
}

// String returns the value at p as a string: strings as they are, numbers
// in their JSON form; "" otherwise.
func String(obj map[string]any, p Path) string {
	v, _ := Get(obj, p)
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}
