package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

const incidentColumns = `id, vendor_id, title, severity, owner, status, times, categories, window_from, window_to,
	systems, contract_notice_hours, high_risk, material, notes, revision, created_at, updated_at`

// CreateIncident stores a new incident and its first event.
func (s *DB) CreateIncident(ctx context.Context, in incident.Incident, first incident.Event) (incident.Incident, error) {
	now := s.now().UTC()
	in.Revision, in.CreatedAt, in.UpdatedAt = 1, now, now
	err := s.inTx(ctx, nil, func(tx *sql.Tx) error {
		args, err := s.incidentArgs(in)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO incidents (`+incidentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), args...); err != nil {
			if s.d.Conflict != nil && s.d.Conflict(err) {
				return fmt.Errorf("incident %s exists: %w", in.ID, store.ErrConflict)
			}
			return err
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{{Action: "open", Object: "incident:" + in.ID, After: auditJSON(in)}}); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, []incident.Event{first})
	})
	if err != nil {
		return incident.Incident{}, err
	}
	return in, nil
}

// UpdateIncident stores in as the next revision and appends events.
func (s *DB) UpdateIncident(ctx context.Context, in incident.Incident, events ...incident.Event) (incident.Incident, error) {
	base := in.Revision
	in.Revision = base + 1
	in.UpdatedAt = s.now().UTC()
	err := s.inTx(ctx, nil, func(tx *sql.Tx) error {
		olds, err := s.queryIncidentsTx(ctx, tx, `WHERE id = ?`, in.ID)
		if err != nil {
			return err
		}
		if len(olds) == 0 {
			return notFound("incident", in.ID)
		}
		before := olds[0]
		rev := before.Revision
		in.CreatedAt = before.CreatedAt
		if rev != base {
			return fmt.Errorf("incident %s is at revision %d, not %d: %w", in.ID, rev, base, store.ErrConflict)
		}
		args, err := s.incidentArgs(in)
		if err != nil {
			return err
		}
		// Every column but id and created_at, then the id and the revision
		// the caller read.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE incidents SET vendor_id = ?, title = ?, severity = ?, owner = ?, status = ?,
			times = ?, categories = ?, window_from = ?, window_to = ?, systems = ?, contract_notice_hours = ?,
			high_risk = ?, material = ?, notes = ?, revision = ?, updated_at = ? WHERE id = ? AND revision = ?`),
			append(append(args[1:16:16], args[17]), in.ID, base)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("incident %s changed meanwhile: %w", in.ID, store.ErrConflict)
		}
		if err := s.appendAudit(ctx, tx, []audit.Entry{{Action: "update", Object: "incident:" + in.ID,
			Before: auditJSON(before), After: auditJSON(in)}}); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, events)
	})
	if err != nil {
		return incident.Incident{}, err
	}
	return in, nil
}

// GetIncident reads one incident.
func (s *DB) GetIncident(ctx context.Context, id string) (incident.Incident, error) {
	ins, err := s.queryIncidents(ctx, `WHERE id = ?`, id)
	if err != nil {
		return incident.Incident{}, err
	}
	if len(ins) == 0 {
		return incident.Incident{}, notFound("incident", id)
	}
	return ins[0], nil
}

// ListIncidents returns incidents newest first.
func (s *DB) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]incident.Incident, error) {
	cond, args := incidentWhere(f)
	return s.queryIncidents(ctx, cond+" ORDER BY created_at DESC, id DESC"+s.paging(f.Limit, f.Offset), args...)
}

