package cli

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/taxonomy"
	"github.com/weaklink/weaklink/internal/textutil"
)

func (a *app) catalogCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "catalog", Short: "Search the embedded catalog of well-known vendors"}
	var format string
	search := &cobra.Command{
		Use:   "search [TEXT]",
		Short: "Find catalog vendors by name, category, domain or package",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.checker()
			if err != nil {
				return err
			}
			text := ""
			if len(args) == 1 {
				text = args[0]
			}
			entries := c.Catalog.Search(text)
			if format == formatJSON {
				if entries == nil {
					entries = []catalog.Entry{}
				}
				return writeJSON(a.out, entries)
			}
			var rows [][]string
			for _, e := range entries {
				rows = append(rows, []string{e.ID, e.Name, e.Category, join(e.Domains)})
			}
			if len(rows) == 0 {
				fmt.Fprintf(a.out, "No catalog vendor matches %q.\n", sanitize(text))
				return nil
			}
			return table(a.out, []string{"ID", "NAME", "CATEGORY", "DOMAINS"}, rows)
		},
	}
	formatFlag(search, &format)

	var showFormat string
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a catalog vendor: domains, hosts, SDK packages, default data collected",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.checker()
			if err != nil {
				return err
			}
			e, ok := c.Catalog.Get(args[0])
			if !ok {
				return fmt.Errorf("no catalog vendor %q%s", args[0], textutil.DidYouMean(args[0], c.Catalog.IDs()))
			}
			if showFormat == formatJSON {
				return writeJSON(a.out, e)
			}
			rows := [][]string{{"id", e.ID}, {"name", e.Name}, {"legal entity", e.LegalEntity}, {"category", e.Category},
				{"website", e.Website}, {"domains", join(e.Domains)}, {"hosts", join(e.Hosts)}}
			ecos := make([]string, 0, len(e.Packages))
			for eco := range e.Packages {
				ecos = append(ecos, eco)
			}
			sort.Strings(ecos)
			for _, eco := range ecos {
				rows = append(rows, []string{"packages (" + eco + ")", join(e.Packages[eco])})
			}
			rows = append(rows, []string{"collects by default", join(e.Collects)}, []string{"sdk calls", join(e.SDKCalls)},
				[]string{"config keys", join(e.EnvKeys)}, []string{"description", e.Description})
			return table(a.out, []string{"FIELD", "VALUE"}, rows)
		},
	}
	formatFlag(show, &showFormat)
	cmd.AddCommand(search, show)
	return cmd
}

func (a *app) taxonomyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "taxonomy", Short: "Browse the data-category taxonomy"}
	var format, under string
	list := &cobra.Command{
		Use:   "list",
		Short: "List data categories",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.checker()
			if err != nil {
				return err
			}
			var cats []taxonomy.Category
			for _, cat := range c.Taxonomy.All() {
				if under == "" || taxonomy.Covers(under, cat.Key) {
					cats = append(cats, cat)
				}
			}
			if format == formatJSON {
				if cats == nil {
					cats = []taxonomy.Category{}
				}
				return writeJSON(a.out, cats)
			}
			var rows [][]string
			for _, cat := range cats {
				rows = append(rows, []string{cat.Key, cat.Name, fmt.Sprint(cat.Sensitivity)})
			}
			return table(a.out, []string{"KEY", "NAME", "SENSITIVITY"}, rows)
		},
	}
	list.Flags().StringVar(&under, "under", "", "only this key and the keys below it")
	formatFlag(list, &format)
	cmd.AddCommand(list)
	return cmd
}
