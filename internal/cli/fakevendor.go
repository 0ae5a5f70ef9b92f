package cli

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/spf13/cobra"
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

// FakeVendor is a stand-in for a vendor's ingestion API on loopback: it
// answers like Mixpanel ("1") and reports every request it received.
func FakeVendor(report func(ReceivedRequest)) http.Handler {
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
		if msgs, ok := decodeVendorBody(body); ok {
			rec.Messages = msgs
		} else {
			rec.Raw = string(body)
		}
		report(rec)
		_, _ = w.Write([]byte("1"))
	})
}

func decodeVendorBody(body []byte) (any, bool) {
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

func (a *app) fakeVendorCmd() *cobra.Command {
	var listen string
	var count int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "fake-vendor --listen 127.0.0.1:9100",
		Short: "Run a stand-in vendor API on loopback that prints what it receives (for demos and tests)",
		Long: `fake-vendor answers like Mixpanel's ingestion API and prints every request it
receives as one JSON line (path, query, headers, decoded messages), so you can
see what a vendor gets through the gateway. It listens on loopback only, and
stops after --count requests or --timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
				return usageError{fmt.Errorf("--listen %q: the fake vendor listens on loopback only", listen)}
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			var mu sync.Mutex
			seen := 0
			done := make(chan struct{})
			srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: FakeVendor(func(r ReceivedRequest) {
				mu.Lock()
				defer mu.Unlock()
				b, _ := json.Marshal(r)
				fmt.Fprintln(a.out, string(b))
				seen++
				if count > 0 && seen == count {
					close(done)
				}
			})}
			go func() {
				select {
				case <-done:
				case <-cmd.Context().Done():
				case <-timeAfter(timeout):
				}
				_ = srv.Close()
			}()
			fmt.Fprintf(a.errOut, "fake vendor listening on http://%s\n", ln.Addr())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9100", "loopback address to listen on")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many requests (0: never)")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "stop after this long (0: never)")
	return cmd
}

// timeAfter is time.After, or a channel that never fires for d <= 0.
func timeAfter(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}
