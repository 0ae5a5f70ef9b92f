package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
)

// incidentFlags are the fields open and update set.
type incidentFlags struct {
	vendor, title, severity, owner, status, notes string
	categories, systems                           []string
	windowFrom, windowTo                          string
	contractNotice                                time.Duration
	highRisk, material                            string
	times                                         map[incident.Anchor]*string
}

// settableAnchors are the anchors open and update take as flags; contain
// and close set the others.
var settableAnchors = []incident.Anchor{incident.AnchorStart, incident.AnchorVendorDiscovered, incident.AnchorVendorNotified,
	incident.AnchorDatasetReceived, incident.AnchorAware, incident.AnchorDiscovered, incident.AnchorDetermined, incident.AnchorMaterial}

func anchorFlag(a incident.Anchor) string { return strings.ReplaceAll(string(a), "_", "-") }

func (f *incidentFlags) register(cmd *cobra.Command, open bool) {
	fl := cmd.Flags()
	if open {
		fl.StringVar(&f.vendor, "vendor", "", "the breached vendor or subprocessor (an inventory vendor id)")
	} else {
		fl.StringVar(&f.vendor, "vendor", "", "the breached vendor or subprocessor")
		fl.StringVar(&f.status, "status", "", "triage|investigating|contained|notifying|closed")
	}
	fl.StringVar(&f.title, "title", "", "a short title")
	fl.StringVar(&f.severity, "severity", "", "low|medium|high|critical (open: high)")
	fl.StringVar(&f.owner, "owner", "", "who runs the response")
	fl.StringSliceVar(&f.categories, "category", nil, "data categories the vendor says were exposed (repeatable; taxonomy keys)")
	fl.StringSliceVar(&f.systems, "system", nil, "limit the incident to flows from these systems (repeatable; the ledger has no system, so all its rows count)")
	fl.StringVar(&f.windowFrom, "window-from", "", "start of the affected data window (RFC 3339 with a zone, or YYYY-MM-DD: that day from 00:00 UTC)")
	fl.StringVar(&f.windowTo, "window-to", "", "end of the affected data window (YYYY-MM-DD includes that whole day, UTC)")
	fl.DurationVar(&f.contractNotice, "contract-notice", 0, "how soon the vendor's contract obliges it to tell you, e.g. 48h")
	fl.StringVar(&f.highRisk, "high-risk", "", "yes|no: is the breach likely to result in a high risk to people (GDPR Art. 34)")
	fl.StringVar(&f.material, "material", "", "yes|no: is the incident material to investors (SEC 8-K Item 1.05)")
	fl.StringVar(&f.notes, "notes", "", "free-text notes")
	f.times = map[incident.Anchor]*string{}
	for _, a := range settableAnchors {
		f.times[a] = fl.String(anchorFlag(a), "", "when "+anchorHelp[a]+" (RFC 3339 with a zone, or YYYY-MM-DD for 00:00 UTC)")
	}
}

var anchorHelp = map[incident.Anchor]string{
	incident.AnchorStart:            "the breach began",
	incident.AnchorVendorDiscovered: "the vendor discovered the breach",
	incident.AnchorVendorNotified:   "the vendor told you",
	incident.AnchorDatasetReceived:  "the vendor delivered the affected dataset",
	incident.AnchorAware:            "you became aware of a personal-data breach (GDPR's clock)",
	incident.AnchorDiscovered:       "you discovered the breach, where a law says discovery (default: aware)",
	incident.AnchorDetermined:       "you determined a breach occurred (default: aware)",
	incident.AnchorMaterial:         "you determined the incident is material (SEC)",
}

// parseWhen reads an RFC 3339 time (with its zone) or a date, which is
// 00:00 UTC that day. A time without a zone is refused: a deadline must not
// depend on where the command ran.
func parseWhen(flag, v string) (t time.Time, dateOnly bool, err error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), false, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, usageError{fmt.Errorf("--%s %q: use RFC 3339 with a zone (2025-11-25T18:00:00Z, 2025-11-25T13:00:00-05:00) or a date (2025-11-25, meaning 00:00 UTC)", flag, v)}
}

func parseYesNo(flag, v string) (*bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true":
		b := true
		return &b, nil
	case "no", "false":
		b := false
		return &b, nil
	case "unknown", "":
		return nil, nil
	}
	return nil, usageError{fmt.Errorf("--%s %q: use yes, no or unknown", flag, v)}
}

