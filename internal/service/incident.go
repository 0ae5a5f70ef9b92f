package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// now is the service's clock.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// newID returns a time-ordered UUID (v7).
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// IncidentError is a problem with an incident's fields.
type IncidentError struct{ Field, Msg string }

func (e IncidentError) Error() string { return e.Field + ": " + e.Msg }

// checkIncident validates an incident against the inventory and taxonomy.
// With a previous version, references (vendor, systems, categories) are
// checked only where they changed: an incident must stay editable after
// its vendor leaves the inventory.
func (s *Service) checkIncident(ctx context.Context, in, prev *incident.Incident) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, IncidentError{field, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(in.Title) == "" {
		bad("title", "required")
	}
	if in.Vendor == "" {
		bad("vendor", "required")
	} else if prev != nil && prev.Vendor == in.Vendor {
		// unchanged
	} else if _, err := s.Store.GetVendor(ctx, in.Vendor); errors.Is(err, store.ErrNotFound) {
		bad("vendor", "%q is not in the inventory (add it, even as a subprocessor, first)", in.Vendor)
	} else if err != nil {
		return err
	}
	if !slices.Contains(incident.Severities, in.Severity) {
		bad("severity", "%q: use one of %s", in.Severity, strings.Join(incident.Severities, ", "))
	}
	if !slices.Contains(incident.Statuses, in.Status) {
		bad("status", "%q: use one of triage, investigating, contained, notifying, closed", in.Status)
	}
	for i, c := range in.Categories {
		if prev != nil && slices.Contains(prev.Categories, c) {
			continue
		}
		if err := s.Checker.Taxonomy.Check(c); err != nil {
			bad(fmt.Sprintf("categories[%d]", i), "%v", err)
		}
	}
	if len(in.Systems) > 0 && (prev == nil || !slices.Equal(prev.Systems, in.Systems)) {
		systems, err := s.Store.ListSystems(ctx)
		if err != nil {
			return err
		}
		for i, id := range in.Systems {
			if prev != nil && slices.Contains(prev.Systems, id) {
				continue
			}
			if !slices.ContainsFunc(systems, func(sys inventory.System) bool { return sys.ID == id }) {
				bad(fmt.Sprintf("systems[%d]", i), "%q is not in the inventory", id)
			}
		}
	}
	if !in.WindowFrom.IsZero() && !in.WindowTo.IsZero() && in.WindowTo.Before(in.WindowFrom) {
		bad("window", "ends (%s) before it starts (%s)", in.WindowTo.Format(time.RFC3339), in.WindowFrom.Format(time.RFC3339))
	}
	if in.ContractNoticeHours < 0 {
		bad("contract_notice_hours", "must not be negative")
	}
	for a := range in.Times {
		if !slices.Contains(incident.Anchors, a) {
			bad("times", "unknown anchor %q", a)
		}
	}
	return errors.Join(errs...)
}

// OpenIncident records a new incident, as triage unless a status is given.
func (s *Service) OpenIncident(ctx context.Context, in incident.Incident, actor string) (incident.Incident, error) {
	in.ID = newID()
	if in.Status == "" {
		in.Status = incident.StatusTriage
	}
	if in.Severity == "" {
		in.Severity = "high"
	}
	if in.Times == nil {
		in.Times = map[incident.Anchor]time.Time{}
	}
	slices.Sort(in.Categories)
	in.Categories = slices.Compact(in.Categories)
	if err := s.checkIncident(ctx, &in, nil); err != nil {
		return incident.Incident{}, err
	}
	now := s.now()
	ev := incident.Event{ID: newID(), Incident: in.ID, At: now, Actor: actor, Kind: "opened",
		Message: fmt.Sprintf("opened: %s (vendor %s, severity %s)", in.Title, in.Vendor, in.Severity)}
	return s.Store.CreateIncident(ctx, in, ev)
}

