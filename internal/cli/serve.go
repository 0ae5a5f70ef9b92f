package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/web"
)

func (a *app) serveCmd() *cobra.Command {
	var addr, metricsAddr, org, rulesFile, tlsCert, tlsKey, logFormat string
	var gw gatewayFlags
	var sso oidcFlags
	var proxies []string
	var shutdown time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--addr 127.0.0.1:8080]",
		Short: "Serve the HTTP API (and, later, the web UI) for users and API tokens",
		Long: `serve runs weaklink's HTTP API on --addr: JSON under /api/v1, described by the
OpenAPI document at /api/v1/openapi.json, health at /healthz and /readyz,
Prometheus metrics at /metrics (for an API token; or without credentials on
--metrics-addr, a listener for the monitoring network only).

People log in with POST /api/v1/login as users made with 'weaklink users add';
programs send an API token from 'weaklink tokens create' as
Authorization: Bearer. The session cookie is Secure: browsers send it over
HTTPS, or to localhost. Use --tls-cert and --tls-key, or a TLS-terminating
proxy (name it with --trusted-proxy so the login limits count real clients).

With --gateway-config, the data-minimization gateway runs in the same
process on its own listener (--gateway-addr, else the configuration's
listen), as 'weaklink gateway' would.

SIGINT or SIGTERM stops accepting connections and lets requests in flight
finish (--shutdown-timeout). See docs/api.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (tlsCert == "") != (tlsKey == "") {
				return usageError{errors.New("--tls-cert and --tls-key go together")}
			}
			var trusted []netip.Prefix
			for _, p := range proxies {
				pfx, err := parsePrefix(p)
				if err != nil {
					return usageError{fmt.Errorf("--trusted-proxy %q: use an address or a CIDR prefix (10.0.0.0/8)", p)}
				}
				trusted = append(trusted, pfx)
			}
			var log *slog.Logger
			switch logFormat {
			case "text":
				log = slog.New(slog.NewTextHandler(a.errOut, nil))
			case "json":
				log = slog.New(slog.NewJSONHandler(a.errOut, nil))
			default:
				return usageError{fmt.Errorf("--log-format %q: use text or json", logFormat)}
			}
			ssoConfig, err := sso.config()
			if err != nil {
				return err
			}
			profile, rules, err := loadOrgAndRules(org, rulesFile, false)
			if err != nil {
				return err
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			// The in-process gateway's metrics join the server's /metrics.
			var gatherers []prometheus.Gatherer
			if gw.config != "" {
				gw.metrics = gateway.NewMetrics()
				gatherers = append(gatherers, gw.metrics.Registry)
			}
			srv, err := web.New(web.Options{
				Service: svc, Logins: service.NewLogins(svc.Store, a.now), Logger: log, Now: a.now,
				Profile: profile, Rules: rules, TrustedProxies: trusted, Version: Version, OIDC: ssoConfig,
				Gatherers: gatherers,
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			o := web.ServeOptions{Listener: ln, TLSCert: tlsCert, TLSKey: tlsKey, ShutdownTimeout: shutdown}
			if metricsAddr != "" {
				if o.MetricsListener, err = net.Listen("tcp", metricsAddr); err != nil {
					ln.Close()
					return err
				}
				log.Info("serve: metrics and health without credentials", "addr", o.MetricsListener.Addr().String())
			}
			scheme := "http"
			if tlsCert != "" {
				scheme = "https"
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// The gateway first: once serve says it listens, everything does.
			// If the gateway stops on its own (its listener failed), so does
			// the server, rather than serving on without it.
			var gwErr chan error
			serveCtx := ctx
			if gw.config != "" {
				gwDone, err := a.startGateway(ctx, svc, log, gw)
				if err != nil {
					ln.Close()
					if o.MetricsListener != nil {
						o.MetricsListener.Close()
					}
					return err
				}
				var stopServe context.CancelFunc
				serveCtx, stopServe = context.WithCancel(ctx)
				defer stopServe()
				gwErr = make(chan error, 1)
				go func() {
					err := <-gwDone
					if err != nil {
						log.Error("gateway: stopped", "err", err.Error())
					}
					gwErr <- err
					stopServe()
				}()
			}
			log.Info("serve: listening", "addr", ln.Addr().String(), "db", svc.Store.Backend())
			fmt.Fprintf(a.out, "weaklink serve listening on %s://%s (API: /api/v1, OpenAPI: /api/v1/openapi.json)\n", scheme, ln.Addr())
			err = srv.Serve(serveCtx, o)
			if gwErr == nil {
				return err
			}
			stop() // the gateway stops with ctx, and flushes its ledger
			return errors.Join(err, <-gwErr)
		},
	}
	gw.register(cmd)
	sso.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "also serve /metrics, /healthz and /readyz without credentials on this address (for example 127.0.0.1:9091)")
	cmd.Flags().StringVar(&org, "org", os.Getenv("WEAKLINK_ORG"), "organization profile for incident clocks (kind: organization; $WEAKLINK_ORG)")
	cmd.Flags().StringVar(&rulesFile, "rules", "", "rules file or directory overriding the embedded notification rules")
	cmd.Flags().StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	cmd.Flags().StringVar(&tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	cmd.Flags().StringSliceVar(&proxies, "trusted-proxy", nil, "a reverse proxy (address or CIDR) whose X-Forwarded-For names the client (repeatable)")
	cmd.Flags().DurationVar(&shutdown, "shutdown-timeout", 10*time.Second, "how long requests in flight may take to finish on SIGINT or SIGTERM")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "access log format: text or json (on standard error)")
	return cmd
}

// gatewayFlags run the gateway inside another command (serve, demo).
type gatewayFlags struct {
	config, addr string
	allowPrivate bool
	// metrics, when set, are the gateway's (to share with the server's).
	metrics *gateway.Metrics
}

func (f *gatewayFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.config, "gateway-config", "", "also run the gateway in this process, with this configuration (kind: gateway)")
	cmd.Flags().StringVar(&f.addr, "gateway-addr", "", "the in-process gateway's address (default: the configuration's listen, else 127.0.0.1:8787)")
	cmd.Flags().BoolVar(&f.allowPrivate, "allow-private-upstreams", false, "let the in-process gateway send to upstreams on loopback or private addresses (demos with a fake vendor)")
}

// startGateway starts the gateway f names, on its own listener, until ctx
// ends; the channel yields its result once it has stopped and flushed.
func (a *app) startGateway(ctx context.Context, svc *service.Service, log *slog.Logger, f gatewayFlags) (<-chan error, error) {
	g, err := gateway.New(ctx, gateway.Options{ConfigPath: f.config, Service: svc, Logger: log, Now: a.now,
		AllowPrivateUpstreams: f.allowPrivate, Metrics: f.metrics})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", gatewayAddr(f.addr, g))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	log.Info("gateway: listening", "addr", ln.Addr().String(), "config", f.config, "routes", len(g.Config().Routes))
	fmt.Fprintf(a.out, "weaklink gateway listening on http://%s\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- runGateway(ctx, g, ln, nil) }()
	return done, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
