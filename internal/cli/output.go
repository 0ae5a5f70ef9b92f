package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"
)

const (
	formatTable = "table"
	formatJSON  = "json"
)

// formatFlag adds --format to a command, limited to the given values.
func formatFlag(cmd *cobra.Command, dst *string, values ...string) {
	if len(values) == 0 {
		values = []string{formatTable, formatJSON}
	}
	cmd.Flags().StringVar(dst, "format", values[0], "output format: "+strings.Join(values, "|"))
	cmd.PreRunE = chainPreRun(cmd.PreRunE, func(*cobra.Command, []string) error {
		for _, v := range values {
			if *dst == v {
				return nil
			}
		}
		return usageError{fmt.Errorf("--format %q: use one of %s", *dst, strings.Join(values, ", "))}
	})
}

func chainPreRun(prev, next func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if prev != nil {
			if err := prev(c, args); err != nil {
				return err
			}
		}
		return next(c, args)
	}
}

// writeJSON prints v as indented JSON: the stable, documented output shape.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints rows under a header, aligned. Cells are sanitized: text that
// vendors or users supply never reaches the terminal as control sequences.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = cell(c)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cell makes one table cell: sanitized, on one line, at most 60 runes.
func cell(s string) string {
	s = strings.Join(strings.Fields(sanitize(s)), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}

// sanitize replaces control characters (terminal escapes among them) and
// invisible format characters (bidirectional overrides such as U+202E,
// which reorder what a terminal shows) with U+FFFD, keeping newlines and
// tabs.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return '\uFFFD'
		}
		return r
	}, s)
}

func join(list []string) string { return strings.Join(list, ", ") }
