package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weaklink/weaklink/internal/discover"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// errCheckFailed makes discover --check exit 1 after printing its findings.
type checkFailed struct{ n int }

func (c checkFailed) Error() string {
	return fmt.Sprintf("discover --check: %d finding(s) not approved by the inventory", c.n)
}

type discoverFlags struct {
	har            []string
	format         string
	output         string
	against        bool
	record         bool
	check          bool
	baseline       string
	writeBaseline  string
	systems        []string
	config         string
	firstParty     []string
	includeVendor  bool
	includeLocks   bool
	noGitignore    bool
	maxFileSize    int64
	quiet          bool
	exclude        []string
	baselineReason string
}

func (a *app) discoverCmd() *cobra.Command {
	var f discoverFlags
	cmd := &cobra.Command{
		Use:   "discover [PATH...]",
		Short: "Find vendors and the personal data sent to them in code, manifests and browser captures",
		Long: `discover scans source trees (dependency manifests and lock files, source code in
JavaScript/TypeScript, Python, Go, Ruby, Java/Kotlin, PHP and Swift, HTML
snippets, CSP headers, Terraform, Kubernetes, docker-compose and env files) and
HAR browser captures (--har) for vendors, and classifies the data elements sent
to them into taxonomy categories.

--against-inventory compares the findings with the stored inventory: new
vendors, unapproved vendors, new categories on a flow, declared flows without
evidence. --record writes discovered flows (source: discovered) with their
evidence. --check is the CI gate: it exits 1 when a vendor or data category
appears that the inventory has not approved, one line per problem; --baseline
accepts known findings.

Directories map to inventory systems with --system DIR=SYSTEM or a config file
(kind: discover, systems: [{path, system}]).`,
		Example: `  weaklink discover .
  weaklink discover apps/ --system apps/dashboard=platform-dashboard --against-inventory
  weaklink discover --har capture.har --format json
  weaklink discover . --check --baseline .weaklink-baseline.yaml --format sarif -o weaklink.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDiscover(cmd.Context(), args, f, false)
		},
	}
	addDiscoverFlags(cmd, &f)
	return cmd
}

func (a *app) driftCmd() *cobra.Command {
	var f discoverFlags
	cmd := &cobra.Command{
		Use:   "drift [PATH...]",
		Short: "Compare what discovery finds with the inventory (discover --against-inventory)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDiscover(cmd.Context(), args, f, true)
		},
	}
	addDiscoverFlags(cmd, &f)
	return cmd
}

func addDiscoverFlags(cmd *cobra.Command, f *discoverFlags) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.har, "har", nil, "HAR 1.2 browser capture to read (repeatable)")
	fl.StringVar(&f.format, "format", "table", "output format: "+strings.Join(discover.Formats, "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	fl.BoolVar(&f.against, "against-inventory", false, "compare the findings with the stored inventory")
	fl.BoolVar(&f.record, "record", false, "write discovered flows and proposed vendors into the inventory")
	fl.BoolVar(&f.check, "check", false, "exit 1 when a vendor or category is not approved by the inventory")
	fl.StringVar(&f.baseline, "baseline", "", "baseline file of accepted findings (with --check)")
	fl.StringVar(&f.writeBaseline, "write-baseline", "", "write a baseline accepting every current finding to this file")
	fl.StringVar(&f.baselineReason, "baseline-reason", "accepted when the baseline was written", "reason recorded with --write-baseline")
	fl.StringArrayVar(&f.systems, "system", nil, "map a directory to an inventory system: DIR=SYSTEM (repeatable)")
	fl.StringVar(&f.config, "config", "", "discovery config file (kind: discover)")
	fl.StringArrayVar(&f.firstParty, "first-party", nil, "your own registrable domain, never a vendor (repeatable)")
	fl.BoolVar(&f.includeVendor, "include-vendored", false, "also scan node_modules, vendor/, dist/, build/, minified and generated files")
	fl.BoolVar(&f.includeLocks, "include-locks", false, "report packages that only lock files name (transitive dependencies)")
	fl.BoolVar(&f.noGitignore, "no-gitignore", false, "scan files that .gitignore ignores")
	fl.Int64Var(&f.maxFileSize, "max-file-size", discover.DefaultMaxFileSize, "skip files larger than this many bytes")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress output")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "gitignore-style pattern of paths not to scan (repeatable)")
}

func (a *app) runDiscover(ctx context.Context, paths []string, f discoverFlags, against bool) error {
	if !slices.Contains(discover.Formats, f.format) {
		return usageError{fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(discover.Formats, ", "))}
	}
	if len(paths) == 0 && len(f.har) == 0 {
		paths = []string{"."}
	}
	opts := discover.Options{IncludeVendored: f.includeVendor, IncludeLocks: f.includeLocks,
		NoGitignore: f.noGitignore, MaxFileSize: f.maxFileSize, Exclude: f.exclude}
	firstParty := slices.Clone(f.firstParty)
	if f.config != "" {
		c, err := discover.LoadConfig(f.config)
		if err != nil {
			return err
		}
		opts.Systems = append(opts.Systems, c.Systems...)
		firstParty = append(firstParty, c.FirstParty...)
		if f.baseline == "" {
			f.baseline = c.Baseline
		}
	}
	for _, s := range f.systems {
		sp, err := discover.ParseSystemFlag(s)
		if err != nil {
			return usageError{err}
		}
		opts.Systems = append(opts.Systems, sp)
	}
	if !f.quiet && isTerminal(a.errOut) && os.Getenv("CI") == "" {
		opts.Progress = func(p discover.Progress) {
			if p.Done {
				fmt.Fprintf(a.errOut, "\r\x1b[Kscanned %d files, %d findings\n", p.Files, p.Findings)
				return
			}
			fmt.Fprintf(a.errOut, "\r\x1b[Kscanning: %d files, %d findings", p.Files, p.Findings)
		}
	}
	chk, err := a.checker()
	if err != nil {
		return err
	}
	cls := taxonomy.DefaultClassifier()
	if a.taxonomyFile != "" {
		cls = taxonomy.NewClassifier(chk.Taxonomy)
	}
	sc := discover.NewScanner(chk.Catalog, cls, firstParty, opts)
	report := &discover.Report{}
	if len(paths) > 0 {
		if report, err = sc.Scan(ctx, paths); err != nil {
			return err
		}
	}
	if len(f.har) > 0 {
		hs := &discover.HARScanner{Vendors: sc.Vendors, Classifier: cls}
		for _, h := range f.har {
			fs, err := scanHARFile(hs, h)
			if err != nil {
				return err
			}
			report.Stats.Captures++
			report.Findings = append(report.Findings, fs...)
		}
		discover.SortFindings(report.Findings)
		report.Vendors = discover.Summarize(report.Findings)
	}

	// A baseline accepts drift, which needs the inventory to compare with.
	needInventory := against || f.against || f.check || f.record || f.writeBaseline != ""
	if needInventory {
		svc, err := a.service(ctx)
		if err != nil {
			return err
		}
		snap, err := svc.Store.Snapshot(ctx)
		if err != nil {
			return err
		}
		var scanned []string
		for _, s := range opts.Systems {
			scanned = append(scanned, s.System)
		}
		report.Drift = discover.Reconcile(&snap.Inventory, report, scanned)
		if f.baseline != "" {
			b, err := discover.LoadBaseline(f.baseline)
			if err != nil {
				return err
			}
			b.Apply(report.Drift)
		}
		if f.record {
			var res discover.RecordResult
			_, err := svc.Edit(ctx, func(inv *inventory.Inventory) error {
				res = discover.Record(inv, report, chk.Catalog, a.now())
				return nil
			})
			if err != nil {
				return fmt.Errorf("record: %w", err)
			}
			fmt.Fprintf(a.errOut, "recorded %d discovered flow(s) and %d proposed vendor(s)", len(res.Flows), len(res.Vendors))
			if res.NoSystem > 0 {
				fmt.Fprintf(a.errOut, "; %d finding(s) belong to no inventory system (map directories with --system DIR=SYSTEM)", res.NoSystem)
			}
			fmt.Fprintln(a.errOut)
		}
		if f.writeBaseline != "" {
			nb := discover.NewBaseline(report.Drift, f.baselineReason, a.now())
			if err := a.writeOutput(f.writeBaseline, nb.Write); err != nil {
				return err
			}
			// What it accepts is accepted in this run's check too.
			nb.Apply(report.Drift)
		}
	}
	if err := a.writeOutput(f.output, func(w io.Writer) error {
		return discover.WriteReport(w, f.format, report, Version)
	}); err != nil {
		return err
	}
	if f.check {
		failing := report.Drift.Failing()
		if f.format != "table" || f.output != "" {
			// The report went elsewhere or is machine-readable: the
			// actionable lines go to stderr.
			for _, it := range failing {
				fmt.Fprintln(a.errOut, sanitize(checkLine(it)))
			}
		}
		if len(failing) > 0 {
			return checkFailed{len(failing)}
		}
	}
	return nil
}

// checkLine is one actionable line of the CI gate.
func checkLine(it discover.DriftItem) string {
	where := ""
	if len(it.Evidence) > 0 {
		where = it.Evidence[0].Ref() + ": "
	}
	return where + it.Kind + ": " + it.Message
}

func scanHARFile(hs *discover.HARScanner, path string) ([]discover.Finding, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return hs.ScanHAR(path, fh)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
