// Package cli is weaklink's command line: cobra commands that parse flags,
// call the service layer and print tables or JSON. It holds no business
// logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres"
	"github.com/weaklink/weaklink/internal/store/sqlite"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// Version is set at build time with -ldflags "-X …/cli.Version=v1.2.3".
var Version = "dev"

// DefaultDB is the database used when neither --db nor $WEAKLINK_DB is set.
const DefaultDB = "./weaklink.db"

type app struct {
	db           string
	taxonomyFile string
	catalogFile  string

	in     io.Reader
	out    io.Writer
	errOut io.Writer
	now    func() time.Time

	store  store.Store
	remote remoteOptions // --server (backend.go)
}

// clock is the time source of every command; tests fix it.
var clock = time.Now

// Main runs the command line and returns the process exit code: 0 on
// success, 1 on any error (printed to stderr), 2 on a usage error.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx = audit.WithActor(ctx, currentUser())
	a := &app{in: in, out: out, errOut: errOut, now: clock}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if a.store != nil {
		a.store.Close()
	}
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(errOut, "weaklink: %v\n", err)
		return 2
	}
	var issues inventory.Issues
	if errors.As(err, &issues) {
		fmt.Fprintln(errOut, sanitize(issues.Error()))
		return 1
	}
	fmt.Fprintf(errOut, "weaklink: %s\n", sanitize(err.Error()))
	return 1
}

type usageError struct{ error }

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "weaklink",
		Short: "Know, limit and watch which vendors hold which data about which people",
		Long: `weaklink keeps an inventory of your vendors, the systems that feed them and the
personal data in each flow, so that when a vendor is breached you know at once
who is affected.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	def := os.Getenv("WEAKLINK_DB")
	if def == "" {
		def = DefaultDB
	}
	root.PersistentFlags().StringVar(&a.db, "db", def, "database: a SQLite file path, or a postgres:// URL ($WEAKLINK_DB)")
	root.PersistentFlags().StringVar(&a.taxonomyFile, "taxonomy", "", "data-category taxonomy file replacing the embedded one")
	root.PersistentFlags().StringVar(&a.catalogFile, "catalog", "", "vendor catalog file replacing the embedded one")
	a.registerRemote(root)
	root.AddCommand(
		a.migrateCmd(), a.applyCmd(), a.exportCmd(), a.importCmd(),
		a.vendorsCmd(), a.systemsCmd(), a.flowsCmd(), a.dataCmd(),
		a.catalogCmd(), a.taxonomyCmd(), a.gatewayCmd(), a.ledgerCmd(),
		a.discoverCmd(), a.driftCmd(), a.incidentCmd(), a.subjectsCmd(), a.auditCmd(),
		a.usersCmd(), a.tokensCmd(), a.serveCmd(), a.demoCmd(),
	)
	return root
}

// checker returns the taxonomy and catalog in force, with file overrides.
func (a *app) checker() (inventory.Checker, error) {
	c := inventory.DefaultChecker()
	if a.taxonomyFile != "" {
		f, err := os.Open(a.taxonomyFile)
		if err != nil {
			return c, err
		}
		defer f.Close()
		if c.Taxonomy, err = taxonomy.Load(f); err != nil {
			return c, fmt.Errorf("%s: %w", a.taxonomyFile, err)
		}
	}
	if a.catalogFile != "" {
		f, err := os.Open(a.catalogFile)
		if err != nil {
			return c, err
		}
		defer f.Close()
		if c.Catalog, err = catalog.Load(f); err != nil {
			return c, fmt.Errorf("%s: %w", a.catalogFile, err)
		}
	}
	return c, nil
}

// OpenStore opens the database a --db value names: a postgres:// URL, or a
// SQLite file path.
func OpenStore(ctx context.Context, db string, now func() time.Time) (store.Store, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db, now)
	}
	if strings.Contains(db, "://") && !strings.HasPrefix(db, "sqlite://") {
		return nil, fmt.Errorf("--db %q: use a SQLite file path or a postgres:// URL", redactURL(db))
	}
	return sqlite.Open(ctx, db, now)
}

// redactURL hides a password in a database URL, for messages.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	creds := u[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return u[:scheme+3] + user + ":xxxxx" + u[at:]
	}
	return u
}

func (a *app) service(ctx context.Context) (*service.Service, error) {
	if a.remote.server != "" {
		return nil, a.notRemote() // never a local database by mistake
	}
	c, err := a.checker()
	if err != nil {
		return nil, err
	}
	if a.store == nil {
		s, err := OpenStore(ctx, a.db, a.now)
		if err != nil {
			return nil, err
		}
		a.store = s
	}
	return &service.Service{Store: a.store, Checker: c, Now: a.now}, nil
}

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (every command also does on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			if err := svc.Store.Migrate(cmd.Context()); err != nil {
				return err
			}
			v, err := svc.Store.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s database at schema version %d\n", svc.Store.Backend(), v)
			return nil
		},
	}
}
