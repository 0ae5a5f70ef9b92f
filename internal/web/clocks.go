package web

import (
	"context"
	"sync"
	"time"

	"github.com/weaklink/weaklink/internal/incident"
	"github.com/weaklink/weaklink/internal/service"
)

// clockTTL is how long the dashboard and the incident list reuse an open
// incident's legal clocks. Each evaluation scans the incident's share of
// the gateway's ledger (seconds for millions of rows), and both pages
// show every open incident: without the cache each view would rescan.
// A change to the incident (a new revision) is seen at once, and so is a
// deadline passing (an entry lasts no longer than the next deadline); new
// ledger rows (more people exposed, new jurisdictions) within clockTTL.
// The incident room always computes afresh.
const clockTTL = 30 * time.Second

// clockCache holds recent clock reports by incident id and revision.
type clockCache struct {
	mu sync.Mutex
	m  map[string]cachedClocks
}

type cachedClocks struct {
	rev   int64
	until time.Time
	rep   *service.ClockReport
}

// openClocks returns the clocks of the open incidents in list, by id,
// computing only those not cached (in one inventory snapshot).
func (s *Server) openClocks(ctx context.Context, list []incident.Incident) (map[string]*service.ClockReport, error) {
	now := s.now()
	out := map[string]*service.ClockReport{}
	var missing []incident.Incident
	s.clockCache.mu.Lock()
	if s.clockCache.m == nil {
		s.clockCache.m = map[string]cachedClocks{}
	}
	for _, in := range list {
		if in.Status == incident.StatusClosed {
			continue
		}
		if c, ok := s.clockCache.m[in.ID]; ok && c.rev == in.Revision && now.Before(c.until) {
			out[in.ID] = c.rep
			continue
		}
		missing = append(missing, in)
	}
	s.clockCache.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	fresh, err := s.svc.OpenClocks(ctx, missing, s.opts.Rules, s.opts.Profile)
	if err != nil {
		return nil, err
	}
	s.clockCache.mu.Lock()
	defer s.clockCache.mu.Unlock()
	for _, in := range missing {
		rep := fresh[in.ID]
		if rep == nil {
			continue
		}
		out[in.ID] = rep
		// A duty's status changes when its deadline passes: the report
		// is kept no longer than that.
		until := now.Add(clockTTL)
		for _, d := range rep.Duties {
			if d.Deadline != nil && d.Deadline.After(now) && d.Deadline.Before(until) {
				until = *d.Deadline
			}
		}
		s.clockCache.m[in.ID] = cachedClocks{rev: in.Revision, until: until, rep: rep}
	}
	for id, c := range s.clockCache.m { // forget the expired
		if !now.Before(c.until) {
			delete(s.clockCache.m, id)
		}
	}
	return out, nil
}
