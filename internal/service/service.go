// Package service is the set of inventory operations that weaklink's front
// doors (CLI, HTTP API, web UI) share: apply inventory-as-code, edit single
// objects safely under concurrency, and answer "who has this data?". The
// front doors parse input and print output; the logic lives here.
package service

import (
	"context"
	"errors"
	"fmt"
	"github.com/weaklink/weaklink/internal/catalog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/inventory"
	"github.com/weaklink/weaklink/internal/store"
)

// Service runs inventory operations against a store.
type Service struct {
	Store   store.Store
	Checker inventory.Checker
	// Retries bounds how often an edit is re-planned after a concurrent
	// change (ErrConflict). Zero means 10.
	Retries int
	// Now is the clock of incident timelines and deadlines (nil: time.Now).
	Now func() time.Time
}

// New returns a service with the embedded taxonomy and catalog.
func New(s store.Store) *Service {
	return &Service{Store: s, Checker: inventory.DefaultChecker()}
}

// Plan validates a document and plans it against the stored inventory. The
// returned version is what Apply must find still current.
func (s *Service) Plan(ctx context.Context, doc *inventory.Document, prune bool) (inventory.Plan, int64, error) {
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return inventory.Plan{}, 0, err
	}
	plan, issues := s.Checker.Prepare(doc, snap.Inventory, prune)
	if len(issues) > 0 {
		return inventory.Plan{}, 0, issues
	}
	return plan, snap.Version, nil
}

// ApplyPlan writes a plan made by Plan.
func (s *Service) ApplyPlan(ctx context.Context, base int64, plan inventory.Plan) error {
	return s.Store.Apply(ctx, base, plan)
}

// Edit changes the inventory with a function of its current content, and
// retries from a fresh read when another writer got there first, so no
// update is lost. The function sees objects without store metadata and may
// return an error to abort. The result is validated as a whole.
func (s *Service) Edit(ctx context.Context, fn func(inv *inventory.Inventory) error) (inventory.Plan, error) {
	return s.edit(ctx, fn, true)
}

// PlanEdit is Edit without the write: the plan the edit would apply now.
func (s *Service) PlanEdit(ctx context.Context, fn func(inv *inventory.Inventory) error) (inventory.Plan, error) {
	return s.edit(ctx, fn, false)
}

func (s *Service) edit(ctx context.Context, fn func(inv *inventory.Inventory) error, write bool) (inventory.Plan, error) {
	retries := s.Retries
	if retries == 0 {
		retries = 10
	}
	for attempt := 0; ; attempt++ {
		plan, version, err := s.planEdit(ctx, fn)
		if err != nil {
			return inventory.Plan{}, err
		}
		if plan.Empty() || !write {
			return plan, nil
		}
		err = s.Store.Apply(ctx, version, plan)
		if errors.Is(err, store.ErrConflict) && attempt < retries {
			continue
		}
		return plan, err
	}
}

// ImportVendors merges vendors (from a spreadsheet) into the inventory: new
// ids are created; for existing ones, only the fields the import gives (non
// empty) replace stored values, so an import never blanks what it does not
// know. New vendors without a status get the default.
//
// A vendor whose id the sheet did not give (named lists the ids made from
// names) and that no stored vendor has is matched by what identifies it
// rather than by how the sheet spells its name: the one stored vendor with
// the same catalog entry, else the one sharing its website's host or a
// domain. "Mixpanel Inc." with mixpanel.com updates the stored mixpanel
// (keeping its id and name) instead of adding mixpanel-inc. A sheet id is
// taken as given: two vendors may share a catalog entry (two AWS accounts).
func (s *Service) ImportVendors(ctx context.Context, vendors []inventory.Vendor, named map[string]bool, dryRun bool) (inventory.Plan, error) {
	return s.edit(ctx, s.importVendors(vendors, named), !dryRun)
}

// PlanImportVendors is ImportVendors planned against the stored inventory
// without writing: the plan, and the version ApplyPlan must still find
// (so that what was shown is what is applied, or nothing).
func (s *Service) PlanImportVendors(ctx context.Context, vendors []inventory.Vendor, named map[string]bool) (inventory.Plan, int64, error) {
	return s.planEdit(ctx, s.importVendors(vendors, named))
}

// planEdit plans an edit of the stored inventory: the plan, validated as a
// whole, and the version it was made against.
func (s *Service) planEdit(ctx context.Context, fn func(inv *inventory.Inventory) error) (inventory.Plan, int64, error) {
	snap, err := s.Store.Snapshot(ctx)
	if err != nil {
		return inventory.Plan{}, 0, err
	}
	desired := cloneWithoutMeta(snap.Inventory)
	if err := fn(&desired); err != nil {
		return inventory.Plan{}, 0, err
	}
	plan, issues := s.Checker.Prepare(inventory.FromInventory(desired), snap.Inventory, true)
	if len(issues) > 0 {
		return inventory.Plan{}, 0, issues
	}
	return plan, snap.Version, nil
}

