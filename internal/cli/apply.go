package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
)

type planOutput struct {
	DryRun  bool               `json:"dry_run"`
	Applied bool               `json:"applied"`
	Create  int                `json:"create"`
	Update  int                `json:"update"`
	Delete  int                `json:"delete"`
	Changes []inventory.Change `json:"changes"`
}

// edit makes the RunE of a command that changes the inventory: it opens the
// service, runs fn and prints the plan fn applied.
func (a *app) edit(format *string, fn func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		svc, err := a.service(cmd.Context())
		if err != nil {
			return err
		}
		plan, err := fn(cmd.Context(), svc, cmd, args)
		if err != nil {
			return err
		}
		return a.printPlan(*format, plan, false)
	}
}

// planLines caps the object lines of a text plan unless --full-plan is given.
const planLines = 500

func (a *app) printPlan(format string, plan inventory.Plan, dryRun bool) error {
	return a.printPlanLimit(format, plan, dryRun, planLines)
}

func (a *app) printPlanLimit(format string, plan inventory.Plan, dryRun bool, limit int) error {
	applied := !dryRun && !plan.Empty()
	if format == formatJSON {
		c, u, d := plan.Counts()
		changes := plan.Changes
		if changes == nil {
			changes = []inventory.Change{}
		}
		return writeJSON(a.out, planOutput{DryRun: dryRun, Applied: applied, Create: c, Update: u, Delete: d, Changes: changes})
	}
	if err := plan.WriteText(a.out, limit); err != nil {
		return err
	}
	switch {
	case dryRun && !plan.Empty():
		fmt.Fprintln(a.out, "Dry run: nothing was written.")
	case applied:
		fmt.Fprintln(a.out, "Applied.")
	}
	return nil
}

func (a *app) applyCmd() *cobra.Command {
	var files []string
	var dryRun, prune, fullPlan bool
	var format string
	cmd := &cobra.Command{
		Use:   "apply -f FILE_OR_DIR [-f …]",
		Short: "Make the stored inventory match inventory-as-code files",
		Long: `apply reads vendors, systems and flows from YAML or JSON files (a directory
contributes every .yaml, .yml and .json file below it), validates all of it,
prints the plan (create, update, delete, with field diffs) and applies it in
one transaction. Any problem is reported with file:line:column and nothing
is written. Without --prune, stored objects missing from the files are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return usageError{fmt.Errorf("apply needs at least one -f FILE_OR_DIR")}
			}
			doc, err := inventory.LoadPaths(files...)
			if err != nil {
				return err
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			plan, err := b.Apply(cmd.Context(), files, doc, prune, dryRun)
			if err != nil {
				return err
			}
			limit := planLines
			if fullPlan {
				limit = 0
			}
			return a.printPlanLimit(format, plan, dryRun, limit)
		},
	}
	cmd.Flags().BoolVar(&fullPlan, "full-plan", false, fmt.Sprintf("print every change (the text plan stops after %d)", planLines))
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "inventory file or directory (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate and print the plan without writing")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete stored objects that the files do not contain")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) exportCmd() *cobra.Command {
	var format, kind, output string
	var strict bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the inventory as YAML, JSON, CSV or a CycloneDX 1.6 BOM",
		Long: `export writes the stored inventory. YAML is inventory-as-code and JSON adds
store metadata; apply reads either back as a no-op. CSV writes one table
(--kind vendors|systems|flows). CycloneDX writes a 1.6 BOM whose services are
the vendors and systems, with endpoints, trust zones and classified data flows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format == "csv" && !slices.Contains(service.ExportKinds, kind) {
				return usageError{fmt.Errorf("--kind %q: use vendors, systems or flows", kind)}
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			o := service.ExportOptions{Format: format, Strict: strict, Timestamp: a.now().UTC().Truncate(time.Second), ToolVersion: Version}
			if format == "csv" {
				o.Kind = kind
			}
			return a.writeOutput(output, func(w io.Writer) error { return b.Export(cmd.Context(), w, o) })
		},
	}
	formatFlag(cmd, &format, "yaml", "json", "csv", "cyclonedx")
	cmd.Flags().StringVar(&kind, "kind", "vendors", "with --format csv: vendors, systems or flows")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&strict, "strict-fideslang", false, "with --format cyclonedx: export weaklink's extension categories as their upstream fideslang parents")
	return cmd
}

