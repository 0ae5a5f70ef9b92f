package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

func sortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "\x00") < strings.Join(rows[j], "\x00") })
}

// editFlags are the flags of add and set for list-valued fields.
type listEdit struct {
	set, add, remove []string
}

func (l *listEdit) register(cmd *cobra.Command, name, what string) {
	cmd.Flags().StringSliceVar(&l.set, name, nil, what+" (replaces the list; repeatable or comma-separated)")
	cmd.Flags().StringSliceVar(&l.add, "add-"+name, nil, "add to "+what)
	cmd.Flags().StringSliceVar(&l.remove, "remove-"+name, nil, "remove from "+what)
}

func (l *listEdit) apply(cmd *cobra.Command, name string, list []string) []string {
	if cmd.Flags().Changed(name) {
		list = slices.Clone(l.set)
	}
	list = append(list, l.add...)
	return slices.DeleteFunc(list, func(s string) bool { return slices.Contains(l.remove, s) })
}

type vendorFlags struct {
	name, legalEntity, website, category, owner, status, criticality, description, catalog string
	domains, tags, subprocessors                                                           listEdit
}

func (f *vendorFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "name", "", "display name")
	cmd.Flags().StringVar(&f.legalEntity, "legal-entity", "", "legal entity that contracts with you")
	cmd.Flags().StringVar(&f.website, "website", "", "https URL")
	cmd.Flags().StringVar(&f.category, "category", "", "one of "+join(inventory.VendorCategories))
	cmd.Flags().StringVar(&f.owner, "owner", "", "business owner")
	cmd.Flags().StringVar(&f.status, "status", "", "one of "+join(inventory.VendorStatuses))
	cmd.Flags().StringVar(&f.criticality, "criticality", "", "one of "+join(inventory.Criticalities))
	cmd.Flags().StringVar(&f.description, "description", "", "what the vendor does for you")
	cmd.Flags().StringVar(&f.catalog, "catalog", "", "catalog entry to fill details from (see: weaklink catalog search)")
	f.domains.register(cmd, "domain", "registrable domains and ingest hosts")
	f.tags.register(cmd, "tag", "tags")
	f.subprocessors.register(cmd, "subprocessor", "subprocessor vendor ids")
}

func (f *vendorFlags) applyTo(cmd *cobra.Command, v *inventory.Vendor) {
	str := map[string]*string{
		"name": &v.Name, "legal-entity": &v.LegalEntity, "website": &v.Website, "category": &v.Category,
		"owner": &v.Owner, "status": &v.Status, "criticality": &v.Criticality, "description": &v.Description, "catalog": &v.Catalog,
	}
	val := map[string]string{
		"name": f.name, "legal-entity": f.legalEntity, "website": f.website, "category": f.category, "owner": f.owner,
		"status": f.status, "criticality": f.criticality, "description": f.description, "catalog": f.catalog,
	}
	for flag, dst := range str {
		if cmd.Flags().Changed(flag) {
			*dst = val[flag]
		}
	}
	v.Domains = f.domains.apply(cmd, "domain", v.Domains)
	v.Tags = f.tags.apply(cmd, "tag", v.Tags)
	v.Subprocessors = f.subprocessors.apply(cmd, "subprocessor", v.Subprocessors)
}

