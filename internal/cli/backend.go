package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// backend is what the commands that work both on a database and against a
// server (--server) need. localBackend calls the service over the
// database; remote (remote.go) calls the HTTP API. Both answer in the same
// Go types, so the commands print the same tables and JSON either way.
type backend interface {
	ListVendors(ctx context.Context, f store.VendorFilter) ([]inventory.Vendor, error)
	VendorDetail(ctx context.Context, id string) (service.VendorDetail, error)
	BlockVendor(ctx context.Context, id, reason string) (store.Block, error)
	UnblockVendor(ctx context.Context, id string) error
	ListSystems(ctx context.Context) ([]inventory.System, error)
	SystemDetail(ctx context.Context, id string) (service.SystemDetail, error)
	ListFlows(ctx context.Context, f store.FlowFilter) ([]inventory.Flow, error)
	GetFlow(ctx context.Context, id string) (inventory.Flow, error)
	WhoHas(ctx context.Context, category string) (service.WhoHas, error)
	LedgerSummary(ctx context.Context, vendor string) (store.LedgerSummary, error)
	// Export writes the inventory as `export` prints it. Remotely, the
	// server's clock and version stamp a CycloneDX BOM.
	Export(ctx context.Context, w io.Writer, o service.ExportOptions) error
	// Apply plans doc, read from paths by inventory.LoadPaths, against the
	// stored inventory and, unless dryRun, applies the plan.
	Apply(ctx context.Context, paths []string, doc *inventory.Document, prune, dryRun bool) (inventory.Plan, error)

	ListIncidents(ctx context.Context, f store.IncidentFilter) ([]incident.Incident, error)
	IncidentView(ctx context.Context, ref string) (service.IncidentView, error)
	OpenIncident(ctx context.Context, in incident.Incident) (incident.Incident, error)
	ChangeIncident(ctx context.Context, ref string, ch incidentChange) (incident.Incident, error)
	Contain(ctx context.Context, ref, reason string, block []string) (*service.Containment, error)
	// BlastRadius computes an incident's blast radius, streaming the
	// affected people to emit, and notes it on the timeline (locally; a
	// GET changes nothing).
	BlastRadius(ctx context.Context, ref string, emit func(incident.Affected) error) (*incident.BlastRadius, error)
	// Clocks computes an incident's legal clocks. Remotely the server's
	// organization profile and rules apply, and rules and p are unused.
	Clocks(ctx context.Context, ref string, rules *incident.Rules, p incident.Profile) (*service.ClockReport, error)

	// Audit reads at most limit entries (0: all) matching f, oldest first.
	Audit(ctx context.Context, f store.AuditFilter, limit int) ([]audit.Entry, error)
	VerifyAudit(ctx context.Context) (service.AuditReport, error)

	Users(ctx context.Context) ([]auth.User, error)
	AddUser(ctx context.Context, name string, role auth.Role, p service.AdminPassword) (service.UserWithPassword, error)
	// UpdateUser changes a user's role, its disabled flag, or both.
	UpdateUser(ctx context.Context, name string, role *auth.Role, disabled *bool) (auth.User, error)
	RemoveUser(ctx context.Context, name string) error
	Tokens(ctx context.Context, user string) ([]auth.Token, error)
	// CreateToken makes a token; expires is the lifetime as the user gave
	// it (r.Lifetime parsed), for the API.
	CreateToken(ctx context.Context, r service.TokenRequest, expires string) (service.TokenWithSecret, error)
	RevokeToken(ctx context.Context, id string) error
}

// incidentChange is one change to an incident, in the two forms the
// backends take: a function of the current incident (local, inside the
// service's retry loop) and a JSON merge patch (PATCH /api/v1/incidents).
type incidentChange struct {
	apply func(*incident.Incident) error
	patch map[string]any
	// kind and message are the timeline event of the change: updated, or
	// closed when the status becomes closed (as the API chooses).
	kind, message string
	// note is a separate note event.
	note string
}

// backend returns the backend the command runs on: the server given with
// --server, else the database.
func (a *app) backend(ctx context.Context) (backend, error) {
	if a.remote.client != nil {
		return a.remote.client, nil
	}
	svc, err := a.service(ctx)
	if err != nil {
		return nil, err
	}
	return localBackend{svc: svc, now: a.now}, nil
}

