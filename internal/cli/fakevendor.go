package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/gateway/fakevendor"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

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
			srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: fakevendor.Handler(func(r fakevendor.ReceivedRequest) {
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
