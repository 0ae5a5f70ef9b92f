package cli

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/store"
)

func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The tamper-evident log of every change: who, when, what, before and after",
	}
	var format string
	var f store.AuditFilter
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "Print audit entries, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			entries, err := b.Audit(cmd.Context(), f, limit)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, entries)
			}
			var rows [][]string
			for _, e := range entries {
				rows = append(rows, []string{fmt.Sprint(e.Seq), fmtTime(e.At), cell(e.Actor), e.Action, cell(e.Object), cell(changeSummary(e))})
			}
			return table(a.out, []string{"SEQ", "AT", "ACTOR", "ACTION", "OBJECT", "CHANGE"}, rows)
		},
	}
	list.Flags().StringVar(&f.Object, "object", "", `only this object ("vendor:mixpanel", "incident:ID")`)
	list.Flags().Int64Var(&f.From, "from", 1, "start at this sequence number")
	list.Flags().IntVar(&limit, "limit", 1000, "print at most this many entries (0: all)")
	formatFlag(list, &format)

	var vformat string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain: exit 1 if an entry was edited, deleted, inserted or reordered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			r, err := b.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if vformat == formatJSON {
				if err := writeJSON(a.out, r); err != nil {
					return err
				}
			} else if r.OK {
				fmt.Fprintf(a.out, "The audit log is intact: %d entries, head %s.\n", r.Entries, shortHash(r.Head.Hash))
			}
			if !r.OK {
				return r.Problem
			}
			return nil
		},
	}
	formatFlag(verify, &vformat)
	cmd.AddCommand(list, verify)
	return cmd
}

// changeSummary is a short account of an entry's change: the fields an
// update changed, or nothing for creates and deletes.
func changeSummary(e audit.Entry) string {
	if e.Action != "update" || len(e.After) == 0 || e.After[0] != '{' {
		return ""
	}
	var fields map[string]any
	if err := json.Unmarshal(e.After, &fields); err != nil {
		return ""
	}
	return strings.Join(slices.Sorted(maps.Keys(fields)), ", ")
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
