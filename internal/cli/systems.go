package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
)

type systemFlags struct {
	name, description, owner, environment, repository string
	tags                                              listEdit
}

func (f *systemFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "name", "", "display name")
	cmd.Flags().StringVar(&f.description, "description", "", "what the system is")
	cmd.Flags().StringVar(&f.owner, "owner", "", "owning team or person")
	cmd.Flags().StringVar(&f.environment, "environment", "", "one of "+join(inventory.Environments))
	cmd.Flags().StringVar(&f.repository, "repository", "", "source repository URL")
	f.tags.register(cmd, "tag", "tags")
}

func (f *systemFlags) applyTo(cmd *cobra.Command, s *inventory.System) {
	for flag, pair := range map[string][2]*string{
		"name": {&s.Name, &f.name}, "description": {&s.Description, &f.description}, "owner": {&s.Owner, &f.owner},
		"environment": {&s.Environment, &f.environment}, "repository": {&s.Repository, &f.repository},
	} {
		if cmd.Flags().Changed(flag) {
			*pair[0] = *pair[1]
		}
	}
	s.Tags = f.tags.apply(cmd, "tag", s.Tags)
}

func (a *app) systemsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "systems", Aliases: []string{"system"}, Short: "List, show and edit internal systems"}

	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List systems",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			systems, err := b.ListSystems(cmd.Context())
			if err != nil {
				return err
			}
			if format == formatJSON {
				if systems == nil {
					systems = []inventory.System{}
				}
				return writeJSON(a.out, systems)
			}
			var rows [][]string
			for _, s := range systems {
				rows = append(rows, []string{s.ID, s.Name, s.Environment, s.Owner, join(s.Tags)})
			}
			return table(a.out, []string{"ID", "NAME", "ENVIRONMENT", "OWNER", "TAGS"}, rows)
		},
	}
	formatFlag(list, &format)

	var showFormat string
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a system and the flows it sends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			d, err := b.SystemDetail(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if showFormat == formatJSON {
				return writeJSON(a.out, d)
			}
			s, flows := d.System, d.Flows
			rows := [][]string{{"id", s.ID}, {"name", s.Name}, {"environment", s.Environment}, {"owner", s.Owner},
				{"repository", s.Repository}, {"tags", join(s.Tags)}, {"description", s.Description}}
			if err := table(a.out, []string{"FIELD", "VALUE"}, rows); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "\nData flows from %s: %d\n", cell(s.ID), len(flows))
			return flowTable(a, flows)
		},
	}
	formatFlag(show, &showFormat)

	var addFlags systemFlags
	var addFormat string
	add := &cobra.Command{
		Use:   "add ID",
		Short: "Add a system",
		Args:  cobra.ExactArgs(1),
		RunE: a.edit(&addFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			s := inventory.System{ID: args[0]}
			addFlags.applyTo(cmd, &s)
			return svc.AddSystem(ctx, s)
		}),
	}
	addFlags.register(add)
	formatFlag(add, &addFormat)

	var setFlags systemFlags
	var setFormat string
	set := &cobra.Command{
		Use:   "set ID",
		Short: "Change a system's fields",
		Args:  cobra.ExactArgs(1),
		RunE: a.edit(&setFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			return svc.UpdateSystem(ctx, args[0], func(s *inventory.System) error {
				setFlags.applyTo(cmd, s)
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
		Short: "Remove a system (refused while it has flows, unless --cascade)",
		Args:  cobra.ExactArgs(1),
		RunE: a.edit(&rmFormat, func(ctx context.Context, svc *service.Service, cmd *cobra.Command, args []string) (inventory.Plan, error) {
			return svc.RemoveSystem(ctx, args[0], cascade)
		}),
	}
	rm.Flags().BoolVar(&cascade, "cascade", false, "also remove the system's flows")
	formatFlag(rm, &rmFormat)

	cmd.AddCommand(list, show, add, set, rm)
	return cmd
}