// importVendors is the edit of an import: see ImportVendors. What the
// reader filled in from the catalog (a name, a description, domains...)
// only fills blanks of a stored vendor: it is a default, not what the
// sheet says.
func (s *Service) importVendors(vendors []inventory.Vendor, named map[string]bool) func(inv *inventory.Inventory) error {
	return func(inv *inventory.Inventory) error {
		for _, in := range vendors {
			i := slices.IndexFunc(inv.Vendors, func(x inventory.Vendor) bool { return x.ID == in.ID })
			if i < 0 && named[in.ID] {
				if i = sameVendor(inv.Vendors, in); i >= 0 {
					in.ID, in.Name = inv.Vendors[i].ID, "" // the stored identity stays
				}
			}
			if i < 0 {
				inv.Vendors = append(inv.Vendors, in)
				continue
			}
			if s.Checker.Catalog != nil && in.Catalog != "" {
				if e, ok := s.Checker.Catalog.Get(in.Catalog); ok {
					dropCatalogDefaults(&in, inv.Vendors[i], e)
				}
			}
			MergeVendor(&inv.Vendors[i], in)
		}
		return nil
	}
}

// dropCatalogDefaults blanks in patch the fields that hold the catalog
// entry's value where the stored vendor already has one, so that a merge
// keeps the stored value.
func dropCatalogDefaults(patch *inventory.Vendor, stored inventory.Vendor, e catalog.Entry) {
	keep := func(p *string, st, def string) {
		if *p == def && st != "" {
			*p = ""
		}
	}
	keep(&patch.Name, stored.Name, e.Name)
	keep(&patch.LegalEntity, stored.LegalEntity, e.LegalEntity)
	keep(&patch.Website, stored.Website, e.Website)
	keep(&patch.Category, stored.Category, e.Category)
	keep(&patch.Description, stored.Description, e.Description)
	if slices.Equal(patch.Domains, e.Domains) && len(stored.Domains) > 0 {
		patch.Domains = nil
	}
}

// sameVendor is the index of the one stored vendor that v's catalog entry,
// or else its website host and domains, identify; -1 if none or several.
func sameVendor(stored []inventory.Vendor, v inventory.Vendor) int {
	unique := func(match func(inventory.Vendor) bool) int {
		found := -1
		for i, x := range stored {
			if match(x) {
				if found >= 0 {
					return -1
				}
				found = i
			}
		}
		return found
	}
	if v.Catalog != "" {
		if i := unique(func(x inventory.Vendor) bool { return x.Catalog == v.Catalog }); i >= 0 {
			return i
		}
	}
	hosts := vendorHosts(v)
	if len(hosts) == 0 {
		return -1
	}
	return unique(func(x inventory.Vendor) bool {
		for h := range vendorHosts(x) {
			if hosts[h] {
				return true
			}
		}
		return false
	})
}

// vendorHosts are a vendor's domains and its website's host, lower-cased,
// without "www.".
func vendorHosts(v inventory.Vendor) map[string]bool {
	out := map[string]bool{}
	add := func(h string) {
		h = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(h)), "www.")
		if h != "" {
			out[h] = true
		}
	}
	for _, d := range v.Domains {
		add(d)
	}
	if u, err := url.Parse(v.Website); err == nil && u.Hostname() != "" {
		add(u.Hostname())
	}
	return out
}

// MergeVendor copies the non-empty fields of patch onto v.
func MergeVendor(v *inventory.Vendor, patch inventory.Vendor) {
	set := func(dst *string, src string) {
		if src != "" {
			*dst = src
		}
	}
	set(&v.Name, patch.Name)
	set(&v.LegalEntity, patch.LegalEntity)
	set(&v.Website, patch.Website)
	set(&v.Category, patch.Category)
	set(&v.Owner, patch.Owner)
	set(&v.Status, patch.Status)
	set(&v.Criticality, patch.Criticality)
	set(&v.Description, patch.Description)
	set(&v.Catalog, patch.Catalog)
	if len(patch.Domains) > 0 {
		v.Domains = patch.Domains
	}
	if len(patch.Tags) > 0 {
		v.Tags = patch.Tags
	}
	if len(patch.Subprocessors) > 0 {
		v.Subprocessors = patch.Subprocessors
	}
}

func cloneWithoutMeta(inv inventory.Inventory) inventory.Inventory {
	out := inventory.Inventory{
		Vendors: slices.Clone(inv.Vendors),
		Systems: slices.Clone(inv.Systems),
		Flows:   slices.Clone(inv.Flows),
	}
	for i := range out.Vendors {
		v := &out.Vendors[i]
		v.Meta = inventory.Meta{}
		v.Domains, v.Tags, v.Subprocessors = slices.Clone(v.Domains), slices.Clone(v.Tags), slices.Clone(v.Subprocessors)
	}
	for i := range out.Systems {
		out.Systems[i].Meta = inventory.Meta{}
		out.Systems[i].Tags = slices.Clone(out.Systems[i].Tags)
	}
	for i := range out.Flows {
		f := &out.Flows[i]
		f.Meta = inventory.Meta{}
		f.Categories, f.Subjects, f.Evidence = slices.Clone(f.Categories), slices.Clone(f.Subjects), slices.Clone(f.Evidence)
	}
	return out
}

