package storetest

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/store"
)

func mixpanelIncident(clock *Clock) incident.Incident {
	yes := true
	return incident.Incident{
		ID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Vendor: "mixpanel", Title: "Mixpanel: analytics dataset exported",
		Severity: "high", Owner: "privacy@acme.ai", Status: incident.StatusTriage,
		Times: map[incident.Anchor]time.Time{
			incident.AnchorVendorDiscovered: time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC),
			incident.AnchorVendorNotified:   time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC),
			incident.AnchorAware:            time.Date(2025, 11, 25, 18, 0, 0, 0, time.UTC),
		},
		Categories: []string{"user.contact.email", "user.name"},
		WindowFrom: time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), WindowTo: time.Date(2025, 11, 9, 0, 0, 0, 0, time.UTC),
		Systems: []string{"platform-dashboard"}, ContractNoticeHours: 48, HighRisk: &yes, Notes: "vendor's notice: <b>smishing</b>",
	}
}

func testIncidents(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	in := mixpanelIncident(clock)
	opened := incident.Event{ID: "0193a1b2-0000-7000-8000-000000000001", Incident: in.ID, At: clock.Now(), Actor: "ada", Kind: "opened", Message: "opened"}
	got, err := s.CreateIncident(ctx, in, opened)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 1 || !got.CreatedAt.Equal(clock.Now()) {
		t.Fatalf("created = %+v", got)
	}
	read, err := s.GetIncident(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Revision, want.CreatedAt, want.UpdatedAt = 1, clock.Now(), clock.Now()
	mustEqual(t, "incident", read, want)
	if _, err := s.CreateIncident(ctx, in, opened); !errors.Is(err, store.ErrConflict) {
		t.Errorf("second create: %v, want ErrConflict", err)
	}

	// An update from the revision read succeeds once; a stale one conflicts
	// and writes nothing, not even its events.
	clock.Advance(time.Hour)
	upd := read
	upd.Status = incident.StatusContained
	upd.HighRisk = nil
	upd.Times[incident.AnchorContained] = clock.Now()
	ev := incident.Event{ID: "0193a1b2-0000-7000-8000-000000000002", Incident: in.ID, At: clock.Now(), Actor: "ada", Kind: "status",
		Message: "contained", Changes: map[string][2]string{"status": {"triage", "contained"}}}
	got, err = s.UpdateIncident(ctx, upd, ev)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 2 || !got.UpdatedAt.Equal(clock.Now()) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("updated = %+v", got)
	}
	stale := read
	stale.Title = "stale"
	if _, err := s.UpdateIncident(ctx, stale, incident.Event{ID: "0193a1b2-0000-7000-8000-000000000003", Incident: in.ID, At: clock.Now(), Kind: "updated"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale update: %v, want ErrConflict", err)
	}
	read, _ = s.GetIncident(ctx, in.ID)
	if read.Title != in.Title || read.Status != incident.StatusContained || read.HighRisk != nil || !read.Times[incident.AnchorContained].Equal(clock.Now()) {
		t.Errorf("after updates: %+v", read)
	}
	tl, err := s.Timeline(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "timeline", tl, []incident.Event{opened, ev})

	missing := upd
	missing.ID = "0193a1b2-ffff-7fff-8fff-ffffffffffff"
	if _, err := s.UpdateIncident(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing incident: %v", err)
	}
	if err := s.AppendEvents(ctx, incident.Event{ID: "x", Incident: missing.ID, At: clock.Now(), Kind: "note"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("event on a missing incident: %v", err)
	}
	if _, err := s.GetIncident(ctx, missing.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	if _, err := s.Timeline(ctx, missing.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("timeline of missing: %v", err)
	}

	// Lists: newest first, filters.
	clock.Advance(time.Hour)
	other := mixpanelIncident(clock)
	other.ID, other.Vendor, other.Status, other.HighRisk, other.Times = "0193a1b3-0000-7000-8000-000000000000", "gcp", incident.StatusClosed, nil, nil
	if _, err := s.CreateIncident(ctx, other, incident.Event{ID: "0193a1b3-0000-7000-8000-000000000001", Incident: other.ID, At: clock.Now(), Kind: "opened"}); err != nil {
		t.Fatal(err)
	}
	ids := func(f store.IncidentFilter) []string {
		l, err := s.ListIncidents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range l {
			out = append(out, in.ID)
		}
		return out
	}
	mustEqual(t, "all", ids(store.IncidentFilter{}), []string{other.ID, in.ID})
	mustEqual(t, "open", ids(store.IncidentFilter{Open: true}), []string{in.ID})
	mustEqual(t, "vendor", ids(store.IncidentFilter{Vendor: "gcp"}), []string{other.ID})
	mustEqual(t, "status", ids(store.IncidentFilter{Status: "contained"}), []string{in.ID})
	if got, _ := s.GetIncident(ctx, other.ID); len(got.Times) != 0 || got.HighRisk != nil || !got.WindowFrom.Equal(other.WindowFrom) {
		t.Errorf("other = %+v", got)
	}
}

// testTimelineAppendOnly: the database itself refuses to change or delete
// timeline rows, whatever the application does.
func testTimelineAppendOnly(t *testing.T, open Opener) {
	clock := NewClock()
	s := open(t, clock.Now)
	in := mixpanelIncident(clock)
	if _, err := s.CreateIncident(ctx, in, incident.Event{ID: "e1", Incident: in.ID, At: clock.Now(), Actor: "ada", Kind: "opened", Message: "opened"}); err != nil {
		t.Fatal(err)
	}
	raw, ok := s.(interface{ SQL() *sql.DB })
	if !ok {
		t.Skip("backend has no SQL handle")
	}
	qs := []string{`UPDATE incident_events SET message = 'edited'`, `DELETE FROM incident_events`}
	if s.Backend() == "postgres" {
		qs = append(qs, `TRUNCATE incident_events CASCADE`)
	}
	for _, q := range qs {
		if _, err := raw.SQL().ExecContext(ctx, q); err == nil {
			t.Errorf("%s: succeeded", q)
		}
	}
	tl, _ := s.Timeline(ctx, in.ID)
	if len(tl) != 1 || tl[0].Message != "opened" {
		t.Errorf("timeline = %+v", tl)
	}
}

// testLedgerResidence: several vendors come out subject by subject, with
// each subject's residence.
func testLedgerResidence(t *testing.T, open Opener) {
	s := open(t, nil)
	t0 := time.Date(2025, 11, 1, 10, 0, 0, 0, time.UTC)
	if err := s.RecordLedger(ctx, []store.LedgerEntry{
		{Vendor: "mixpanel", Subject: "b", Category: "user.name", FirstSeen: t0, LastSeen: t0, Messages: 1},
		{Vendor: "mixpanel", Subject: "a", Category: "user.contact.email", FirstSeen: t0, LastSeen: t0, Messages: 1},
		{Vendor: "segment", Subject: "a", Category: "user.name", FirstSeen: t0, LastSeen: t0, Messages: 1},
		{Vendor: "sentry", Subject: "c", Category: "user.unique_id", FirstSeen: t0, LastSeen: t0, Messages: 1},
	}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutResidence(ctx, []store.Residence{
		{Subject: "a", ExternalID: "user_1", Jurisdiction: "FR"},
		{Subject: "b", Jurisdiction: "US-TX"},
		{Subject: "a", ExternalID: "user_1", Jurisdiction: "DE"}, // the last one wins
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutResidence(ctx, []store.Residence{{Subject: "", Jurisdiction: "DE"}}); err == nil {
		t.Error("a residence without a subject was accepted")
	}
	var got []string
	err := s.ScanLedger(ctx, store.LedgerFilter{Vendors: []string{"segment", "mixpanel"}, Residence: true}, func(e store.LedgerEntry) error {
		got = append(got, e.Subject+"/"+e.Vendor+"/"+e.Category+"/"+e.Jurisdiction+"/"+e.ExternalID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "rows", got, []string{
		"a/mixpanel/user.contact.email/DE/user_1", "a/segment/user.name/DE/user_1", "b/mixpanel/user.name/US-TX/"})
}