// applyTo sets the fields whose flags were given.
func (f *incidentFlags) applyTo(cmd *cobra.Command, in *incident.Incident) error {
	fl := cmd.Flags()
	set := func(name string, dst *string, v string) {
		if fl.Changed(name) {
			*dst = v
		}
	}
	set("vendor", &in.Vendor, f.vendor)
	set("title", &in.Title, f.title)
	set("severity", &in.Severity, f.severity)
	set("owner", &in.Owner, f.owner)
	set("notes", &in.Notes, f.notes)
	if fl.Changed("status") {
		in.Status = incident.Status(f.status)
	}
	if fl.Changed("category") {
		in.Categories = f.categories
	}
	if fl.Changed("system") {
		in.Systems = f.systems
	}
	for name, dst := range map[string]*time.Time{"window-from": &in.WindowFrom, "window-to": &in.WindowTo} {
		if !fl.Changed(name) {
			continue
		}
		v, _ := fl.GetString(name)
		if v == "" {
			*dst = time.Time{}
			continue
		}
		t, dateOnly, err := parseWhen(name, v)
		if err != nil {
			return err
		}
		if dateOnly && name == "window-to" {
			t = t.Add(24*time.Hour - time.Microsecond) // the whole day
		}
		*dst = t
	}
	if fl.Changed("contract-notice") {
		if f.contractNotice < 0 || f.contractNotice%time.Hour != 0 {
			return usageError{fmt.Errorf("--contract-notice %v: a whole number of hours, such as 48h", f.contractNotice)}
		}
		in.ContractNoticeHours = int(f.contractNotice / time.Hour)
	}
	for name, dst := range map[string]**bool{"high-risk": &in.HighRisk, "material": &in.Material} {
		if fl.Changed(name) {
			v, _ := fl.GetString(name)
			b, err := parseYesNo(name, v)
			if err != nil {
				return err
			}
			*dst = b
		}
	}
	if in.Times == nil {
		in.Times = map[incident.Anchor]time.Time{}
	}
	for _, a := range settableAnchors {
		name := anchorFlag(a)
		if !fl.Changed(name) {
			continue
		}
		if *f.times[a] == "" {
			delete(in.Times, a)
			continue
		}
		t, _, err := parseWhen(name, *f.times[a])
		if err != nil {
			return err
		}
		in.Times[a] = t
	}
	return nil
}

func (a *app) incidentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "Respond to a vendor breach: blast radius, legal clocks, containment and notification",
		Long: `An incident is a breach at a vendor (or one of its subprocessors). weaklink
computes what it exposed from the inventory and the gateway's ledger, which
notification duties start running, blocks the vendor in the gateways, and
writes the notification pack. Every change goes on the incident's
append-only timeline.

  weaklink incident open --vendor mixpanel --title "..." --vendor-discovered 2025-11-09 \
      --vendor-notified 2025-11-25T18:00:00Z --aware 2025-11-25T18:00:00Z \
      --category user.name --category user.contact.email --contract-notice 48h
  weaklink incident blast-radius ID --csv affected.csv
  weaklink incident clocks ID --org examples/acme/organization.yaml
  weaklink incident contain ID
  weaklink incident notify ID --org examples/acme/organization.yaml --out pack/

ID may be a unique prefix of the incident's id (at least four characters).`,
	}
	cmd.AddCommand(a.incidentOpenCmd(), a.incidentListCmd(), a.incidentShowCmd(), a.incidentUpdateCmd(),
		a.incidentContainCmd(), a.incidentBlastCmd(), a.incidentClocksCmd(), a.incidentNotifyCmd(), a.incidentCloseCmd())
	return cmd
}

