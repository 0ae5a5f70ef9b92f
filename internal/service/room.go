package service

import (
	"context"
	"fmt"
	"github.com/weaklink/weaklink/internal/inventory"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

// The incident room's reads, for the web UI: an incident with everything
// its page shows, read in one pass (one inventory snapshot, one ledger
// scan); the containment checklist without containing; the next deadline
// of each open incident; and the notification pack assembled without
// writing or recording it. Contain and Notify share the checklist and the
// pack assembly with them, so the page and the actions cannot disagree.

// Room is an incident as the incident room shows it.
type Room struct {
	IncidentView
	// Clocks are the legal clocks; Clocks.Blast is the blast radius they
	// were computed from.
	Clocks *ClockReport
	// Checklist is what containment leaves to do by hand for the affected
	// vendors (and any blocked ones): its Blocked lists the vendors of the
	// incident that the kill switch blocks now, whoever blocked them.
	Checklist *Containment
	// Blocks are those vendors' blocks, by vendor id.
	Blocks map[string]store.Block
	// Notified is true when the timeline records a notification pack.
	Notified bool
}

// Room reads an incident (by id or unique prefix) with its timeline, blast
// radius, clocks and containment state. rules nil means the embedded
// rules.
func (s *Service) Room(ctx context.Context, ref string, rules *incident.Rules, p incident.Profile) (*Room, error) {
	view, err := s.IncidentView(ctx, ref)
	if err != nil {
		return nil, err
	}
	in := &view.Incident
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	b, err := s.blastRadius(ctx, snap, in, nil)
	if err != nil {
		return nil, err
	}
	r := &Room{IncidentView: view, Clocks: s.clockReport(in, b, rules, p), Blocks: map[string]store.Block{}}
	r.Notified = slices.ContainsFunc(view.Timeline, func(e incident.Event) bool { return e.Kind == "notified" })

	affected := map[string]bool{}
	for _, av := range b.Affected {
		affected[av.Vendor] = true
	}
	candidates := append(slices.Sorted(maps.Keys(affected)), in.Vendor)
	gates, err := s.Store.Gates(ctx, candidates)
	if err != nil {
		return nil, err
	}
	c := &Containment{Incident: in.ID, Blocked: []string{}, Rotate: []Credential{}, Disable: []Integration{}}
	for _, v := range slices.Compact(slices.Sorted(slices.Values(candidates))) {
		if g := gates[v]; g.Block != nil {
			c.Blocked = append(c.Blocked, v)
			r.Blocks[v] = *g.Block
			affected[v] = true
		}
	}
	s.fillChecklist(c, in, snap, b, affected)
	r.Checklist = c
	return r, nil
}

// NextDuty is the duty whose deadline is next (Summary.Next), or nil.
func (r *ClockReport) NextDuty() *incident.Duty {
	if r.Summary.Next == nil {
		return nil
	}
	for i := range r.Duties {
		if r.Duties[i].Rule == r.Summary.Next.Rule {
			return &r.Duties[i]
		}
	}
	return nil
}

// clockReport evaluates the clocks of an incident from its blast radius.
func (s *Service) clockReport(in *incident.Incident, b *incident.BlastRadius, rules *incident.Rules, p incident.Profile) *ClockReport {
	if rules == nil {
		rules = incident.DefaultRules()
	}
	now := s.now()
	ex := b.Exposure()
	duties := incident.Clocks(rules, in, ex, p, now)
	return &ClockReport{Incident: in.ID, Now: now, Exposure: ex, Summary: incident.SummarizeDuties(duties), Duties: duties, Blast: b}
}

// OpenClocks evaluates the clocks of the incidents in list that are not
// closed, by incident id: one inventory snapshot, one ledger scan each.
func (s *Service) OpenClocks(ctx context.Context, list []incident.Incident, rules *incident.Rules, p incident.Profile) (map[string]*ClockReport, error) {
	out := map[string]*ClockReport{}
	var snap store.Snapshot
	read := false
	for i := range list {
		in := &list[i]
		if in.Status == incident.StatusClosed {
			continue
		}
		if !read {
			var err error
			if snap, err = s.Store.Snapshot(ctx); err != nil {
				return nil, err
			}
			read = true
		}
		b, err := s.blastRadius(ctx, snap, in, nil)
		if err != nil {
			return nil, err
		}
		out[in.ID] = s.clockReport(in, b, rules, p)
	}
	return out, nil
}

// fillChecklist adds to c what containment leaves to do by hand for the
// vendors in affected: credentials to rotate (the catalog's configuration
// keys and the keys discovery found), integrations to disable, and the
// questions for the vendor.
func (s *Service) fillChecklist(c *Containment, in *incident.Incident, snap store.Snapshot, b *incident.BlastRadius, affected map[string]bool) {
	creds := map[string]*Credential{}
	addCred := func(vendor, key, where string) {
		k := vendor + "\x00" + key
		cr := creds[k]
		if cr == nil {
			cr = &Credential{Vendor: vendor, Key: key}
			creds[k] = cr
		}
		if where != "" && !slices.Contains(cr.Where, where) {
			cr.Where = append(cr.Where, where)
		}
	}
	for _, v := range snap.Vendors {
		if !affected[v.ID] || v.Catalog == "" || s.Checker.Catalog == nil {
			continue
		}
		if e, ok := s.Checker.Catalog.Get(v.Catalog); ok {
			for _, k := range e.EnvKeys {
				addCred(v.ID, k, "")
			}
		}
	}
	for _, f := range snap.Flows {
		if !affected[f.Vendor] {
			continue
		}
		if len(in.Systems) == 0 || slices.Contains(in.Systems, f.System) {
			c.Disable = append(c.Disable, Integration{Flow: f.ID, System: f.System, Vendor: f.Vendor, Categories: f.Categories})
		}
		for _, e := range f.Evidence {
			if e.Kind == "config-key" {
				key, _, _ := strings.Cut(strings.TrimSpace(e.Detail), "=")
				key = strings.TrimSpace(strings.TrimPrefix(key, "export "))
				if key != "" {
					addCred(f.Vendor, key, e.Ref)
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(creds)) {
		c.Rotate = append(c.Rotate, *creds[k])
	}
	c.Questions = vendorQuestions(in, b)
}

// PackFor assembles an incident's notification pack as Notify writes it,
// without writing or recording anything. The pack's Recipients stream
// computes the blast radius again when the pack is written.
func (s *Service) PackFor(ctx context.Context, in *incident.Incident, o NotifyOptions) (incident.Pack, *ClockReport, error) {
	// One inventory snapshot serves the clocks, the vendor's name and the
	// recipient stream (which scans the ledger again as it is written).
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return incident.Pack{}, nil, err
	}
	b, err := s.blastRadius(ctx, snap, in, nil)
	if err != nil {
		return incident.Pack{}, nil, err
	}
	clocks := s.clockReport(in, b, o.Rules, o.Profile)
	timeline, err := s.Store.Timeline(ctx, in.ID)
	if err != nil {
		return incident.Pack{}, nil, err
	}
	vendorName := func(id string) string {
		i := slices.IndexFunc(snap.Vendors, func(v inventory.Vendor) bool { return v.ID == id })
		if i >= 0 && snap.Vendors[i].Name != "" {
			return snap.Vendors[i].Name
		}
		return id
	}
	var affected []string
	for _, av := range b.Affected {
		affected = append(affected, av.Name)
	}
	var duties []incident.DutyLine
	for _, d := range clocks.Duties {
		if d.Applies == incident.AppliesNo {
			continue
		}
		deadline := d.DeadlineText
		if d.Deadline != nil {
			deadline = d.Deadline.UTC().Format("2006-01-02 15:04 MST") + " (" + d.DeadlineText + ")"
		}
		duties = append(duties, incident.DutyLine{Rule: d.Rule, Regime: d.Regime, Audience: d.Audience,
			Deadline: deadline, Status: string(d.Status), Citation: d.Citation})
	}
	inc := *in
	pack := incident.Pack{
		Incident: inc, Vendor: vendorName(in.Vendor), Affected: affected, Exposure: clocks.Exposure,
		Systems: b.Systems, Profile: o.Profile, Timeline: timeline, Duties: duties, Templates: o.Templates,
		Taxonomy: s.Checker.Taxonomy,
		Recipients: func(yield func(incident.PackRecipient) error) error {
			_, err := s.blastRadius(ctx, snap, &inc, func(a incident.Affected) error {
				return yield(a.Recipient())
			})
			return err
		},
	}
	return pack, clocks, nil
}

// recordNotified puts a notification pack on the timeline; an incident
// before notifying moves to notifying.
func (s *Service) recordNotified(ctx context.Context, id, actor, msg string) error {
	_, err := s.ChangeIncident(ctx, id, actor, "status", "", func(x *incident.Incident) error {
		if x.Status != incident.StatusNotifying && x.Status != incident.StatusClosed {
			x.Status = incident.StatusNotifying
		}
		return nil
	}, incident.Event{ID: newID(), At: s.now(), Actor: actor, Kind: "notified", Message: msg})
	return err
}

// PrepareNotify is Notify for a pack that is downloaded rather than left
// in a directory (the web UI): the pack is written once to a temporary
// directory, which checks that it can be (the templates render, the people
// letter has no link), then removed, and recorded on the timeline as
// prepared. The download assembles it again with PackFor; o.Dir is
// ignored.
func (s *Service) PrepareNotify(ctx context.Context, ref string, o NotifyOptions) error {
	if o.Profile.Name == "" {
		return invalid("the server has no organization profile (serve --org FILE): letters cannot be signed")
	}
	in, err := s.FindIncident(ctx, ref)
	if err != nil {
		return err
	}
	pack, clocks, err := s.PackFor(ctx, &in, o)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "weaklink-pack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := incident.WritePack(ctx, dir, pack); err != nil {
		return err
	}
	msg := fmt.Sprintf("notification pack prepared for download (%d people, %d duties)", clocks.Exposure.Subjects, len(pack.Duties))
	return s.recordNotified(ctx, in.ID, o.Actor, msg)
}