// ErrExists is returned when adding an object whose id is taken.
var ErrExists = errors.New("already exists")

// AddVendor creates a vendor.
func (s *Service) AddVendor(ctx context.Context, v inventory.Vendor) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		if slices.ContainsFunc(inv.Vendors, func(x inventory.Vendor) bool { return x.ID == v.ID }) {
			return fmt.Errorf("vendor %q %w", v.ID, ErrExists)
		}
		inv.Vendors = append(inv.Vendors, v)
		return nil
	})
}

// UpdateVendor changes a stored vendor with fn.
func (s *Service) UpdateVendor(ctx context.Context, id string, fn func(*inventory.Vendor) error) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		i := slices.IndexFunc(inv.Vendors, func(x inventory.Vendor) bool { return x.ID == id })
		if i < 0 {
			return fmt.Errorf("vendor %q: %w", id, store.ErrNotFound)
		}
		return fn(&inv.Vendors[i])
	})
}

// RemoveVendor deletes a vendor. Without cascade it refuses while flows or
// other vendors' subprocessor lists refer to it; with cascade it removes
// those flows and links too.
func (s *Service) RemoveVendor(ctx context.Context, id string, cascade bool) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		i := slices.IndexFunc(inv.Vendors, func(x inventory.Vendor) bool { return x.ID == id })
		if i < 0 {
			return fmt.Errorf("vendor %q: %w", id, store.ErrNotFound)
		}
		var flows, users []string
		for _, f := range inv.Flows {
			if f.Vendor == id {
				flows = append(flows, f.ID)
			}
		}
		for _, v := range inv.Vendors {
			if slices.Contains(v.Subprocessors, id) {
				users = append(users, v.ID)
			}
		}
		if !cascade && len(flows)+len(users) > 0 {
			return fmt.Errorf("vendor %q is still referenced by %d flows %v and %d vendors' subprocessor lists %v; remove them first or use --cascade", id, len(flows), flows, len(users), users)
		}
		inv.Flows = slices.DeleteFunc(inv.Flows, func(f inventory.Flow) bool { return f.Vendor == id })
		for j := range inv.Vendors {
			inv.Vendors[j].Subprocessors = slices.DeleteFunc(inv.Vendors[j].Subprocessors, func(s string) bool { return s == id })
		}
		inv.Vendors = slices.Delete(inv.Vendors, i, i+1)
		return nil
	})
}

// AddSystem creates a system.
func (s *Service) AddSystem(ctx context.Context, sys inventory.System) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		if slices.ContainsFunc(inv.Systems, func(x inventory.System) bool { return x.ID == sys.ID }) {
			return fmt.Errorf("system %q %w", sys.ID, ErrExists)
		}
		inv.Systems = append(inv.Systems, sys)
		return nil
	})
}

// UpdateSystem changes a stored system with fn.
func (s *Service) UpdateSystem(ctx context.Context, id string, fn func(*inventory.System) error) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		i := slices.IndexFunc(inv.Systems, func(x inventory.System) bool { return x.ID == id })
		if i < 0 {
			return fmt.Errorf("system %q: %w", id, store.ErrNotFound)
		}
		return fn(&inv.Systems[i])
	})
}

// RemoveSystem deletes a system, and with cascade its flows.
func (s *Service) RemoveSystem(ctx context.Context, id string, cascade bool) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		i := slices.IndexFunc(inv.Systems, func(x inventory.System) bool { return x.ID == id })
		if i < 0 {
			return fmt.Errorf("system %q: %w", id, store.ErrNotFound)
		}
		var flows []string
		for _, f := range inv.Flows {
			if f.System == id {
				flows = append(flows, f.ID)
			}
		}
		if !cascade && len(flows) > 0 {
			return fmt.Errorf("system %q still sends data in %d flows %v; remove them first or use --cascade", id, len(flows), flows)
		}
		inv.Flows = slices.DeleteFunc(inv.Flows, func(f inventory.Flow) bool { return f.System == id })
		inv.Systems = slices.Delete(inv.Systems, i, i+1)
		return nil
	})
}

// AddFlow creates a flow. An empty id becomes system.vendor.
func (s *Service) AddFlow(ctx context.Context, f inventory.Flow) (inventory.Plan, error) {
	if f.ID == "" {
		f.ID = inventory.DefaultFlowID(f.System, f.Vendor)
	}
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		if slices.ContainsFunc(inv.Flows, func(x inventory.Flow) bool { return x.ID == f.ID }) {
			return fmt.Errorf("flow %q %w (give the new flow another --id)", f.ID, ErrExists)
		}
		inv.Flows = append(inv.Flows, f)
		return nil
	})
}

// RemoveFlow deletes a flow.
func (s *Service) RemoveFlow(ctx context.Context, id string) (inventory.Plan, error) {
	return s.Edit(ctx, func(inv *inventory.Inventory) error {
		n := len(inv.Flows)
		inv.Flows = slices.DeleteFunc(inv.Flows, func(f inventory.Flow) bool { return f.ID == id })
		if len(inv.Flows) == n {
			return fmt.Errorf("flow %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
}