func (a *app) incidentOpenCmd() *cobra.Command {
	var f incidentFlags
	var format string
	cmd := &cobra.Command{
		Use:   "open --vendor V --title T [flags]",
		Short: "Record a new incident at a vendor",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.vendor == "" || f.title == "" {
				return usageError{errors.New("open needs --vendor and --title")}
			}
			var in incident.Incident
			if err := f.applyTo(cmd, &in); err != nil {
				return err
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			in, err = b.OpenIncident(cmd.Context(), in)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, in)
			}
			fmt.Fprintf(a.out, "Opened incident %s at %s: %s\n", in.ID, cell(in.Vendor), cell(in.Title))
			fmt.Fprintf(a.out, "Next: weaklink incident blast-radius %s\n", in.ID)
			return nil
		},
	}
	f.register(cmd, true)
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) incidentListCmd() *cobra.Command {
	var format string
	var f store.IncidentFilter
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List incidents, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Status != "" && !slices.Contains(incident.Statuses, incident.Status(f.Status)) {
				return usageError{fmt.Errorf("--status %q: use one of triage, investigating, contained, notifying, closed", f.Status)}
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			list, err := b.ListIncidents(cmd.Context(), f)
			if err != nil {
				return err
			}
			if format == formatJSON {
				if list == nil {
					list = []incident.Incident{}
				}
				return writeJSON(a.out, list)
			}
			var rows [][]string
			for _, in := range list {
				rows = append(rows, []string{in.ID, cell(in.Vendor), string(in.Status), in.Severity, cell(in.Title), in.CreatedAt.Format("2006-01-02")})
			}
			return table(a.out, []string{"ID", "VENDOR", "STATUS", "SEVERITY", "TITLE", "OPENED"}, rows)
		},
	}
	cmd.Flags().StringVar(&f.Vendor, "vendor", "", "only incidents at this vendor")
	cmd.Flags().StringVar(&f.Status, "status", "", "only incidents with this status")
	cmd.Flags().BoolVar(&f.Open, "open", false, "leave out closed incidents")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) incidentShowCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident and its timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			v, err := b.IncidentView(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, v)
			}
			in, tl := v.Incident, v.Timeline
			w := a.out
			fmt.Fprintf(w, "%s  %s\n", in.ID, cell(in.Title))
			fmt.Fprintf(w, "vendor      %s\nstatus      %s\nseverity    %s\nowner       %s\n", cell(in.Vendor), in.Status, in.Severity, cell(in.Owner))
			fmt.Fprintf(w, "categories  %s\n", cell(join(in.Categories)))
			if len(in.Systems) > 0 {
				fmt.Fprintf(w, "systems     %s\n", cell(join(in.Systems)))
			}
			if !in.WindowFrom.IsZero() || !in.WindowTo.IsZero() {
				fmt.Fprintf(w, "window      %s – %s\n", fmtTime(in.WindowFrom), fmtTime(in.WindowTo))
			}
			if in.ContractNoticeHours > 0 {
				fmt.Fprintf(w, "contract    vendor notice within %d h of its discovery\n", in.ContractNoticeHours)
			}
			fmt.Fprintf(w, "high risk   %s\nmaterial    %s\n", yesNo(in.HighRisk), yesNo(in.Material))
			for _, anchor := range incident.Anchors {
				if t, ok := in.Times[anchor]; ok {
					fmt.Fprintf(w, "%-22s %s\n", anchor, fmtTime(t))
				}
			}
			if in.Notes != "" {
				// Continuation lines are indented, so notes cannot pass for fields.
				fmt.Fprintf(w, "notes       %s\n", strings.ReplaceAll(sanitize(in.Notes), "\n", "\n            "))
			}
			fmt.Fprintln(w, "\nTimeline:")
			var rows [][]string
			for _, e := range tl {
				rows = append(rows, []string{fmtTime(e.At), cell(e.Actor), e.Kind, cell(e.Message)})
			}
			return table(w, []string{"AT", "ACTOR", "KIND", "WHAT"}, rows)
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "not assessed"
	case *b:
		return "yes"
	}
	return "no"
}