// writeOutput writes to a file (atomically: a temporary file renamed into
// place) or to standard output.
func (a *app) writeOutput(path string, fn func(io.Writer) error) error {
	if path == "" || path == "-" {
		w := bufio.NewWriter(a.out)
		if err := fn(w); err != nil {
			return err
		}
		return w.Flush()
	}
	tmp, err := os.CreateTemp(dirOf(path), ".weaklink-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	if err := fn(w); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' || path[i] == os.PathSeparator {
			return path[:i+1]
		}
	}
	return "."
}

func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import inventories from other formats",
	}
	var dryRun bool
	var format, output string
	csvCmd := &cobra.Command{
		Use:   "csv FILE",
		Short: "Import a spreadsheet vendor list (CSV), mapping columns by header",
		Long: `import csv reads the vendor list most teams keep in a spreadsheet. Columns are
mapped by header (Vendor Name, Website, Service Type, Business Owner, Risk
Tier, Status, …); the report says which headers it could not map and which
rows or cells it skipped. Known vendors are matched to the catalog. Existing
vendors are updated only in the fields the sheet fills. With -o, the result
is written as inventory-as-code YAML instead of into the database.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := a.checker()
			if err != nil {
				return err
			}
			vendors, report, err := inventory.ReadVendorsCSV(f, args[0], c.Catalog)
			if err != nil {
				return err
			}
			if output != "" {
				doc := inventory.FromInventory(inventory.Inventory{Vendors: vendors})
				issues := append(c.Normalize(doc), c.CheckObjects(doc)...)
				if err := issues.Err(); err != nil {
					return err
				}
				if err := a.writeOutput(output, func(w io.Writer) error {
					return inventory.WriteYAML(w, doc.Inventory, "vendors imported from "+args[0])
				}); err != nil {
					return err
				}
				return a.printImport(format, report, nil, output)
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			plan, err := svc.ImportVendors(cmd.Context(), vendors, report.NamedIDs, dryRun)
			if err != nil {
				return err
			}
			if err := a.printImport(format, report, &plan, ""); err != nil {
				return err
			}
			if format == formatTable && dryRun && !plan.Empty() {
				fmt.Fprintln(a.out, "Dry run: nothing was written.")
			}
			return nil
		},
	}
	csvCmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the report and plan without writing")
	csvCmd.Flags().StringVarP(&output, "output", "o", "", "write inventory-as-code YAML to this file instead of the database")
	formatFlag(csvCmd, &format)
	cmd.AddCommand(csvCmd)
	return cmd
}

func (a *app) printImport(format string, report inventory.CSVReport, plan *inventory.Plan, output string) error {
	if format == formatJSON {
		out := struct {
			Report inventory.CSVReport `json:"report"`
			Plan   *inventory.Plan     `json:"plan,omitempty"`
			Output string              `json:"output,omitempty"`
		}{report, plan, output}
		return writeJSON(a.out, out)
	}
	fmt.Fprintf(a.out, "Read %d rows, %d vendors.\n", report.Rows, report.Imported)
	var rows [][]string
	for header, field := range report.Columns {
		rows = append(rows, []string{header, field})
	}
	sortRows(rows)
	if len(rows) > 0 {
		fmt.Fprintln(a.out, "\nColumns mapped:")
		if err := table(a.out, []string{"HEADER", "FIELD"}, rows); err != nil {
			return err
		}
	}
	if len(report.Unmapped) > 0 {
		fmt.Fprintf(a.out, "\nColumns not mapped (ignored): %s\n", sanitize(join(report.Unmapped)))
	}
	if len(report.Problems) > 0 {
		fmt.Fprintln(a.out, "\nSkipped:")
		for _, p := range report.Problems {
			col := ""
			if p.Column != "" {
				col = " [" + p.Column + "]"
			}
			fmt.Fprintf(a.out, "  line %d%s: %s\n", p.Line, sanitize(col), sanitize(p.Message))
		}
	}
	if output != "" {
		fmt.Fprintf(a.out, "\nWrote %s.\n", output)
		return nil
	}
	if plan != nil {
		fmt.Fprintln(a.out)
		return plan.WriteText(a.out, 0)
	}
	return nil
}