// localBackend runs commands on the database, as the operating-system user.
type localBackend struct {
	svc *service.Service
	now func() time.Time
}

func (l localBackend) ListVendors(ctx context.Context, f store.VendorFilter) ([]inventory.Vendor, error) {
	return l.svc.Store.ListVendors(ctx, f)
}

func (l localBackend) VendorDetail(ctx context.Context, id string) (service.VendorDetail, error) {
	return l.svc.VendorDetail(ctx, id)
}

func (l localBackend) BlockVendor(ctx context.Context, id, reason string) (store.Block, error) {
	return l.svc.BlockVendor(ctx, id, reason, currentUser())
}

func (l localBackend) UnblockVendor(ctx context.Context, id string) error {
	return l.svc.Store.UnblockVendor(ctx, id)
}

func (l localBackend) ListSystems(ctx context.Context) ([]inventory.System, error) {
	return l.svc.Store.ListSystems(ctx)
}

func (l localBackend) SystemDetail(ctx context.Context, id string) (service.SystemDetail, error) {
	return l.svc.SystemDetail(ctx, id)
}

func (l localBackend) ListFlows(ctx context.Context, f store.FlowFilter) ([]inventory.Flow, error) {
	return l.svc.Store.ListFlows(ctx, f)
}

func (l localBackend) GetFlow(ctx context.Context, id string) (inventory.Flow, error) {
	return l.svc.Store.GetFlow(ctx, id)
}

func (l localBackend) WhoHas(ctx context.Context, category string) (service.WhoHas, error) {
	return l.svc.WhoHas(ctx, category)
}

func (l localBackend) LedgerSummary(ctx context.Context, vendor string) (store.LedgerSummary, error) {
	return l.svc.Store.LedgerSummary(ctx, vendor)
}

func (l localBackend) Export(ctx context.Context, w io.Writer, o service.ExportOptions) error {
	return l.svc.Export(ctx, w, o)
}

func (l localBackend) Apply(ctx context.Context, _ []string, doc *inventory.Document, prune, dryRun bool) (inventory.Plan, error) {
	plan, base, err := l.svc.Plan(ctx, doc, prune)
	if err != nil || dryRun || plan.Empty() {
		return plan, err
	}
	return plan, l.svc.ApplyPlan(ctx, base, plan)
}

func (l localBackend) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]incident.Incident, error) {
	return l.svc.Store.ListIncidents(ctx, f)
}

func (l localBackend) IncidentView(ctx context.Context, ref string) (service.IncidentView, error) {
	return l.svc.IncidentView(ctx, ref)
}

func (l localBackend) OpenIncident(ctx context.Context, in incident.Incident) (incident.Incident, error) {
	return l.svc.OpenIncident(ctx, in, currentUser())
}

func (l localBackend) ChangeIncident(ctx context.Context, ref string, ch incidentChange) (incident.Incident, error) {
	var extra []incident.Event
	if ch.note != "" {
		extra = append(extra, l.svc.NoteEvent(currentUser(), ch.note))
	}
	return l.svc.ChangeIncident(ctx, ref, currentUser(), ch.kind, ch.message, ch.apply, extra...)
}

func (l localBackend) Contain(ctx context.Context, ref, reason string, block []string) (*service.Containment, error) {
	return l.svc.Contain(ctx, ref, currentUser(), reason, block)
}

func (l localBackend) BlastRadius(ctx context.Context, ref string, emit func(incident.Affected) error) (*incident.BlastRadius, error) {
	in, err := l.svc.FindIncident(ctx, ref)
	if err != nil {
		return nil, err
	}
	b, err := l.svc.BlastRadius(ctx, &in, emit)
	if err != nil {
		return nil, err
	}
	_, err = l.svc.Note(ctx, in.ID, currentUser(), "blast-radius",
		fmt.Sprintf("blast radius: %d people, categories %s", b.Subjects, join(b.Exposed)))
	return b, err
}

