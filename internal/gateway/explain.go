package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/weaklink/weaklink/internal/gateway/adapter"
)

// Explanation is what the gateway would send for one payload, and why.
type Explanation struct {
	Method          string           `json:"method"`
	URL             string           `json:"url"`
	Messages        []map[string]any `json:"messages"`
	Decisions       []Decision       `json:"decisions"`
	DroppedMessages int              `json:"dropped_messages"`
	Sent            [][]string       `json:"categories_sent"`
	ClientIP        string           `json:"client_ip"`
}

var defaultPaths = map[string]string{
	"mixpanel": "/track", "segment": "/v1/batch", "amplitude": "/2/httpapi", "ga4": "/mp/collect",
}

// Explain applies a vendor's route policy to a payload without sending or
// recording anything.
func Explain(cfg *Config, vendor, method, path string, body []byte) (*Explanation, error) {
	rc, ok := cfg.RouteFor(vendor)
	if !ok {
		var vendors []string
		for _, r := range cfg.Routes {
			vendors = append(vendors, r.Vendor)
		}
		return nil, fmt.Errorf("no route for vendor %q in %s (routes: %v)", vendor, cfg.File(), vendors)
	}
	rt, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	rte := rt.routeFor(vendor)
	if path == "" {
		path = defaultPaths[rc.Adapter]
		if path == "" && rc.Generic != nil && len(rc.Generic.Paths) > 0 {
			path = rc.Generic.Paths[0]
		}
	}
	if method == "" {
		method = http.MethodPost
	}
	if k := rte.ad.Route(method, path); k != adapter.RouteData {
		return nil, fmt.Errorf("%s %s is not a data endpoint of the %s adapter (use --path)", method, path, rc.Adapter)
	}
	h := http.Header{}
	if t := bytes.TrimSpace(body); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	in := &adapter.Request{Method: method, Path: path, Query: url.Values{}, Header: h, Body: body}
	batch, err := rte.ad.Decode(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rc.Adapter, err)
	}
	out := rt.engine.apply(rte.policy, batch, rc.Adapter, true)
	outReq, err := rte.ad.Encode(in, batch)
	if err != nil {
		return nil, err
	}
	u := *rte.upstream
	u.Path = outReq.Path
	u.RawQuery = outReq.Query.Encode()
	ex := &Explanation{Method: outReq.Method, URL: u.String(), Decisions: out.Decisions, DroppedMessages: out.DroppedMessages, Sent: out.Sent}
	for _, m := range batch.Messages {
		ex.Messages = append(ex.Messages, m.Object)
	}
	switch rte.policy.ClientIP {
	case ActKeep:
		ex.ClientIP = "forwarded (X-Forwarded-For)"
	case "truncate":
		ex.ClientIP = "truncated to its /24 (IPv4) or /48 (IPv6) network"
	default:
		ex.ClientIP = "not forwarded"
		if batch.ClientIPUsed {
			ex.ClientIP += "; the vendor is told not to geolocate the request"
		}
	}
	slices.SortStableFunc(ex.Decisions, func(a, b Decision) int { return a.Message - b.Message })
	return ex, nil
}
