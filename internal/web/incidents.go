package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

// IncidentInput is the body of POST /api/v1/incidents: the incident's
// facts as far as they are known. Times are RFC 3339 with a zone.
type IncidentInput struct {
	Vendor   string `json:"vendor"`
	Title    string `json:"title"`
	Severity string `json:"severity,omitempty"` // default high
	Owner    string `json:"owner,omitempty"`
	// Status defaults to triage.
	Status              incident.Status               `json:"status,omitempty"`
	Categories          []string                      `json:"categories,omitempty"`
	Systems             []string                      `json:"systems,omitempty"`
	WindowFrom          time.Time                     `json:"window_from,omitzero"`
	WindowTo            time.Time                     `json:"window_to,omitzero"`
	ContractNoticeHours int                           `json:"contract_notice_hours,omitempty"`
	HighRisk            *bool                         `json:"high_risk,omitempty"`
	Material            *bool                         `json:"material,omitempty"`
	Notes               string                        `json:"notes,omitempty"`
	Times               map[incident.Anchor]time.Time `json:"times,omitempty"`
}

// IncidentPatch is the body of PATCH /api/v1/incidents/{id}, a JSON merge
// patch (RFC 7396): fields left out stay as they are, null clears one.
type IncidentPatch struct {
	Vendor              Optional[string]          `json:"vendor,omitzero"`
	Title               Optional[string]          `json:"title,omitzero"`
	Severity            Optional[string]          `json:"severity,omitzero"`
	Owner               Optional[string]          `json:"owner,omitzero"`
	Status              Optional[incident.Status] `json:"status,omitzero"`
	Categories          Optional[[]string]        `json:"categories,omitzero"`
	Systems             Optional[[]string]        `json:"systems,omitzero"`
	WindowFrom          Optional[time.Time]       `json:"window_from,omitzero"`
	WindowTo            Optional[time.Time]       `json:"window_to,omitzero"`
	ContractNoticeHours Optional[int]             `json:"contract_notice_hours,omitzero"`
	HighRisk            Optional[bool]            `json:"high_risk,omitzero"`
	Material            Optional[bool]            `json:"material,omitzero"`
	Notes               Optional[string]          `json:"notes,omitzero"`
	// Times sets anchors; an anchor given null is removed.
	Times map[incident.Anchor]*time.Time `json:"times,omitempty"`
	// Message goes with the change's own timeline event (updated, or
	// closed when the status becomes closed), as `incident close --note`
	// does; Note is added as a separate note event.
	Message string `json:"message,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Optional is a field of a merge patch: absent (Set false), null (Null),
// or a value.
type Optional[T any] struct {
	Set, Null bool
	Value     T
}

// UnmarshalJSON is called only for fields present in the body, null
// included.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(b, []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// elemType is the type of the value, for the OpenAPI schema.
func (Optional[T]) elemType() reflect.Type { return reflect.TypeFor[T]() }

// ContainRequest is the optional body of POST
// /api/v1/incidents/{id}/contain.
type ContainRequest struct {
	// Reason is for the record (default: the incident's title).
	Reason string `json:"reason,omitempty"`
	// Block names the vendors to block (default: the breached vendor;
	// required for a subprocessor breach).
	Block []string `json:"block,omitempty"`
}

func (s *Server) listIncidents(c *call) (any, error) {
	f := store.IncidentFilter{Vendor: c.q("vendor"), Status: c.q("status"), Open: c.qBool("open")}
	list, err := s.svc.Store.ListIncidents(c.ctx, f)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []incident.Incident{}
	}
	return paginate(c, list)
}

func (s *Server) openIncident(c *call) (any, error) {
	var req IncidentInput
	if err := s.decodeBody(c, &req, false); err != nil {
		return nil, err
	}
	in := incident.Incident{
		Vendor: req.Vendor, Title: req.Title, Severity: req.Severity, Owner: req.Owner, Status: req.Status,
		Categories: req.Categories, Systems: req.Systems, WindowFrom: req.WindowFrom.UTC(), WindowTo: req.WindowTo.UTC(),
		ContractNoticeHours: req.ContractNoticeHours, HighRisk: req.HighRisk, Material: req.Material, Notes: req.Notes,
		Times: map[incident.Anchor]time.Time{},
	}
	for a, t := range req.Times {
		in.Times[a] = t.UTC()
	}
	out, err := s.svc.OpenIncident(c.ctx, in, c.p.Actor())
	if err != nil {
		return nil, err
	}
	c.w.Header().Set("Location", "/api/v1/incidents/"+out.ID)
	return out, nil
}

func (s *Server) getIncident(c *call) (any, error) {
	return s.svc.IncidentView(c.ctx, c.r.PathValue("id"))
}

func (s *Server) updateIncident(c *call) (any, error) {
	var p IncidentPatch
	if err := s.decodeBody(c, &p, false); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		null bool
	}{{"vendor", p.Vendor.Null}, {"title", p.Title.Null}, {"severity", p.Severity.Null}, {"status", p.Status.Null}} {
		if f.null {
			return nil, badField(f.name, errString("cannot be cleared (null)"))
		}
	}
	actor := c.p.Actor()
	kind := "updated"
	if p.Status.Set && p.Status.Value == incident.StatusClosed {
		kind = "closed"
	}
	var extra []incident.Event
	if p.Note != "" {
		extra = append(extra, s.svc.NoteEvent(actor, p.Note))
	}
	return s.svc.ChangeIncident(c.ctx, c.r.PathValue("id"), actor, kind, strings.TrimSpace(p.Message), func(in *incident.Incident) error {
		patchValue(&in.Vendor, p.Vendor)
		patchValue(&in.Title, p.Title)
		patchValue(&in.Severity, p.Severity)
		patchValue(&in.Owner, p.Owner)
		patchValue(&in.Status, p.Status)
		patchValue(&in.Categories, p.Categories)
		patchValue(&in.Systems, p.Systems)
		patchValue(&in.WindowFrom, p.WindowFrom)
		patchValue(&in.WindowTo, p.WindowTo)
		patchValue(&in.ContractNoticeHours, p.ContractNoticeHours)
		patchValue(&in.Notes, p.Notes)
		patchPointer(&in.HighRisk, p.HighRisk)
		patchPointer(&in.Material, p.Material)
		in.WindowFrom, in.WindowTo = in.WindowFrom.UTC(), in.WindowTo.UTC() // a zero time stays zero
		for a, t := range p.Times {
			if t == nil {
				delete(in.Times, a)
			} else {
				in.Times[a] = t.UTC()
			}
		}
		return nil
	}, extra...)
}

type errString string

func (e errString) Error() string { return string(e) }

// patchValue applies a merge-patch field: a value sets, null clears.
func patchValue[T any](dst *T, o Optional[T]) {
	switch {
	case o.Null:
		var zero T
		*dst = zero
	case o.Set:
		*dst = o.Value
	}
}

// patchPointer applies a merge-patch field to an optional fact: null
// makes it unknown again.
func patchPointer[T any](dst **T, o Optional[T]) {
	switch {
	case o.Null:
		*dst = nil
	case o.Set:
		v := o.Value
		*dst = &v
	}
}

func (s *Server) blastRadius(c *call) (any, error) {
	in, err := s.svc.FindIncident(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.svc.BlastRadius(c.ctx, &in, nil)
}

// affected streams the people a breach affected. The list can be
// millions of rows, so it is written as the blast radius is computed; an
// error once rows have gone out aborts the response, so that a client
// never takes a cut list for a whole one (the CLI writes to a temporary
// file and keeps it only when the transfer completed).
func (s *Server) affected(c *call) {
	format := c.q("format")
	if format == "" {
		format = "csv"
	}
	in, err := s.svc.FindIncident(c.ctx, c.r.PathValue("id"))
	if err != nil {
		s.writeError(c.w, c.r, err)
		return
	}
	// No Cache-Control here: every answer already has no-store.
	h := c.w.Header()
	name := "affected-" + in.ID[:min(8, len(in.ID))]
	run := func(emit func(incident.Affected) error) error {
		_, err := s.svc.BlastRadius(c.ctx, &in, emit)
		return err
	}
	if format == "jsonl" {
		h.Set("Content-Type", "application/jsonl; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
		bw := bufio.NewWriterSize(c.w, 64<<10)
		enc := json.NewEncoder(bw)
		err = run(func(a incident.Affected) error { return enc.Encode(a) })
		if err == nil {
			err = bw.Flush()
		}
	} else {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		_, err = incident.WriteRecipients(c.ctx, c.w, func(yield func(incident.PackRecipient) error) error {
			return run(func(a incident.Affected) error { return yield(a.Recipient()) })
		})
	}
	if err != nil {
		if rec, ok := c.w.(*recorder); ok && !rec.wrote { // nothing sent yet: a plain error
			h.Del("Content-Disposition")
			s.writeError(c.w, c.r, err)
			return
		}
		s.log.Error("incident affected: stream failed", "incident", in.ID, "err", err.Error())
		panic(http.ErrAbortHandler) // the client sees a broken transfer, not a short list
	}
}

func (s *Server) clocks(c *call) (any, error) {
	in, err := s.svc.FindIncident(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return s.svc.Clocks(c.ctx, &in, s.opts.Rules, s.opts.Profile)
}

func (s *Server) contain(c *call) (any, error) {
	var req ContainRequest
	if err := s.decodeBody(c, &req, true); err != nil {
		return nil, err
	}
	return s.svc.Contain(c.ctx, c.r.PathValue("id"), c.p.Actor(), req.Reason, req.Block)
}
