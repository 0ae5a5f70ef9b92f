package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's Prometheus series. Labels carry vendor ids,
// actions and categories, never a value from a payload.
type Metrics struct {
	Registry   *prometheus.Registry
	Requests   *prometheus.CounterVec   // vendor, outcome
	Bytes      *prometheus.CounterVec   // vendor, direction
	Messages   *prometheus.CounterVec   // vendor, kind
	Fields     *prometheus.CounterVec   // vendor, action, category
	Blocked    *prometheus.CounterVec   // vendor, reason
	Upstream   *prometheus.HistogramVec // vendor
	SpoolDepth *prometheus.GaugeVec     // vendor
	SpoolBytes *prometheus.GaugeVec     // vendor
	Reloads    *prometheus.CounterVec   // result
	LedgerErrs prometheus.Counter
}

// NewMetrics registers the gateway's series in a registry of their own, with
// the Go and process collectors.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weaklink", Subsystem: "gateway", Name: name, Help: help}, labels)
		r.MustRegister(c)
		return c
	}
	m := &Metrics{
		Registry: r,
		Requests: f("requests_total", "Requests by vendor and outcome (forwarded, spooled, blocked, rejected, parse_error, too_large, spool_full, upstream_error, pass_through).", "vendor", "outcome"),
		Bytes:    f("bytes_total", "Body bytes received from clients (in) and sent to vendors (out).", "vendor", "direction"),
		Messages: f("messages_total", "Messages forwarded, by kind.", "vendor", "kind"),
		Fields:   f("fields_total", "Fields the policy acted on, by action and data category.", "vendor", "action", "category"),
		Blocked:  f("blocked_messages_total", "Messages never forwarded because the vendor is blocked, unknown or not approved, or the event is dropped.", "vendor", "reason"),
		Reloads:  f("config_reloads_total", "Configuration reloads by result (ok, rejected).", "result"),
		Upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "weaklink", Subsystem: "gateway", Name: "upstream_seconds",
			Help: "Upstream request latency.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"vendor"}),
		SpoolDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weaklink", Subsystem: "gateway", Name: "spool_records",
			Help: "Requests waiting in the spool for an upstream."}, []string{"vendor"}),
		SpoolBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "weaklink", Subsystem: "gateway", Name: "spool_bytes",
			Help: "Bytes waiting in the spool."}, []string{"vendor"}),
		LedgerErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "weaklink", Subsystem: "gateway", Name: "ledger_flush_errors_total",
			Help: "Ledger flushes that failed (entries are kept and retried)."}),
	}
	r.MustRegister(m.Upstream, m.SpoolDepth, m.SpoolBytes, m.LedgerErrs)
	return m
}
