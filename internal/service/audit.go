package service

import (
	"context"

	"github.com/weaklink/weaklink/internal/audit"
	"github.com/weaklink/weaklink/internal/store"
)

// AuditReport is what verifying the audit log found.
type AuditReport struct {
	Entries int64          `json:"entries"`
	Head    audit.Head     `json:"head"`
	OK      bool           `json:"ok"`
	Problem *audit.Problem `json:"problem,omitempty"`
}

// VerifyAudit walks the whole audit log, in constant memory, and checks the
// hash chain against the stored head.
func (s *Service) VerifyAudit(ctx context.Context) (AuditReport, error) {
	head, err := s.Store.AuditHead(ctx)
	if err != nil {
		return AuditReport{}, err
	}
	var v audit.Verifier
	if err := s.Store.ScanAudit(ctx, store.AuditFilter{}, func(e audit.Entry) error { v.Add(e); return nil }); err != nil {
		return AuditReport{}, err
	}
	n, verr := v.Done(head)
	r := AuditReport{Entries: n, Head: head, OK: verr == nil}
	if p, ok := verr.(*audit.Problem); ok {
		r.Problem = p
	}
	return r, nil
}