func (a *app) incidentUpdateCmd() *cobra.Command {
	var f incidentFlags
	var format, note string
	cmd := &cobra.Command{
		Use:   "update ID [flags]",
		Short: "Change an incident's facts or status; every change goes on the timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			patch, err := f.patch(cmd)
			if err != nil {
				return err
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			kind := "updated"
			if cmd.Flags().Changed("status") && incident.Status(f.status) == incident.StatusClosed {
				kind = "closed" // as the API records it
			}
			in, err := b.ChangeIncident(cmd.Context(), args[0], incidentChange{kind: kind, note: note, patch: patch,
				apply: func(in *incident.Incident) error { return f.applyTo(cmd, in) }})
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, in)
			}
			fmt.Fprintf(a.out, "Updated incident %s (revision %d).\n", in.ID, in.Revision)
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&note, "note", "", "add a note to the timeline")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) incidentCloseCmd() *cobra.Command {
	var format, note string
	cmd := &cobra.Command{
		Use:   "close ID",
		Short: "Close an incident",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			now := a.now().UTC()
			in, err := b.ChangeIncident(cmd.Context(), args[0], incidentChange{kind: "closed", message: note,
				patch: map[string]any{"status": incident.StatusClosed, "times": map[incident.Anchor]time.Time{incident.AnchorClosed: now}},
				apply: func(in *incident.Incident) error {
					in.Status = incident.StatusClosed
					in.Times[incident.AnchorClosed] = now
					return nil
				}})
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, in)
			}
			fmt.Fprintf(a.out, "Closed incident %s. The vendor stays blocked until 'weaklink vendors unblock %s'.\n", in.ID, cell(in.Vendor))
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why (goes on the timeline)")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) incidentContainCmd() *cobra.Command {
	var format, reason string
	var vendors []string
	cmd := &cobra.Command{
		Use:   "contain ID",
		Short: "Block the vendor in every gateway, and list the credentials, integrations and questions to deal with",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			c, err := b.Contain(cmd.Context(), args[0], reason, vendors)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, c)
			}
			w := a.out
			fmt.Fprintf(w, "Blocked %s: gateways stop forwarding within about a second.\n", cell(join(c.Blocked)))
			fmt.Fprintln(w, "\nRotate these credentials:")
			var rows [][]string
			for _, cr := range c.Rotate {
				rows = append(rows, []string{cell(cr.Vendor), cell(cr.Key), cell(join(cr.Where))})
			}
			if err := table(w, []string{"VENDOR", "KEY", "FOUND IN"}, rows); err != nil {
				return err
			}
			fmt.Fprintln(w, "\nDisable or review these integrations:")
			rows = nil
			for _, in := range c.Disable {
				rows = append(rows, []string{cell(in.Flow), cell(in.System), cell(in.Vendor), cell(join(in.Categories))})
			}
			if err := table(w, []string{"FLOW", "SYSTEM", "VENDOR", "CATEGORIES"}, rows); err != nil {
				return err
			}
			fmt.Fprintln(w, "\nAsk the vendor:")
			for i, q := range c.Questions {
				fmt.Fprintf(w, "%2d. %s\n", i+1, sanitize(q))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the record (clients of the gateway are not shown it; default: the incident)")
	cmd.Flags().StringSliceVar(&vendors, "block", nil, "vendors to block (default: the breached vendor; required for a subprocessor breach)")
	formatFlag(cmd, &format)
	return cmd
}

