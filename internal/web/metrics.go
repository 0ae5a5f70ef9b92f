package web

import (
	"slices"
	"strings"

	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// httpMetrics are the server's Prometheus series. Labels are route
// patterns and status codes, never a path, a parameter or a user.
type httpMetrics struct {
	registry *prometheus.Registry
	gatherer prometheus.Gatherer
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	h        http.Handler
}

func newHTTPMetrics(extra []prometheus.Gatherer) *httpMetrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &httpMetrics{
		registry: r,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weaklink", Subsystem: "http", Name: "requests_total",
			Help: "API requests by route pattern and status code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "weaklink", Subsystem: "http", Name: "request_duration_seconds",
			Help: "API request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "weaklink", Subsystem: "http", Name: "logins_total",
			Help: "Password logins by result (ok, bad_credentials, rate_limited, error)."}, []string{"result"}),
	}
	r.MustRegister(m.requests, m.duration, m.logins)
	m.gatherer = r
	if len(extra) > 0 {
		gs := prometheus.Gatherers{r}
		for _, g := range extra {
			gs = append(gs, withoutRuntime{g})
		}
		m.gatherer = gs
	}
	m.h = promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
	return m
}

func (m *httpMetrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *httpMetrics) handler() http.Handler { return m.h }

// metricsRoute serves /metrics on the API listener, to authenticated
// callers (a Prometheus scrape config with an API token).
func (s *Server) metricsRoute(c *call) { s.metrics.handler().ServeHTTP(c.w, c.r) }

// MetricsHandler serves /metrics, /healthz and /readyz without
// authentication, for a separate listener that only the monitoring
// network reaches (`serve --metrics-addr`), as Prometheus expects.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		v, _ := s.healthz(nil)
		writeJSON(w, http.StatusOK, v)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, ctx: r.Context()}
		v, _ := s.readyz(c)
		writeJSON(w, max(c.status, http.StatusOK), v)
	})
	return mux
}

// withoutRuntime gathers a registry's families but the Go runtime's and
// the process's: an in-process gateway registers those too, and the
// server's registry already has them (the same names twice would fail
// every scrape).
type withoutRuntime struct{ g prometheus.Gatherer }

func (w withoutRuntime) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := w.g.Gather()
	return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool {
		n := mf.GetName()
		return strings.HasPrefix(n, "go_") || strings.HasPrefix(n, "process_")
	}), err
}
