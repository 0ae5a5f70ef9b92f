package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) dataCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "Questions about data categories"}
	var format string
	whoHas := &cobra.Command{
		Use:   "who-has CATEGORY",
		Short: "Which vendors receive this data category, directly or through subprocessors",
		Long: `who-has lists the vendors that receive a data category or any category below it
(user.contact covers user.contact.email), counting flows that declared a
parent key, and the fourth parties they pass it to, each with the path
system → vendor → subprocessor the data takes.`,
		Example: `  weaklink data who-has user.contact.email
  weaklink data who-has user.financial --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			res, err := b.WhoHas(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, res)
			}
			direct := 0
			for _, h := range res.Holders {
				if h.Direct {
					direct++
				}
			}
			fmt.Fprintf(a.out, "%s (%s): %d vendors, %d directly and %d as subprocessors\n\n",
				cell(res.Category), cell(res.Name), len(res.Holders), direct, len(res.Holders)-direct)
			var rows [][]string
			for _, h := range res.Holders {
				how := "direct"
				if !h.Direct {
					how = "subprocessor"
				}
				// One line per route; several flows may share a route.
				const maxPaths = 3
				var routes []string
				for _, p := range h.Paths {
					if r := p.System + " → " + strings.Join(p.Chain, " → "); !slices.Contains(routes, r) {
						routes = append(routes, r)
					}
				}
				paths := routes
				if len(routes) > maxPaths {
					paths = append(slices.Clone(routes[:maxPaths]), fmt.Sprintf("(+%d more)", len(routes)-maxPaths))
				}
				rows = append(rows, []string{h.Vendor, h.Status, how, strings.Join(h.Categories, " "), strings.Join(paths, "; ")})
			}
			return table(a.out, []string{"VENDOR", "STATUS", "RECEIVES", "CATEGORIES", "PATHS"}, rows)
		},
	}
	formatFlag(whoHas, &format)
	cmd.AddCommand(whoHas)
	return cmd
}