// FindIncident resolves an incident id or a unique prefix of one (at least
// four characters).
func (s *Service) FindIncident(ctx context.Context, ref string) (incident.Incident, error) {
	in, err := s.Store.GetIncident(ctx, ref)
	if err == nil || !errors.Is(err, store.ErrNotFound) || len(ref) < 4 {
		return in, err
	}
	all, err := s.Store.ListIncidents(ctx, store.IncidentFilter{})
	if err != nil {
		return incident.Incident{}, err
	}
	var found []incident.Incident
	for _, x := range all {
		if strings.HasPrefix(x.ID, ref) {
			found = append(found, x)
		}
	}
	switch len(found) {
	case 0:
		return incident.Incident{}, fmt.Errorf("incident %q: %w", ref, store.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return incident.Incident{}, invalid("incident %q: %d incidents start with it; give more of the id", ref, len(found))
}

// ChangeIncident applies fn to an incident and stores it with an event of
// the given kind listing the changed fields, retrying from a fresh read if
// another writer changed the incident meanwhile. extra events are appended
// in the same transaction.
func (s *Service) ChangeIncident(ctx context.Context, ref, actor, kind, message string, fn func(*incident.Incident) error, extra ...incident.Event) (incident.Incident, error) {
	retries := s.Retries
	if retries == 0 {
		retries = 10
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.FindIncident(ctx, ref)
		if err != nil {
			return incident.Incident{}, err
		}
		next := cloneIncident(cur)
		if err := fn(&next); err != nil {
			return incident.Incident{}, err
		}
		slices.Sort(next.Categories)
		next.Categories = slices.Compact(next.Categories)
		// Closing records when; reopening forgets it.
		if next.Status == incident.StatusClosed && cur.Status != incident.StatusClosed {
			if _, ok := next.Times[incident.AnchorClosed]; !ok {
				next.Times[incident.AnchorClosed] = s.now()
			}
		} else if next.Status != incident.StatusClosed {
			delete(next.Times, incident.AnchorClosed)
		}
		if err := s.checkIncident(ctx, &next, &cur); err != nil {
			return incident.Incident{}, err
		}
		changes := incidentChanges(cur, next)
		if len(changes) == 0 && len(extra) == 0 {
			return cur, nil
		}
		ev := incident.Event{ID: newID(), Incident: cur.ID, At: s.now(), Actor: actor, Kind: kind, Message: message, Changes: changes}
		if ev.Message == "" {
			ev.Message = describeChanges(changes)
		}
		events := []incident.Event{ev}
		if len(changes) == 0 {
			events = nil
		}
		for _, e := range extra {
			e.Incident = cur.ID
			events = append(events, e)
		}
		out, err := s.Store.UpdateIncident(ctx, next, events...)
		if errors.Is(err, store.ErrConflict) && attempt < retries {
			continue
		}
		return out, err
	}
}

// Note appends a note to an incident's timeline.
func (s *Service) Note(ctx context.Context, ref, actor, kind, message string) (incident.Event, error) {
	in, err := s.FindIncident(ctx, ref)
	if err != nil {
		return incident.Event{}, err
	}
	ev := incident.Event{ID: newID(), Incident: in.ID, At: s.now(), Actor: actor, Kind: kind, Message: message}
	return ev, s.Store.AppendEvents(ctx, ev)
}

// NoteEvent is a note for the timeline, to add with a change
// (ChangeIncident's extra events): the event ChangeIncident does not write
// itself.
func (s *Service) NoteEvent(actor, message string) incident.Event {
	return incident.Event{ID: newID(), At: s.now(), Actor: actor, Kind: "note", Message: message}
}

func cloneIncident(in incident.Incident) incident.Incident {
	out := in
	out.Times = make(map[incident.Anchor]time.Time, len(in.Times))
	for k, v := range in.Times {
		out.Times[k] = v
	}
	out.Categories = slices.Clone(in.Categories)
	out.Systems = slices.Clone(in.Systems)
	if in.HighRisk != nil {
		v := *in.HighRisk
		out.HighRisk = &v
	}
	if in.Material != nil {
		v := *in.Material
		out.Material = &v
	}
	return out
}

// incidentChanges lists the fields that differ: field → [before, after].
func incidentChanges(a, b incident.Incident) map[string][2]string {
	out := map[string][2]string{}
	cmp := func(field string, x, y any) {
		xs, ys := show(x), show(y)
		if xs != ys {
			out[field] = [2]string{xs, ys}
		}
	}
	cmp("vendor", a.Vendor, b.Vendor)
	cmp("title", a.Title, b.Title)
	cmp("severity", a.Severity, b.Severity)
	cmp("owner", a.Owner, b.Owner)
	cmp("status", string(a.Status), string(b.Status))
	cmp("categories", a.Categories, b.Categories)
	cmp("systems", a.Systems, b.Systems)
	cmp("window_from", a.WindowFrom, b.WindowFrom)
	cmp("window_to", a.WindowTo, b.WindowTo)
	cmp("contract_notice_hours", a.ContractNoticeHours, b.ContractNoticeHours)
	cmp("high_risk", a.HighRisk, b.HighRisk)
	cmp("material", a.Material, b.Material)
	cmp("notes", a.Notes, b.Notes)
	for _, anchor := range incident.Anchors {
		cmp("times."+string(anchor), a.Times[anchor], b.Times[anchor])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// show renders a field value for the timeline.
func show(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case *bool:
		if x == nil {
			return ""
		}
		return fmt.Sprint(*x)
	case []string:
		return strings.Join(x, ", ")
	case int:
		if x == 0 {
			return ""
		}
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func describeChanges(ch map[string][2]string) string {
	var fields []string
	for f := range ch {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	var parts []string
	for _, f := range fields {
		c := ch[f]
		switch {
		case c[0] == "":
			parts = append(parts, fmt.Sprintf("%s set to %q", f, c[1]))
		case c[1] == "":
			parts = append(parts, fmt.Sprintf("%s cleared (was %q)", f, c[0]))
		default:
			parts = append(parts, fmt.Sprintf("%s %q → %q", f, c[0], c[1]))
		}
	}
	return strings.Join(parts, "; ")
}

// BlastRadius computes what an incident exposed from the inventory and the
// gateway's ledger; emit receives each affected person, streamed.
func (s *Service) BlastRadius(ctx context.Context, in *incident.Incident, emit func(incident.Affected) error) (*incident.BlastRadius, error) {
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.blastRadius(ctx, snap, in, emit)
}

// blastRadius is BlastRadius over an inventory snapshot the caller read.
func (s *Service) blastRadius(ctx context.Context, snap store.Snapshot, in *incident.Incident, emit func(incident.Affected) error) (*incident.BlastRadius, error) {
	src := incident.Sources{
		Vendors: snap.Vendors,
		Flows:   snap.Flows,
		Ledger: func(ctx context.Context, vendors []string, from, to time.Time, fn func(incident.LedgerRow) error) error {
			return s.Store.ScanLedger(ctx, store.LedgerFilter{Vendors: vendors, From: from, To: to, Residence: true}, func(e store.LedgerEntry) error {
				return fn(incident.LedgerRow{Vendor: e.Vendor, Subject: e.Subject, Category: e.Category, FirstSeen: e.FirstSeen,
					LastSeen: e.LastSeen, Jurisdiction: e.Jurisdiction, ExternalID: e.ExternalID})
			})
		},
	}
	return incident.ComputeBlastRadius(ctx, in, src, emit)
}