// incidentWhere is the WHERE clause of f, ignoring its paging.
func incidentWhere(f store.IncidentFilter) (string, []any) {
	var where []string
	var args []any
	if f.Vendor != "" {
		where = append(where, "vendor_id = ?")
		args = append(args, f.Vendor)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Open {
		where = append(where, "status <> ?")
		args = append(args, string(incident.StatusClosed))
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	return cond, args
}

func (s *DB) queryIncidents(ctx context.Context, cond string, args ...any) ([]incident.Incident, error) {
	return s.queryIncidentsTx(ctx, s.db, cond, args...)
}

func (s *DB) queryIncidentsTx(ctx context.Context, q querier, cond string, args ...any) ([]incident.Incident, error) {
	return list(ctx, q, scanIncident, s.q(`SELECT `+incidentColumns+` FROM incidents `+cond), args...)
}

// scanIncident reads a row of incidentColumns.
func scanIncident(r scanner) (incident.Incident, error) {
	var in incident.Incident
	var status, times, cats, systems string
	var from, to *time.Time
	var highRisk, material sql.NullBool
	if err := r.Scan(&in.ID, &in.Vendor, &in.Title, &in.Severity, &in.Owner, &status, &times, &cats,
		nullTimeDest{&from}, nullTimeDest{&to}, &systems, &in.ContractNoticeHours, &highRisk, &material, &in.Notes,
		&in.Revision, timeDest{&in.CreatedAt}, timeDest{&in.UpdatedAt}); err != nil {
		return in, err
	}
	in.Status = incident.Status(status)
	if err := json.Unmarshal([]byte(times), &in.Times); err != nil {
		return in, fmt.Errorf("incident %s: times: %w", in.ID, err)
	}
	for a, t := range in.Times {
		in.Times[a] = t.UTC()
	}
	if err := unmarshalList(cats, &in.Categories); err != nil {
		return in, fmt.Errorf("incident %s: categories: %w", in.ID, err)
	}
	if err := unmarshalList(systems, &in.Systems); err != nil {
		return in, fmt.Errorf("incident %s: systems: %w", in.ID, err)
	}
	if from != nil {
		in.WindowFrom = *from
	}
	if to != nil {
		in.WindowTo = *to
	}
	if highRisk.Valid {
		in.HighRisk = &highRisk.Bool
	}
	if material.Valid {
		in.Material = &material.Bool
	}
	return in, nil
}

// incidentArgs are the values of incidentColumns.
func (s *DB) incidentArgs(in incident.Incident) ([]any, error) {
	times := map[incident.Anchor]time.Time{}
	for a, t := range in.Times {
		if !t.IsZero() {
			times[a] = t.UTC()
		}
	}
	tj, err := json.Marshal(times)
	if err != nil {
		return nil, err
	}
	opt := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return s.timeArg(t)
	}
	optBool := func(b *bool) any {
		if b == nil {
			return nil
		}
		return *b
	}
	return []any{in.ID, in.Vendor, in.Title, in.Severity, in.Owner, string(in.Status), string(tj),
		marshalList(in.Categories), opt(in.WindowFrom), opt(in.WindowTo), marshalList(in.Systems),
		in.ContractNoticeHours, optBool(in.HighRisk), optBool(in.Material), in.Notes, in.Revision,
		s.timeArg(in.CreatedAt), s.timeArg(in.UpdatedAt)}, nil
}

// AppendEvents adds events to incidents' timelines.
func (s *DB) AppendEvents(ctx context.Context, events ...incident.Event) error {
	return s.inTx(ctx, nil, func(tx *sql.Tx) error { return s.insertEvents(ctx, tx, events) })
}

func (s *DB) insertEvents(ctx context.Context, tx *sql.Tx, events []incident.Event) error {
	for _, e := range events {
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM incidents WHERE id = ?`), e.Incident).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("incident", e.Incident)
		}
		changes := "{}"
		if len(e.Changes) > 0 {
			changes = marshalJSON(e.Changes)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO incident_events (id, incident_id, at, actor, kind, message, changes)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), e.ID, e.Incident, s.timeArg(e.At), e.Actor, e.Kind, e.Message, changes); err != nil {
			if s.d.Conflict != nil && s.d.Conflict(err) {
				return fmt.Errorf("event %s exists: %w", e.ID, store.ErrConflict)
			}
			return err
		}
	}
	return nil
}

// Timeline returns an incident's events in time order.
func (s *DB) Timeline(ctx context.Context, incidentID string) ([]incident.Event, error) {
	if _, err := s.GetIncident(ctx, incidentID); err != nil {
		return nil, err
	}
	return list(ctx, s.db, scanEvent, s.q(`SELECT id, incident_id, at, actor, kind, message, changes
		FROM incident_events WHERE incident_id = ? ORDER BY at, id`), incidentID)
}

// scanEvent reads a timeline row.
func scanEvent(r scanner) (incident.Event, error) {
	var e incident.Event
	var changes string
	if err := r.Scan(&e.ID, &e.Incident, timeDest{&e.At}, &e.Actor, &e.Kind, &e.Message, &changes); err != nil {
		return e, err
	}
	if changes != "" && changes != "{}" {
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return e, fmt.Errorf("event %s: changes: %w", e.ID, err)
		}
	}
	return e, nil
}