func (a *app) incidentBlastCmd() *cobra.Command {
	var format, csvOut, jsonOut string
	cmd := &cobra.Command{
		Use:   "blast-radius ID",
		Short: "What the breach exposed: categories, systems, people by category and jurisdiction",
		Long: `blast-radius computes, from declared, discovered and observed flows and the
gateway's ledger within the incident's window, which of your data the breach
exposed: the categories the vendor named that you really sent it, what you
sent that it did not mention, the systems involved, and the people affected
by category and by where they live (from 'weaklink subjects import').
--csv and --json write the list of affected people, streamed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			be, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// The scan allocates short-lived rows at millions a second while
			// the live heap stays a few megabytes: collecting less often
			// saves about a quarter of the CPU.
			defer debug.SetGCPercent(debug.SetGCPercent(400))
			var b *incident.BlastRadius
			n, err := exportAffected(ctx, csvOut, jsonOut, func(emit func(incident.Affected) error) error {
				var err error
				b, err = be.BlastRadius(ctx, args[0], emit)
				return err
			})
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, b)
			}
			if err := printBlast(a, b); err != nil {
				return err
			}
			for _, p := range []string{csvOut, jsonOut} {
				if p != "" {
					fmt.Fprintf(a.out, "\nWrote %d people to %s\n", n, p)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&csvOut, "csv", "", "write the affected people to this CSV file")
	cmd.Flags().StringVar(&jsonOut, "json", "", "write the affected people to this file as JSON lines")
	formatFlag(cmd, &format)
	return cmd
}

func printBlast(a *app, b *incident.BlastRadius) error {
	w := a.out
	fmt.Fprintf(w, "Breached: %s", cell(b.Breached))
	if !b.From.IsZero() || !b.To.IsZero() {
		fmt.Fprintf(w, "   window %s – %s", fmtTime(b.From), fmtTime(b.To))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Exposed:      %s\n", sanitize(join(b.Exposed)))
	if len(b.PossiblyExposed) > 0 {
		fmt.Fprintf(w, "Possibly exposed (flows carry it, the gateway did not see it in the window): %s\n", sanitize(join(b.PossiblyExposed)))
	}
	if len(b.Unmentioned) > 0 {
		fmt.Fprintf(w, "Not in the vendor's statement, but sent: %s\n", sanitize(join(b.Unmentioned)))
	}
	if len(b.StatedNotSent) > 0 {
		fmt.Fprintf(w, "Named by the vendor, never sent: %s\n", sanitize(join(b.StatedNotSent)))
	}
	fmt.Fprintf(w, "Systems:      %s\n", cell(join(b.Systems)))
	fmt.Fprintf(w, "People:       %d (ledger rows read: %d)", b.Subjects, b.Rows)
	if b.Rows == 0 && b.Estimated > 0 {
		fmt.Fprintf(w, "; no ledger data: the inventory estimates %d", b.Estimated)
	}
	fmt.Fprintln(w)
	if b.UnmentionedSubjects > 0 {
		fmt.Fprintf(w, "              and %d more of whom only unmentioned categories were sent\n", b.UnmentionedSubjects)
	}
	fmt.Fprintln(w, "\nAffected vendors:")
	var rows [][]string
	for _, av := range b.Affected {
		via := "-"
		if len(av.Via) > 0 {
			via = strings.Join(av.Via, " → ")
		}
		rows = append(rows, []string{cell(av.Vendor), via, cell(join(av.Systems)), fmt.Sprint(len(av.Flows)), cell(join(av.Ledger))})
	}
	if err := table(w, []string{"VENDOR", "VIA", "SYSTEMS", "FLOWS", "LEDGER CATEGORIES"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nPeople by category:")
	rows = nil
	for _, c := range b.ByCategory {
		rows = append(rows, []string{c.Category, fmt.Sprint(c.Subjects)})
	}
	if err := table(w, []string{"CATEGORY", "PEOPLE"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nPeople by jurisdiction:")
	rows = nil
	for _, j := range slices.Sorted(maps.Keys(b.ByJurisdiction)) {
		rows = append(rows, []string{cell(j), fmt.Sprint(b.ByJurisdiction[j])})
	}
	return table(w, []string{"JURISDICTION", "PEOPLE"}, rows)
}

func (a *app) incidentClocksCmd() *cobra.Command {
	var format, org, rulesFile string
	var all bool
	cmd := &cobra.Command{
		Use:   "clocks ID",
		Short: "The notification duties that apply, their deadlines and the time left",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p incident.Profile
			var rules *incident.Rules
			var err error
			if a.remote.client != nil {
				if cmd.Flags().Changed("org") || cmd.Flags().Changed("rules") {
					return usageError{errors.New("incident clocks: --org and --rules are not available with --server: the server's own (serve --org, --rules) apply")}
				}
				if org != "" { // from $WEAKLINK_ORG
					fmt.Fprintln(a.errOut, "weaklink: incident clocks: ignoring $WEAKLINK_ORG: with --server the server's organization profile (serve --org) applies")
				}
			} else if p, rules, err = loadOrgAndRules(org, rulesFile, false); err != nil {
				return err
			}
			b, err := a.backend(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := b.Clocks(cmd.Context(), args[0], rules, p)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, rep)
			}
			w := a.out
			var rows [][]string
			hidden := 0
			for _, d := range rep.Duties {
				if d.Applies == incident.AppliesNo && !all {
					hidden++
					continue
				}
				deadline, left := d.DeadlineText, "-"
				if d.Deadline != nil {
					deadline = fmtTime(*d.Deadline)
				}
				if d.TimeLeft != nil {
					left = incident.FormatSpan(*d.TimeLeft)
				}
				if d.LateBy != nil {
					left = "late by " + incident.FormatSpan(*d.LateBy)
				}
				rows = append(rows, []string{d.Rule, string(d.Applies), cell(d.Audience), cell(deadline), left, string(d.Status)})
			}
			if err := table(w, []string{"RULE", "APPLIES", "WHO", "DEADLINE", "LEFT", "STATUS"}, rows); err != nil {
				return err
			}
			if hidden > 0 {
				fmt.Fprintf(w, "(%d more rules do not apply; --all lists them with the reason, --format json has everything)\n", hidden)
			}
			fmt.Fprintln(w)
			for _, l := range rep.Summary.Lines {
				fmt.Fprintln(w, sanitize(l))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&org, "org", os.Getenv("WEAKLINK_ORG"), "organization profile file (kind: organization; $WEAKLINK_ORG)")
	cmd.Flags().StringVar(&rulesFile, "rules", "", "rules file or directory overriding the embedded notification rules")
	cmd.Flags().BoolVar(&all, "all", false, "list the rules that do not apply too")
	formatFlag(cmd, &format)
	return cmd
}

// loadOrgAndRules reads the organization profile (required for letters)
// and the rules override.
func loadOrgAndRules(org, rulesFile string, needOrg bool) (incident.Profile, *incident.Rules, error) {
	var p incident.Profile
	if org == "" && needOrg {
		return p, nil, usageError{errors.New("--org FILE (or $WEAKLINK_ORG) is required: letters are signed with it")}
	}
	if org != "" {
		var err error
		if p, err = incident.LoadProfile(org); err != nil {
			return p, nil, err
		}
	}
	rules := incident.DefaultRules()
	if rulesFile != "" {
		over, err := incident.LoadRulesFile(rulesFile)
		if err != nil {
			return p, nil, err
		}
		rules = rules.With(over)
	}
	return p, rules, nil
}

func (a *app) incidentNotifyCmd() *cobra.Command {
	var format, org, rulesFile, out, templates string
	cmd := &cobra.Command{
		Use:   "notify ID --out DIR",
		Short: "Write the notification pack: letters, recipient list, timeline, STIX bundle",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{errors.New("notify needs --out DIR")}
			}
			p, rules, err := loadOrgAndRules(org, rulesFile, true)
			if err != nil {
				return err
			}
			svc, err := a.service(cmd.Context())
			if err != nil {
				return err
			}
			defer debug.SetGCPercent(debug.SetGCPercent(400)) // as blast-radius: two ledger scans
			o := service.NotifyOptions{Dir: out, Profile: p, Rules: rules, Actor: currentUser()}
			if templates != "" {
				o.Templates = os.DirFS(templates)
			}
			files, err := svc.Notify(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.out, map[string]any{"dir": out, "files": files})
			}
			fmt.Fprintf(a.out, "Wrote the notification pack to %s:\n", out)
			for _, f := range files {
				fmt.Fprintf(a.out, "  %s\n", filepath.Base(f))
			}
			fmt.Fprintln(a.out, "Read README.md first. The letters are drafts for your privacy team and counsel, not legal advice.")
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the pack to (created; a previous pack there is replaced)")
	cmd.Flags().StringVar(&org, "org", os.Getenv("WEAKLINK_ORG"), "organization profile file (kind: organization; $WEAKLINK_ORG)")
	cmd.Flags().StringVar(&rulesFile, "rules", "", "rules file or directory overriding the embedded notification rules")
	cmd.Flags().StringVar(&templates, "templates", "", "directory of letter templates overriding the embedded ones")
	formatFlag(cmd, &format)
	return cmd
}

// exportAffected runs a blast radius computation and streams the affected
// people it emits to a CSV file and a JSON-lines file (either may be "").
// Each file is written beside its final name and renamed into place only
// when everything succeeded: a failed run leaves no partial list.
func exportAffected(ctx context.Context, csvPath, jsonPath string, run func(emit func(incident.Affected) error) error) (int64, error) {
	type pending struct {
		tmp   *os.File
		final string
	}
	var files []pending
	defer func() {
		for _, p := range files {
			p.tmp.Close()
			os.Remove(p.tmp.Name())
		}
	}()
	create := func(path string) (*os.File, error) {
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
		if err != nil {
			return nil, err
		}
		files = append(files, pending{f, path})
		return f, nil
	}
	var jw *bufio.Writer
	var enc *json.Encoder
	if jsonPath != "" {
		f, err := create(jsonPath)
		if err != nil {
			return 0, err
		}
		jw = bufio.NewWriterSize(f, 64<<10)
		enc = json.NewEncoder(jw)
	}
	var n int64
	emitJSON := func(a incident.Affected) error {
		n++
		if enc != nil {
			return enc.Encode(a)
		}
		return nil
	}
	var err error
	if csvPath != "" {
		f, cerr := create(csvPath)
		if cerr != nil {
			return 0, cerr
		}
		_, err = incident.WriteRecipients(ctx, f, func(yield func(incident.PackRecipient) error) error {
			return run(func(a incident.Affected) error {
				if err := emitJSON(a); err != nil {
					return err
				}
				return yield(a.Recipient())
			})
		})
	} else {
		err = run(emitJSON)
	}
	if err != nil {
		return n, err
	}
	if jw != nil {
		if err := jw.Flush(); err != nil {
			return n, err
		}
	}
	for _, p := range files {
		if err := p.tmp.Sync(); err != nil {
			return n, err
		}
		if err := p.tmp.Close(); err != nil {
			return n, err
		}
	}
	for _, p := range files {
		if err := os.Rename(p.tmp.Name(), p.final); err != nil {
			return n, err
		}
	}
	files = nil
	return n, nil
}
