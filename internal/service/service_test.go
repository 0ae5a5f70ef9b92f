package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/service"
	"github.com/weaklink/weaklink/internal/store"
	"github.com/weaklink/weaklink/internal/store/postgres"
	"github.com/weaklink/weaklink/internal/store/postgres/pgtest"
	"github.com/weaklink/weaklink/internal/store/sqlite"
)

var ctx = context.Background()

func eachBackend(t *testing.T, fn func(t *testing.T, svc *service.Service)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "w.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, service.New(s))
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(ctx, pgtest.URL(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, service.New(s))
	})
}

// chain: app → analytics (→ cloud → datacenter); app → crm (→ analytics).
const whoHasDoc = `
vendors:
  - {id: analytics, name: Analytics, category: analytics, status: active, subprocessors: [cloud]}
  - {id: cloud, name: Cloud, category: cloud-infrastructure, status: active, subprocessors: [datacenter]}
  - {id: datacenter, name: DC, category: other, status: active}
  - {id: crm, name: CRM, category: crm-marketing, status: approved, subprocessors: [analytics]}
  - {id: payroll, name: Payroll, category: other, status: active}
systems:
  - {id: app, name: App}
  - {id: hr, name: HR}
flows:
  - {system: app, vendor: analytics, purpose: analytics, categories: [user.contact.email, user.device.user_agent]}
  - {system: app, vendor: crm, purpose: marketing, categories: [user.contact]}
  - {system: hr, vendor: payroll, purpose: essential.service, categories: [user.financial.bank_account, user.name]}
`

func applyDoc(t *testing.T, svc *service.Service, src string) {
	t.Helper()
	doc, err := inventory.Decode(strings.NewReader(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, base, err := svc.Plan(ctx, doc, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ApplyPlan(ctx, base, plan); err != nil {
		t.Fatal(err)
	}
}

func TestWhoHas(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *service.Service) {
		applyDoc(t, svc, whoHasDoc)
		res, err := svc.WhoHas(ctx, "user.contact.email")
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			vendor string
			direct bool
			cats   string
			paths  string
		}
		var got []row
		for _, h := range res.Holders {
			var paths []string
			for _, p := range h.Paths {
				paths = append(paths, p.System+">"+strings.Join(p.Chain, ">"))
			}
			got = append(got, row{h.Vendor, h.Direct, strings.Join(h.Categories, ","), strings.Join(paths, " ")})
		}
		want := []row{
			// analytics: direct from app, and as crm's subprocessor; crm declared the parent key.
			{"analytics", true, "user.contact,user.contact.email", "app>analytics app>crm>analytics"},
			{"crm", true, "user.contact", "app>crm"},
			{"cloud", false, "user.contact,user.contact.email", "app>analytics>cloud app>crm>analytics>cloud"},
			{"datacenter", false, "user.contact,user.contact.email", "app>analytics>cloud>datacenter app>crm>analytics>cloud>datacenter"},
		}
		if !slices.Equal(got, want) {
			t.Errorf("who-has user.contact.email:\n got  %+v\n want %+v", got, want)
		}
		if res.Holders[2].Name != "Cloud" || res.Holders[2].Status != "active" {
			t.Errorf("indirect holder details: %+v", res.Holders[2])
		}
		// A parent key finds the children; payroll is not a contact holder.
		res, _ = svc.WhoHas(ctx, "user.financial")
		if len(res.Holders) != 1 || res.Holders[0].Vendor != "payroll" || res.Holders[0].Categories[0] != "user.financial.bank_account" {
			t.Errorf("who-has user.financial: %+v", res.Holders)
		}
		res, _ = svc.WhoHas(ctx, "user.biometric")
		if res.Holders == nil || len(res.Holders) != 0 {
			t.Errorf("who-has of an unsent category: %+v", res.Holders)
		}
		if _, err := svc.WhoHas(ctx, "user.nope"); err == nil {
			t.Error("unknown category accepted")
		}
	})
}

func TestEditConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *service.Service) {
		applyDoc(t, svc, whoHasDoc)
		svc.Retries = 100
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.UpdateVendor(ctx, "crm", func(v *inventory.Vendor) error {
					v.Tags = append(v.Tags, fmt.Sprintf("t%d", i))
					return nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		v, err := svc.Store.GetVendor(ctx, "crm")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Tags) != n {
			t.Errorf("tags = %v: concurrent edits were lost", v.Tags)
		}
	})
}

func TestEditValidatesAndRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, svc *service.Service) {
		applyDoc(t, svc, whoHasDoc)
		_, err := svc.UpdateVendor(ctx, "datacenter", func(v *inventory.Vendor) error {
			v.Subprocessors = []string{"analytics"} // analytics → cloud → datacenter → analytics
			return nil
		})
		var is inventory.Issues
		if !errors.As(err, &is) || !strings.Contains(err.Error(), "subprocessor cycle") {
			t.Fatalf("cycle through an edit: %v", err)
		}
		if _, err := svc.UpdateVendor(ctx, "ghost", func(*inventory.Vendor) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("edit of a missing vendor: %v", err)
		}
		if _, err := svc.AddVendor(ctx, inventory.Vendor{ID: "crm", Name: "X", Category: "other"}); !errors.Is(err, service.ErrExists) {
			t.Errorf("add of an existing id: %v", err)
		}
		if _, err := svc.RemoveVendor(ctx, "cloud", false); err == nil || !strings.Contains(err.Error(), "analytics") {
			t.Errorf("remove of a subprocessor in use: %v", err)
		}
		plan, err := svc.RemoveVendor(ctx, "cloud", true)
		if err != nil {
			t.Fatal(err)
		}
		if c, u, d := plan.Counts(); c != 0 || u != 1 || d != 1 {
			t.Errorf("cascade plan %d/%d/%d: want analytics updated, cloud deleted", c, u, d)
		}
		// Import merges: only the fields the sheet fills change.
		if _, err := svc.ImportVendors(ctx, []inventory.Vendor{{ID: "crm", Owner: "sales"}, {ID: "new", Name: "New", Category: "other"}}, nil, false); err != nil {
			t.Fatal(err)
		}
		v, _ := svc.Store.GetVendor(ctx, "crm")
		if v.Owner != "sales" || v.Name != "CRM" || !slices.Equal(v.Subprocessors, []string{"analytics"}) {
			t.Errorf("merged vendor: %+v", v)
		}
		if n, _ := svc.Store.GetVendor(ctx, "new"); n.Status != inventory.DefaultStatus {
			t.Errorf("imported vendor status = %q", n.Status)
		}
	})
}
