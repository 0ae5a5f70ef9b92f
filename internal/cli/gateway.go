package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/gateway"
)

func (a *app) gatewayCmd() *cobra.Command {
	var listen, adminListen, config string
	var allowPrivate bool
	cmd := &cobra.Command{
		Use:   "gateway --config FILE [--listen ADDR] [--server URL]",
		Short: "Run the data-minimization gateway in front of vendor ingestion APIs",
		Long: `gateway is a reverse proxy for analytics SDK traffic (Mixpanel, Segment,
Amplitude, GA4, generic JSON). Each route sends a path prefix to one vendor's
API through a policy that drops, hashes or coarsens fields. The ledger records
what the vendor actually received. A vendor blocked with 'weaklink vendors
block' is cut off within about a second, and so is traffic to vendors that are
not approved in the inventory. The configuration reloads on SIGHUP and when
the file changes; a configuration with errors is rejected and the old one
keeps serving. Prometheus metrics are at /metrics, health at /healthz.

With --server URL (or $WEAKLINK_SERVER) and a gateway-role API token in
$WEAKLINK_TOKEN, the gateway reads the gates and writes the ledger through
the server's API and needs no database credentials.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return usageError{errors.New("gateway needs --config FILE")}
			}
			opts := gateway.Options{ConfigPath: config, Now: a.now, AllowPrivateUpstreams: allowPrivate}
			if a.remote.client != nil {
				// --server: the server's gateway API, with a gateway token;
				// no database credentials (gateway_remote.go).
				opts.Backend = gatewayRemote{a.remote.client}
			} else {
				svc, err := a.service(cmd.Context())
				if err != nil {
					return err
				}
				opts.Service = svc
			}
			log := slog.New(slog.NewTextHandler(a.errOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
			opts.Logger = log
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			g, err := gateway.New(ctx, opts)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", gatewayAddr(listen, g))
			if err != nil {
				return err
			}
			var aln net.Listener
			if adminListen != "" {
				if aln, err = net.Listen("tcp", adminListen); err != nil {
					ln.Close()
					return err
				}
				log.Info("gateway: admin endpoints (/metrics, /healthz)", "addr", aln.Addr().String())
			}
			log.Info("gateway: listening", "addr", ln.Addr().String(), "config", config, "routes", len(g.Config().Routes))
			fmt.Fprintf(a.out, "weaklink gateway listening on http://%s\n", ln.Addr())
			return runGateway(ctx, g, ln, aln)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "address to listen on (default: the config's listen, else 127.0.0.1:8787)")
	cmd.Flags().StringVar(&adminListen, "admin-listen", "", "serve /metrics and /healthz on this address only (for example 127.0.0.1:9090), not on the public listener")
	cmd.Flags().StringVar(&config, "config", "", "gateway configuration file (kind: gateway)")
	cmd.Flags().BoolVar(&allowPrivate, "allow-private-upstreams", false, "allow upstreams on loopback or private addresses (tests and demos with a fake vendor)")
	cmd.AddCommand(a.gatewayExplainCmd(), a.fakeVendorCmd())
	return cmd
}

// gatewayAddr is where a gateway listens: the flag's address, else its
// configuration's listen, else 127.0.0.1:8787.
func gatewayAddr(flag string, g *gateway.Gateway) string {
	return cmp.Or(flag, g.Config().Listen, "127.0.0.1:8787")
}

// runGateway serves g's ingestion routes on ln (with /metrics and /healthz,
// unless admin is set: then those go there alone), reloads the
// configuration on SIGHUP, and runs g's background work, until ctx ends or
// a listener fails. Then it stops accepting, lets requests in flight
// finish (10 s at most), and only then stops the background work, which
// flushes the ledger and closes the spools: a request that finishes during
// the shutdown is still recorded. It returns once that is done.
func runGateway(ctx context.Context, g *gateway.Gateway, ln, admin net.Listener) error {
	handler := g.Handler()
	servers := []*http.Server{{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}}
	listeners := []net.Listener{ln}
	if admin != nil {
		servers[0].Handler = g // the public listener serves ingestion only
		servers = append(servers, &http.Server{Handler: g.AdminHandler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, admin)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer func() { signal.Stop(hup); close(hup) }()
	go func() {
		for range hup {
			_ = g.Reload()
		}
	}()
	// The background work outlives the listeners: its own context ends
	// after they have shut down.
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- g.Run(runCtx) }()
	serveErr := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.Shutdown(sctx)
	}
	stopRun()
	return errors.Join(err, <-runDone)
}

func (a *app) gatewayExplainCmd() *cobra.Command {
	var config, vendor, path, method, format string
	cmd := &cobra.Command{
		Use:   "explain --config FILE --vendor V [--path /track] < payload",
		Short: "Show what the gateway would send a vendor for a payload, and why, field by field",
		Long: `explain reads a request body (what an SDK posts: JSON, or Mixpanel's data=
form) from standard input, applies the route's policy for the vendor, and
prints the request that would reach the vendor and the decision and reason
for every field. Nothing is sent and nothing is recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" || vendor == "" {
				return usageError{errors.New("explain needs --config FILE and --vendor V")}
			}
			cfg, err := gateway.LoadConfig(config, os.LookupEnv)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(io.LimitReader(a.in, cfg.Limits.MaxBodyBytes+1))
			if err != nil {
				return err
			}
			if int64(len(body)) > cfg.Limits.MaxBodyBytes {
				return fmt.Errorf("payload larger than limits.max_body_bytes (%d)", cfg.Limits.MaxBodyBytes)
			}
			res, err := gateway.Explain(cfg, vendor, method, path, body)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, res)
			}
			fmt.Fprintf(a.out, "%s %s\n\n", res.Method, res.URL)
			for i, m := range res.Messages {
				b, _ := json.MarshalIndent(m, "", "  ")
				fmt.Fprintf(a.out, "message %d:\n%s\n\n", i, b)
			}
			if res.DroppedMessages > 0 {
				fmt.Fprintf(a.out, "%d messages dropped by drop_events\n\n", res.DroppedMessages)
			}
			rows := make([][]string, 0, len(res.Decisions))
			for _, d := range res.Decisions {
				rows = append(rows, []string{fmt.Sprint(d.Message), d.Path, d.Category, d.Action, d.Reason})
			}
			if err := table(a.out, []string{"MSG", "FIELD", "CATEGORY", "ACTION", "REASON"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "\nclient IP: %s\n", res.ClientIP)
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "gateway configuration file")
	cmd.Flags().StringVar(&vendor, "vendor", "", "vendor whose route and policy to use")
	cmd.Flags().StringVar(&path, "path", "", "request path within the route (default: the adapter's main data endpoint)")
	cmd.Flags().StringVar(&method, "method", "POST", "request method")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) ledgerCmd() *cobra.Command {
	var vendor, format string
	cmd := &cobra.Command{
		Use:   "ledger --vendor V",
		Short: "What a vendor actually received through the gateway, by data category",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if vendor == "" {
				return usageError{errors.New("ledger needs --vendor V")}
			}
			be, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			sum, err := be.LedgerSummary(cmd.Context(), vendor)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, sum)
			}
			fmt.Fprintf(a.out, "%s received data about %d subjects\n\n", cell(vendor), sum.Subjects)
			var rows [][]string
			for _, c := range sum.Categories {
				rows = append(rows, []string{c.Category, fmt.Sprint(c.Subjects), fmt.Sprint(c.Messages),
					c.FirstSeen.Format(time.RFC3339), c.LastSeen.Format(time.RFC3339)})
			}
			if err := table(a.out, []string{"CATEGORY", "SUBJECTS", "MESSAGES", "FIRST SEEN", "LAST SEEN"}, rows); err != nil {
				return err
			}
			if len(sum.Actions) > 0 {
				fmt.Fprintln(a.out, "\nWhat the gateway kept from it:")
				rows = rows[:0]
				for _, x := range sum.Actions {
					rows = append(rows, []string{x.Action, x.Category, fmt.Sprint(x.Count)})
				}
				return table(a.out, []string{"ACTION", "CATEGORY", "COUNT"}, rows)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&vendor, "vendor", "", "vendor id")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) blockCmds() []*cobra.Command {
	var reason, format string
	block := &cobra.Command{
		Use:   "block ID",
		Short: "Cut a vendor off: running gateways stop forwarding to it within about a second",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			be, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			b, err := be.BlockVendor(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, b)
			}
			fmt.Fprintf(a.out, "Blocked %s. Gateways stop forwarding to it within about a second; 'weaklink vendors unblock %s' undoes it.\n", cell(args[0]), cell(args[0]))
			return nil
		},
	}
	block.Flags().StringVar(&reason, "reason", "", "why (shown to clients and in the audit trail)")
	formatFlag(block, &format)
	unblock := &cobra.Command{
		Use:   "unblock ID",
		Short: "Let gateways forward to a blocked vendor again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			be, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			if err := be.UnblockVendor(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Unblocked %s.\n", cell(args[0]))
			return nil
		},
	}
	return []*cobra.Command{block, unblock}
}

func currentUser() string {
	for _, k := range []string{"WEAKLINK_USER", "USER", "LOGNAME"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	// No environment (a container, cron): the account the process runs as.
	if u, err := user.Current(); err == nil && strings.TrimSpace(u.Username) != "" {
		return strings.TrimSpace(u.Username)
	}
	return "unknown"
}