func (a *app) vendorsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "vendors", Aliases: []string{"vendor"}, Short: "List, show and edit vendors"}

	var format string
	var filter store.VendorFilter
	list := &cobra.Command{
		Use:   "list",
		Short: "List vendors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			vendors, err := b.ListVendors(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if format == formatJSON {
				if vendors == nil {
					vendors = []inventory.Vendor{}
				}
				return writeJSON(a.out, vendors)
			}
			rows := make([][]string, 0, len(vendors))
			for _, v := range vendors {
				rows = append(rows, []string{v.ID, v.Name, v.Category, v.Status, v.Criticality, v.Owner, join(v.Subprocessors)})
			}
			return table(a.out, []string{"ID", "NAME", "CATEGORY", "STATUS", "CRITICALITY", "OWNER", "SUBPROCESSORS"}, rows)
		},
	}
	list.Flags().StringVar(&filter.Status, "status", "", "only vendors with this lifecycle status")
	list.Flags().StringVar(&filter.Category, "category", "", "only vendors in this category")
	list.Flags().StringVar(&filter.Tag, "tag", "", "only vendors with this tag")
	list.Flags().StringVar(&filter.Text, "search", "", "only vendors whose id, name or description contains this text")
	formatFlag(list, &format)

	var showFormat string
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a vendor, the flows into it and who uses it as a subprocessor",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			d, err := b.VendorDetail(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if showFormat == formatJSON {
				return writeJSON(a.out, d)
			}
			v := d.Vendor
			rows := [][]string{
				{"id", v.ID}, {"name", v.Name}, {"legal entity", v.LegalEntity}, {"category", v.Category},
				{"status", v.Status}, {"criticality", v.Criticality}, {"owner", v.Owner}, {"website", v.Website},
				{"domains", join(v.Domains)}, {"tags", join(v.Tags)}, {"subprocessors", join(v.Subprocessors)},
				{"subprocessor of", join(d.SubprocessorOf)}, {"catalog", v.Catalog}, {"description", v.Description},
				{"revision", fmt.Sprint(v.Revision)}, {"updated", v.UpdatedAt.Format("2006-01-02 15:04:05Z07:00")},
			}
			if err := table(a.out, []string{"FIELD", "VALUE"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "\nData flows into %s: %d\n", cell(v.ID), len(d.Flows))
			return flowTable(a, d.Flows)
		},
	}
	formatFlag(show, &showFormat)

	var addFlags vendorFlags
	var addFormat string
	add := &cobra.Command{
		Use:   "add [ID]",
		Short: "Add a vendor (ID defaults to the --catalog id)",
		Example: `  weaklink vendors add mixpanel --catalog mixpanel --status active --owner growth
  weaklink vendors add acme-payroll --name "Acme Payroll" --category other --domain acmepayroll.example`,
		Args: cobra.MaximumNArgs(1),
		RunE: a.edit(&addFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			v := inventory.Vendor{}
			addFlags.applyTo(cmd, &v)
			switch {
			case len(args) == 1:
				v.ID = args[0]
			case v.Catalog != "":
				v.ID = v.Catalog
			default:
				return inventory.Plan{}, usageError{fmt.Errorf("vendors add needs an ID or --catalog")}
			}
			return svc.AddVendor(ctx, v)
		}),
	}
	addFlags.register(add)
	formatFlag(add, &addFormat)

	var setFlags vendorFlags
	var setFormat string
	set := &cobra.Command{
		Use:     "set ID",
		Short:   "Change a vendor's fields",
		Example: `  weaklink vendors set mixpanel --status offboarding --add-tag incident-2025-11`,
		Args:    cobra.ExactArgs(1),
		RunE: a.edit(&setFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			return svc.UpdateVendor(ctx, args[0], func(v *inventory.Vendor) error {
				setFlags.applyTo(cmd, v)
				return nil
			})
		}),
	}
	setFlags.register(set)
	formatFlag(set, &setFormat)

	var cascade bool
	var rmFormat string
	rm := &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a vendor (refused while flows or subprocessor links use it, unless --cascade)",
		Args:  cobra.ExactArgs(1),
		RunE: a.edit(&rmFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			return svc.RemoveVendor(ctx, args[0], cascade)
		}),
	}
	rm.Flags().BoolVar(&cascade, "cascade", false, "also remove the vendor's flows and subprocessor links to it")
	formatFlag(rm, &rmFormat)

	cmd.AddCommand(list, show, add, set, rm)
	cmd.AddCommand(a.blockCmds()...)
	return cmd
}