func (l localBackend) Clocks(ctx context.Context, ref string, rules *incident.Rules, p incident.Profile) (*service.ClockReport, error) {
	in, err := l.svc.FindIncident(ctx, ref)
	if err != nil {
		return nil, err
	}
	return l.svc.Clocks(ctx, &in, rules, p)
}

func (l localBackend) Audit(ctx context.Context, f store.AuditFilter, limit int) ([]audit.Entry, error) {
	entries := []audit.Entry{}
	errStop := errors.New("stop")
	err := l.svc.Store.ScanAudit(ctx, f, func(e audit.Entry) error {
		if limit > 0 && len(entries) >= limit {
			return errStop
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return entries, nil
}

func (l localBackend) VerifyAudit(ctx context.Context) (service.AuditReport, error) {
	return l.svc.VerifyAudit(ctx)
}

func (l localBackend) Users(ctx context.Context) ([]auth.User, error) { return l.svc.Users(ctx) }

func (l localBackend) AddUser(ctx context.Context, name string, role auth.Role, p service.AdminPassword) (service.UserWithPassword, error) {
	u, generated, err := l.svc.AddUserWith(ctx, name, role, p)
	return service.UserWithPassword{User: u, Password: generated}, err
}

func (l localBackend) UpdateUser(ctx context.Context, name string, role *auth.Role, disabled *bool) (auth.User, error) {
	var u auth.User
	var err error
	if role != nil {
		if u, err = l.svc.SetRole(ctx, name, *role); err != nil {
			return u, err
		}
	}
	if disabled != nil {
		u, err = l.svc.SetDisabled(ctx, name, *disabled)
	}
	return u, err
}

func (l localBackend) RemoveUser(ctx context.Context, name string) error {
	return l.svc.RemoveUser(ctx, name)
}

func (l localBackend) Tokens(ctx context.Context, user string) ([]auth.Token, error) {
	return l.svc.Tokens(ctx, user)
}

func (l localBackend) CreateToken(ctx context.Context, r service.TokenRequest, _ string) (service.TokenWithSecret, error) {
	t, sec, err := l.svc.CreateToken(ctx, r)
	if err != nil {
		return service.TokenWithSecret{}, err
	}
	return service.TokenWithSecret{Token: t, Secret: sec.Reveal()}, nil
}

func (l localBackend) RevokeToken(ctx context.Context, id string) error {
	return l.svc.RevokeToken(ctx, id)
}

// How each command behaves with --server: it works through the API
// (remoteCommands), it needs no database and runs as always
// (localCommands), or it needs the database and the API cannot do it, so
// it refuses (everything else, such as the refusedCommands). A test checks
// that every command is in one of the three lists.
var (
	remoteCommands = setOf(
		"apply", "export",
		"vendors list", "vendors show", "vendors block", "vendors unblock",
		"systems list", "systems show", "flows list", "flows show",
		"data who-has", "ledger",
		"incident list", "incident show", "incident open", "incident update", "incident close",
		"incident contain", "incident blast-radius", "incident clocks",
		"audit list", "audit verify",
		"users list", "users add", "users set-role", "users disable", "users enable", "users rm",
		"tokens list", "tokens create", "tokens revoke",
		"gateway", // with its own client of the gateway API (gateway_remote.go)
	)
	localCommands = setOf(
		"catalog search", "catalog show", "taxonomy list",
		"gateway explain", "gateway fake-vendor",
		"demo", // it makes its own database and server
	)
	refusedCommands = setOf(
		"migrate", "serve", "discover", "drift",
		"import csv", "subjects import",
		"vendors add", "vendors set", "vendors rm", "systems add", "systems set", "systems rm",
		"flows add", "flows rm", "incident notify", "users passwd",
		"users link-sso", "users unlink-sso", "users sso",
	)
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// commandName is a command's path without the program's name: "vendors list".
func commandName(cmd *cobra.Command) string {
	_, name, _ := strings.Cut(cmd.CommandPath(), " ")
	return name
}

// remoteOptions are the global flags that point the command line at a
// server, and the client they make.
type remoteOptions struct {
	server   string
	insecure bool
	// command is the command that runs, for messages.
	command string
	client  *remote
}

// registerRemote adds --server and --insecure-http to root, and a hook
// that picks the backend before any command runs.
func (a *app) registerRemote(root *cobra.Command) {
	root.PersistentFlags().StringVar(&a.remote.server, "server", os.Getenv("WEAKLINK_SERVER"),
		"work through a weaklink server's API at this https:// URL instead of a database ($WEAKLINK_SERVER); the API token comes from $WEAKLINK_TOKEN")
	root.PersistentFlags().BoolVar(&a.remote.insecure, "insecure-http", false,
		"allow an http:// --server that is not on this machine (the token then crosses the network in clear)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return a.selectBackend(cmd) }
}

// selectBackend checks --server against the command and --db, and makes
// the API client.
func (a *app) selectBackend(cmd *cobra.Command) error {
	a.remote.command = commandName(cmd)
	flags := cmd.Flags()
	serverGiven, dbGiven := flags.Changed("server"), flags.Changed("db")
	if dbGiven && !serverGiven {
		a.remote.server = "" // a flag beats $WEAKLINK_SERVER
	}
	if serverGiven && strings.TrimSpace(a.remote.server) == "" {
		// An empty variable in a script must not quietly mean "the local
		// database".
		return usageError{errors.New("--server is empty: give the server's URL, or leave --server out to use a database (--db)")}
	}
	if a.remote.server == "" {
		return nil
	}
	if dbGiven {
		return usageError{errors.New("--server and --db exclude each other: --server works through a weaklink server's API, --db on a database")}
	}
	name := a.remote.command
	if localCommands[name] || name == "help" || strings.HasPrefix(name, "completion") || strings.HasPrefix(name, "__complete") {
		return nil
	}
	if !serverGiven && os.Getenv("WEAKLINK_DB") != "" {
		return usageError{errors.New("$WEAKLINK_SERVER and $WEAKLINK_DB are both set: choose with --server URL or --db DB")}
	}
	if !remoteCommands[name] {
		return a.notRemote()
	}
	token, ok := os.LookupEnv("WEAKLINK_TOKEN")
	token = strings.TrimSpace(token)
	if !ok || token == "" {
		return usageError{errors.New("--server needs an API token in $WEAKLINK_TOKEN (from 'weaklink tokens create'); it is not taken as a flag, which would land in shell history and ps")}
	}
	c, err := newRemote(a.remote.server, token, a.remote.insecure)
	if err != nil {
		return err
	}
	a.remote.client = c
	return nil
}

// notRemote is the refusal of a command that needs the database.
func (a *app) notRemote() error {
	return usageError{fmt.Errorf("%s: not available with --server (run it where the database is)", a.remote.command)}
}

// patch is the JSON merge patch of the flags given: a value sets a field,
// null clears it (an empty --window-from, --high-risk unknown, an empty
// anchor flag), as applyTo would change the incident.
func (f *incidentFlags) patch(cmd *cobra.Command) (map[string]any, error) {
	var in incident.Incident
	if err := f.applyTo(cmd, &in); err != nil {
		return nil, err
	}
	fl := cmd.Flags()
	p := map[string]any{}
	set := func(flag, field string, v any) {
		if fl.Changed(flag) {
			p[field] = v
		}
	}
	orNull := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t
	}
	set("vendor", "vendor", in.Vendor)
	set("title", "title", in.Title)
	set("severity", "severity", in.Severity)
	set("owner", "owner", in.Owner)
	set("notes", "notes", in.Notes)
	set("status", "status", in.Status)
	set("category", "categories", in.Categories)
	set("system", "systems", in.Systems)
	set("window-from", "window_from", orNull(in.WindowFrom))
	set("window-to", "window_to", orNull(in.WindowTo))
	set("contract-notice", "contract_notice_hours", in.ContractNoticeHours)
	set("high-risk", "high_risk", in.HighRisk)
	set("material", "material", in.Material)
	times := map[incident.Anchor]any{}
	for _, a := range settableAnchors {
		if fl.Changed(anchorFlag(a)) {
			times[a] = orNull(in.Times[a])
		}
	}
	if len(times) > 0 {
		p["times"] = times
	}
	return p, nil
}
