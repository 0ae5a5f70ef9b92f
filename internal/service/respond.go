package service

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// ClockReport is an incident's legal clocks with the blast radius they were
// computed from.
type ClockReport struct {
	Incident string                `json:"incident"`
	Now      time.Time             `json:"now"`
	Exposure incident.Exposure     `json:"exposure"`
	Summary  incident.DutySummary  `json:"summary"`
	Duties   []incident.Duty       `json:"duties"`
	Blast    *incident.BlastRadius `json:"-"`
}

// Clocks evaluates the notification duties of an incident. rules nil means
// the embedded rules (clockReport's default).
func (s *Service) Clocks(ctx context.Context, in *incident.Incident, rules *incident.Rules, p incident.Profile) (*ClockReport, error) {
	b, err := s.BlastRadius(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return s.clockReport(in, b, rules, p), nil
}

// Containment is what contain did and what is left to do by hand.
type Containment struct {
	Incident string `json:"incident"`
	// Blocked are the vendors the kill switch now blocks; gateways stop
	// forwarding to them within about a second.
	Blocked []string `json:"blocked"`
	// Rotate are credentials shared with the affected vendors.
	Rotate []Credential `json:"rotate"`
	// Disable are the integrations (flows) that send the vendors data.
	Disable []Integration `json:"disable"`
	// Questions are what to ask the vendor.
	Questions []string `json:"questions"`
}

// Credential is a secret shared with a vendor, to rotate.
type Credential struct {
	Vendor string `json:"vendor"`
	Key    string `json:"key"`
	// Where it was found (file:line of a discovered config key), if known.
	Where []string `json:"where,omitempty"`
}

// Integration is a flow to disable or reconfigure.
type Integration struct {
	Flow       string   `json:"flow"`
	System     string   `json:"system"`
	Vendor     string   `json:"vendor"`
	Categories []string `json:"categories"`
}

// Contain blocks vendors in the gateways, records it on the timeline, moves
// the incident to contained, and returns the checklist of what to do by
// hand. With no vendors named it blocks the breached vendor, when data goes
// to it (a flow or ledger rows); for a breached subprocessor, which
// receives nothing from us directly, the caller must name the vendors to
// block: cutting off every vendor that uses a cloud provider is a decision,
// not a default.
func (s *Service) Contain(ctx context.Context, ref, actor, reason string, vendors []string) (*Containment, error) {
	in, err := s.FindIncident(ctx, ref)
	if err != nil {
		return nil, err
	}
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.blastRadius(ctx, snap, &in, nil)
	if err != nil {
		return nil, err
	}
	affected := map[string]bool{}
	for _, av := range b.Affected {
		affected[av.Vendor] = true
	}
	if len(vendors) == 0 {
		if !affected[in.Vendor] {
			var names []string
			for _, av := range b.Affected {
				names = append(names, av.Vendor)
			}
			return nil, invalid("%s receives no data from us directly (it is a subprocessor of %s): name the vendors to block with --block",
				in.Vendor, strings.Join(names, ", "))
		}
		vendors = []string{in.Vendor}
	}
	for _, v := range vendors {
		if !slices.ContainsFunc(snap.Vendors, func(x inventory.Vendor) bool { return x.ID == v }) {
			return nil, fmt.Errorf("vendor %q is not in the inventory: %w", v, store.ErrNotFound)
		}
	}
	if reason == "" {
		reason = "incident " + in.ID + ": " + in.Title
	}
	now := s.now()
	c := &Containment{Incident: in.ID, Rotate: []Credential{}, Disable: []Integration{}}
	for _, v := range vendors {
		if err := s.Store.BlockVendor(ctx, store.Block{Vendor: v, Reason: reason, BlockedBy: actor, BlockedAt: now}); err != nil {
			return nil, err
		}
		c.Blocked = append(c.Blocked, v)
	}
	// The checklist covers every affected vendor and every vendor blocked.
	for _, v := range vendors {
		affected[v] = true
	}
	s.fillChecklist(c, &in, snap, b, affected)

	msg := "contained: kill switch on for " + strings.Join(c.Blocked, ", ") +
		fmt.Sprintf("; %d credential(s) to rotate, %d integration(s) to review", len(c.Rotate), len(c.Disable))
	_, err = s.ChangeIncident(ctx, in.ID, actor, "status", "", func(x *incident.Incident) error {
		if x.Status == incident.StatusTriage || x.Status == incident.StatusInvestigating {
			x.Status = incident.StatusContained
		}
		if _, ok := x.Times[incident.AnchorContained]; !ok {
			x.Times[incident.AnchorContained] = now
		}
		return nil
	}, incident.Event{ID: newID(), At: now, Actor: actor, Kind: "contained", Message: msg})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// vendorQuestions are what to ask the breached vendor, tailored to what
// it holds of ours.
func vendorQuestions(in *incident.Incident, b *incident.BlastRadius) []string {
	q := []string{
		"When did the unauthorized access start and end, and when did you discover it? Send the timeline with time zones.",
		"Which of our projects, workspaces or datasets were accessed or exported? Send the affected records (our user ids) as a file, not a summary.",
		"Which data fields were in the exported data? We sent: " + strings.Join(sentCategories(b), ", ") + ".",
		"Was data copied out, or only viewed? How do you know (logs, egress records)?",
		"Is the access closed? What was the root cause, and what have you changed so it cannot recur?",
		"Were any of your subprocessors involved, or told?",
		"Which of our credentials (API keys, tokens, service accounts) could the attacker reach? Have you revoked any of them?",
		"Which authorities and other customers have you notified, and is there a law-enforcement request to delay notice?",
		"Share indicators of compromise: attacker IPs, domains and phishing messages, so we can warn our users and filter our mail.",
	}
	if len(b.Unmentioned) > 0 {
		q = append(q, "Your notice does not mention "+strings.Join(b.Unmentioned, ", ")+", which we also sent you: confirm whether it was exposed.")
	}
	for _, c := range b.Exposed {
		if strings.HasPrefix(c, "user.contact") {
			q = append(q, "Send the phishing or smishing messages used against you, and any seen against your customers' users, so our warning can describe them.")
			break
		}
	}
	if in.ContractNoticeHours > 0 {
		if disc, ok := in.Time(incident.AnchorVendorDiscovered); ok {
			if told, ok := in.Time(incident.AnchorVendorNotified); ok && told.Sub(disc) > time.Duration(in.ContractNoticeHours)*time.Hour {
				q = append(q, fmt.Sprintf("Our agreement requires notice within %d hours of discovery. You discovered the breach on %s and told us on %s. Explain the delay.",
					in.ContractNoticeHours, disc.Format("2 January 2006"), told.Format("2 January 2006")))
			}
		}
	}
	return q
}

func sentCategories(b *incident.BlastRadius) []string {
	all := append(slices.Clone(b.Ledger), b.Inventory...)
	slices.Sort(all)
	return slices.Compact(all)
}

// NotifyOptions are the inputs of a notification pack beyond the incident.
type NotifyOptions struct {
	Dir       string
	Profile   incident.Profile
	Rules     *incident.Rules
	Templates fs.FS
	Actor     string
}

// Notify writes an incident's notification pack and records it on the
// timeline; an incident before notifying moves to notifying.
func (s *Service) Notify(ctx context.Context, ref string, o NotifyOptions) ([]string, error) {
	in, err := s.FindIncident(ctx, ref)
	if err != nil {
		return nil, err
	}
	pack, clocks, err := s.PackFor(ctx, &in, o)
	if err != nil {
		return nil, err
	}
	files, err := incident.WritePack(ctx, o.Dir, pack)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("notification pack written to %s (%d people, %d duties)", o.Dir, clocks.Exposure.Subjects, len(pack.Duties))
	return files, s.recordNotified(ctx, in.ID, o.Actor, msg)
}
