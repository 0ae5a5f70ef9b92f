package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/examples"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/gateway"
	"github.com/weaklink/weaklink/internal/gateway/fakevendor"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/web"
)

// demoPeople are the dashboard users whose traffic the demo replays, and
// where they live: the recorded traffic is one user's (user_8f2a), and
// each gets a copy with their own id.
var demoPeople = []struct{ id, jurisdiction string }{
	{"user_de1", "DE"}, {"user_fr1", "FR"}, {"user_gb1", "GB"}, {"user_ca1", "US-CA"}, {"user_tx1", "US-TX"},
}

func (a *app) demoCmd() *cobra.Command {
	var addr, gatewayAddr string
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo [--addr 127.0.0.1:8080]",
		Short: "Run the web app on a throwaway database with the example company and a live Mixpanel incident",
		Long: `demo shows weaklink end to end on this machine alone. It:

  1. creates a temporary SQLite database and applies the example company
     (acme: 32 vendors, 13 systems, 49 flows), embedded in the binary;
  2. starts a fake Mixpanel on 127.0.0.1 and the gateway in this process;
  3. replays five users' recorded dashboard traffic through the gateway, so
     the ledger holds what "Mixpanel" really received;
  4. opens the Mixpanel incident (the November 2025 breach, replayed with
     today's dates, so the legal clocks are running);
  5. serves the web UI and API on --addr, and prints the URL and a one-time
     admin login.

Ctrl-C stops everything and deletes the temporary directory (--keep keeps
it). Nothing leaves the machine: every listener and upstream is loopback.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("db") || os.Getenv("WEAKLINK_DB") != "" {
				fmt.Fprintln(a.errOut, "weaklink demo: ignoring --db / $WEAKLINK_DB: the demo makes its own temporary database")
			}
			// A closed terminal (SIGHUP) stops the demo too.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			dir, err := os.MkdirTemp("", "weaklink-demo-")
			if err != nil {
				return fmt.Errorf("the demo needs a temporary directory (set TMPDIR to a writable one): %w", err)
			}
			if !keep {
				defer os.RemoveAll(dir)
			}
			log := slog.New(slog.NewTextHandler(a.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
			d, err := StartDemo(ctx, DemoOptions{Dir: dir, Addr: addr, GatewayAddr: gatewayAddr,
				AnyPort: !cmd.Flags().Changed("addr"), Now: a.now, Logger: log})
			if err == nil {
				d.describe(a.out)
				err = d.Wait()
			}
			if keep {
				fmt.Fprintf(a.out, "The demo's files are kept in %s.\n", dir)
			} else {
				fmt.Fprintf(a.out, "Stopped; removed %s.\n", dir)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address of the web UI and API (a free port is used when this one is taken)")
	cmd.Flags().StringVar(&gatewayAddr, "gateway-addr", "127.0.0.1:0", "address of the in-process gateway")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (database, gateway config) after Ctrl-C")
	return cmd
}

// DemoOptions configure StartDemo.
type DemoOptions struct {
	// Dir is where the demo writes the example, its database and the
	// gateway's configuration and spool; the caller removes it.
	Dir string
	// Addr is the web app's address; with AnyPort, a free port on
	// 127.0.0.1 is used when Addr is taken.
	Addr        string
	AnyPort     bool
	GatewayAddr string
	Now         func() time.Time
	Logger      *slog.Logger
}

// Demo is a running `weaklink demo`: the web app, the gateway in the same
// process and a fake Mixpanel behind it, over a database holding the
// example company, the replayed traffic and the open Mixpanel incident.
type Demo struct {
	// URL is the web app's address (http://127.0.0.1:PORT); Password is
	// the one-time password of the user admin.
	URL, Password string
	// Gateway is the gateway's address; Vendor the fake Mixpanel's.
	Gateway, Vendor string
	DB              string
	Incident        string
	// Received counts the requests the fake Mixpanel received.
	Received *atomic.Int64

	done chan error
}

// Wait blocks until the demo has stopped (its context ended) and returns
// why it stopped, nil after a clean shutdown.
func (d *Demo) Wait() error { return <-d.done }

func (d *Demo) describe(w io.Writer) {
	fmt.Fprintf(w, `weaklink demo is running.

  Web UI      %s/
  Log in as   admin
  Password    %s
              (one-time: you will choose your own at the first login)

  Gateway     %s  (/mp/ goes to a fake Mixpanel on %s; %d requests reached it)
  Database    %s
  Incident    %s/incidents/%s

Follow the Mixpanel story: the dashboard, then Vendors → mixpanel (what flows to it
and what the gateway let through), then the incident room (blast radius, legal
clocks, contain, notify). Press Ctrl-C to stop.
`, d.URL, d.Password, d.Gateway, d.Vendor, d.Received.Load(), d.DB, d.URL, d.Incident)
}

// StartDemo sets the demo up in o.Dir and starts serving it; everything
// stops when ctx ends (Wait says when it has).
func StartDemo(ctx context.Context, o DemoOptions) (_ *Demo, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	exampleDir := filepath.Join(o.Dir, "acme")
	sub, err := fs.Sub(examples.Acme, "acme")
	if err != nil {
		return nil, err
	}
	if err := os.CopyFS(exampleDir, sub); err != nil {
		return nil, fmt.Errorf("writing the example: %w", err)
	}
	d := &Demo{DB: filepath.Join(o.Dir, "weaklink.db"), Received: &atomic.Int64{}, done: make(chan error, 1)}
	st, err := OpenStore(ctx, d.DB, o.Now)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() { st.Close() })
	svc := &service.Service{Store: st, Checker: inventory.DefaultChecker(), Now: o.Now}
	// 1. The inventory.
	doc, err := inventory.LoadPaths(exampleDir)
	if err != nil {
		return nil, err
	}
	plan, base, err := svc.Plan(ctx, doc, false)
	if err != nil {
		return nil, err
	}
	if err := svc.ApplyPlan(ctx, base, plan); err != nil {
		return nil, err
	}

	// 2. A fake Mixpanel, and the gateway in front of it.
	vln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	vendor := &http.Server{ReadHeaderTimeout: 5 * time.Second,
		Handler: fakevendor.Handler(func(fakevendor.ReceivedRequest) { d.Received.Add(1) })}
	go func() { _ = vendor.Serve(vln) }()
	cleanup = append(cleanup, func() { vendor.Close() })
	d.Vendor = vln.Addr().String()

	key := make([]byte, 24)
	_, _ = rand.Read(key)
	hashKey := "demo-" + base64.RawURLEncoding.EncodeToString(key)
	cfgPath := filepath.Join(o.Dir, "gateway.yaml")
	if err := exampleGatewayConfig(filepath.Join(exampleDir, "gateway.yaml"), cfgPath, "http://"+vln.Addr().String(), filepath.Join(o.Dir, "spool")); err != nil {
		return nil, err
	}
	lookup := func(k string) (string, bool) {
		if k == "WEAKLINK_HASH_KEY" {
			return hashKey, true
		}
		return "", false
	}
	gctx, stopGateway := context.WithCancel(ctx)
	cleanup = append(cleanup, stopGateway)
	metrics := gateway.NewMetrics()
	g, err := gateway.New(gctx, gateway.Options{ConfigPath: cfgPath, Service: svc, Logger: o.Logger, Now: o.Now,
		LookupEnv: lookup, AllowPrivateUpstreams: true, Metrics: metrics})
	if err != nil {
		return nil, err
	}
	gln, err := net.Listen("tcp", o.GatewayAddr)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	// The web app stops if the gateway does (its listener failed); the
	// store closes only after the gateway has flushed its ledger.
	serveCtx, stopServe := context.WithCancel(ctx)
	cleanup = append(cleanup, stopServe)
	gwErr, gwStopped := make(chan error, 1), make(chan struct{})
	go func() {
		err := runGateway(gctx, g, gln, nil)
		gwErr <- err
		close(gwStopped)
		stopServe()
	}()
	cleanup = append(cleanup, func() { stopGateway(); <-gwStopped })
	d.Gateway = "http://" + gln.Addr().String()

	// 3. Five users' dashboard traffic through the gateway.
	if err := replayDemoTraffic(ctx, d.Gateway, exampleDir); err != nil {
		return nil, err
	}
	if err := g.Ledger().Flush(ctx); err != nil {
		return nil, err
	}
	hash := gateway.NewEngine(g.Config().HashKeyBytes()).Hash
	var rs []store.Residence
	for _, p := range demoPeople {
		rs = append(rs, store.Residence{Subject: hash(p.id), ExternalID: p.id, Jurisdiction: p.jurisdiction})
	}
	if err := svc.Store.PutResidence(ctx, rs); err != nil {
		return nil, err
	}

	// 4. The Mixpanel incident, replayed with today's dates: Mixpanel found
	// the export sixteen days before it told acme, six hours ago.
	now := o.Now().UTC().Truncate(time.Minute)
	told := now.Add(-6 * time.Hour)
	highRisk := false
	in, err := svc.OpenIncident(ctx, incident.Incident{
		Vendor:   "mixpanel",
		Title:    "Mixpanel: analytics dataset exported after an SMS phishing attack",
		Severity: "high", Owner: "privacy@acme.example",
		Notes: "Replay of the November 2025 breach with today's dates: Mixpanel discovered the export on day 0 " +
			"and told acme 16 days later. Nothing in acme's own systems was touched.",
		Categories: []string{"user.name", "user.contact.email", "user.unique_id", "user.contact.organization",
			"user.location.imprecise", "user.device.user_agent", "user.behavior.referrer"},
		ContractNoticeHours: 48,
		HighRisk:            &highRisk,
		Times: map[incident.Anchor]time.Time{
			incident.AnchorVendorDiscovered: told.Add(-16 * 24 * time.Hour),
			incident.AnchorVendorNotified:   told,
			incident.AnchorAware:            told,
			incident.AnchorDatasetReceived:  told,
		},
	}, "demo")
	if err != nil {
		return nil, fmt.Errorf("opening the incident: %w", err)
	}

	// 5. The web app, and a one-time admin login.
	d.Incident = in.ID
	_, password, err := svc.AddUser(ctx, "admin", auth.RoleAdmin, "")
	if err != nil {
		return nil, err
	}
	profile, rules, err := loadOrgAndRules(filepath.Join(exampleDir, "organization.yaml"), "", false)
	if err != nil {
		return nil, err
	}
	d.Password = password
	srv, err := web.New(web.Options{Service: svc, Logins: service.NewLogins(svc.Store, o.Now), Logger: o.Logger, Now: o.Now,
		Profile: profile, Rules: rules, Version: Version, Gatherers: []prometheus.Gatherer{metrics.Registry}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil && o.AnyPort {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // 8080 is taken: any free port
	}
	if err != nil {
		return nil, err
	}
	d.URL = "http://" + ln.Addr().String()
	go func() {
		err := srv.Serve(serveCtx, web.ServeOptions{Listener: ln, ShutdownTimeout: 5 * time.Second})
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		d.done <- errors.Join(err, <-gwErr)
	}()
	return d, nil
}

// exampleGatewayConfig writes the example gateway configuration with its
// upstream on a fake vendor and its spool in a directory of its own (the
// demo's; the tests').
func exampleGatewayConfig(from, to, upstream, spool string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	s := string(b)
	quote := func(v string) string { b, _ := json.Marshal(v); return string(b) } // a YAML double-quoted scalar
	for old, repl := range map[string]string{
		"https://api-js.mixpanel.com": upstream,
		"dir: ./var/spool":            "dir: " + quote(spool),
	} {
		if !strings.Contains(s, old) {
			return fmt.Errorf("%s: no %q to replace", from, old)
		}
		s = strings.ReplaceAll(s, old, repl)
	}
	return os.WriteFile(to, []byte(s), 0o600)
}

// replayDemoTraffic sends each demo user's copy of the recorded dashboard
// traffic (a Mixpanel track and engage request) through the gateway.
func replayDemoTraffic(ctx context.Context, gatewayURL, exampleDir string) error {
	client := &http.Client{Timeout: 10 * time.Second}
	for _, kind := range []string{"track", "engage"} {
		raw, err := os.ReadFile(filepath.Join(exampleDir, "traffic", kind+".form"))
		if err != nil {
			return err
		}
		form, err := url.ParseQuery(strings.TrimSpace(string(raw)))
		if err != nil {
			return fmt.Errorf("traffic/%s.form: %w", kind, err)
		}
		payload, err := base64.StdEncoding.DecodeString(form.Get("data"))
		if err != nil {
			return fmt.Errorf("traffic/%s.form: data: %w", kind, err)
		}
		for _, p := range demoPeople {
			body := url.Values{"data": {base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(string(payload), "user_8f2a", p.id)))}}
			req, err := http.NewRequestWithContext(ctx, "POST", gatewayURL+"/mp/"+kind+"?ip=1", strings.NewReader(body.Encode()))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Chrome/131.0")
			res, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("replaying %s traffic: %w", kind, err)
			}
			res.Body.Close()
			if res.StatusCode/100 != 2 {
				return fmt.Errorf("replaying %s traffic: the gateway answered %s", kind, res.Status)
			}
		}
	}
	return nil
}
