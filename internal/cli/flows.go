package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

func flowTable(a *app, flows []inventory.Flow) error {
	rows := make([][]string, 0, len(flows))
	for _, f := range flows {
		rows = append(rows, []string{f.ID, f.System, f.Vendor, f.Purpose, f.Source, strings.Join(f.Categories, " ")})
	}
	return table(a.out, []string{"ID", "SYSTEM", "VENDOR", "PURPOSE", "SOURCE", "CATEGORIES"}, rows)
}

func (a *app) flowsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "flows", Aliases: []string{"flow"}, Short: "List, show and edit data flows from systems to vendors"}

	var format string
	var filter store.FlowFilter
	list := &cobra.Command{
		Use:   "list",
		Short: "List flows",
		Long: `flows list prints data flows, optionally only those to a vendor, from a system,
of a source, or carrying a data category. --category follows the taxonomy:
user.contact finds flows of user.contact.email, and user.contact.email finds
flows that declared all of user.contact.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			// (A server checks --category against its own taxonomy.)
			if l, local := b.(localBackend); local && filter.Category != "" {
				if err := l.svc.Checker.Taxonomy.Check(filter.Category); err != nil {
					return usageError{fmt.Errorf("--category: %w", err)}
				}
			}
			flows, err := b.ListFlows(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if format == formatJSON {
				if flows == nil {
					flows = []inventory.Flow{}
				}
				return writeJSON(a.out, flows)
			}
			return flowTable(a, flows)
		},
	}
	list.Flags().StringVar(&filter.Vendor, "vendor", "", "only flows to this vendor")
	list.Flags().StringVar(&filter.System, "system", "", "only flows from this system")
	list.Flags().StringVar(&filter.Category, "category", "", "only flows carrying this data category (or one above or below it)")
	list.Flags().StringVar(&filter.Source, "source", "", "only flows from this source: "+join(inventory.Sources))
	formatFlag(list, &format)

	var showFormat string
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a flow",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			f, err := b.GetFlow(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if showFormat == formatJSON {
				return writeJSON(a.out, f)
			}
			rows := [][]string{{"id", f.ID}, {"system", f.System}, {"vendor", f.Vendor},
				{"categories", join(f.Categories)}, {"subjects", join(f.Subjects)}, {"purpose", f.Purpose},
				{"legal basis", f.LegalBasis}, {"estimated subjects", fmt.Sprint(f.EstimatedSubjects)}, {"source", f.Source},
				{"description", f.Description}}
			if f.FirstSeen != nil {
				rows = append(rows, []string{"first seen", f.FirstSeen.Format("2006-01-02 15:04:05Z07:00")})
			}
			if f.LastSeen != nil {
				rows = append(rows, []string{"last seen", f.LastSeen.Format("2006-01-02 15:04:05Z07:00")})
			}
			for _, e := range f.Evidence {
				rows = append(rows, []string{"evidence", e.Kind + ": " + e.Ref + " " + e.Detail})
			}
			return table(a.out, []string{"FIELD", "VALUE"}, rows)
		},
	}
	formatFlag(show, &showFormat)

	var nf inventory.Flow
	var addFormat string
	add := &cobra.Command{
		Use:     "add",
		Short:   "Declare a flow",
		Example: `  weaklink flows add --system platform-dashboard --vendor mixpanel --category user.contact.email --category user.name --purpose analytics`,
		Args:    cobra.NoArgs,
		RunE: a.edit(&addFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			return svc.AddFlow(ctx, nf)
		}),
	}
	add.Flags().StringVar(&nf.ID, "id", "", "flow id (default SYSTEM.VENDOR)")
	add.Flags().StringVar(&nf.System, "system", "", "sending system id (required)")
	add.Flags().StringVar(&nf.Vendor, "vendor", "", "receiving vendor id (required)")
	add.Flags().StringSliceVar(&nf.Categories, "category", nil, "data category (repeatable)")
	add.Flags().StringSliceVar(&nf.Subjects, "subject", nil, "data subjects: "+join(inventory.DataSubjects))
	add.Flags().StringVar(&nf.Purpose, "purpose", "", "one of "+join(inventory.Purposes))
	add.Flags().StringVar(&nf.LegalBasis, "legal-basis", "", "one of "+join(inventory.LegalBases))
	add.Flags().Int64Var(&nf.EstimatedSubjects, "estimated-subjects", 0, "how many people's data the flow carries")
	add.Flags().StringVar(&nf.Description, "description", "", "what the flow is for")
	formatFlag(add, &addFormat)

	var rmFormat string
	rm := &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a flow",
		Args:  cobra.ExactArgs(1),
		RunE: a.edit(&rmFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			return svc.RemoveFlow(ctx, args[0])
		}),
	}
	formatFlag(rm, &rmFormat)

	cmd.AddCommand(list, show, add, rm)
	return cmd
}
