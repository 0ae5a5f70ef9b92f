package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Op is what a change does.
type Op string

const (
	OpCreate Op = "create"
	OpUpdate Op = "update"
	OpDelete Op = "delete"
)

// Kind is the kind of object a change touches.
type Kind string

const (
	KindVendor Kind = "vendor"
	KindSystem Kind = "system"
	KindFlow   Kind = "flow"
)

// FieldChange is one field an update changes, with JSON renderings of the
// old and new values.
type FieldChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

// Change is one step of a plan. For create and update, the object holds the
// new state; for delete, the old one. Revision is the stored revision an
// update or delete expects, so a plan made from a stale read is refused.
type Change struct {
	Op       Op            `json:"op"`
	Kind     Kind          `json:"kind"`
	ID       string        `json:"id"`
	Revision int64         `json:"revision,omitempty"`
	Fields   []FieldChange `json:"fields,omitempty"`
	Vendor   *Vendor       `json:"-"`
	System   *System       `json:"-"`
	Flow     *Flow         `json:"-"`
}

// Plan is the ordered list of changes that turns one inventory into another.
type Plan struct {
	Changes []Change `json:"changes"`
}

// Counts returns how many objects the plan creates, updates and deletes.
func (p Plan) Counts() (create, update, del int) {
	for _, c := range p.Changes {
		switch c.Op {
		case OpCreate:
			create++
		case OpUpdate:
			update++
		case OpDelete:
			del++
		}
	}
	return
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Changes) == 0 }

// Summary is the plan's last line: "Plan: 2 to create, 1 to update, 0 to delete."
func (p Plan) Summary() string {
	if p.Empty() {
		return "No changes: the inventory matches."
	}
	c, u, d := p.Counts()
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to delete.", c, u, d)
}

// WriteText prints the plan for people: one line per object, field diffs
// under updates, then the summary. limit > 0 caps the object lines printed.
func (p Plan) WriteText(w io.Writer, limit int) error {
	for i, c := range p.Changes {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "… and %d more changes\n", len(p.Changes)-limit)
			break
		}
		sign := map[Op]string{OpCreate: "+", OpUpdate: "~", OpDelete: "-"}[c.Op]
		fmt.Fprintf(w, "%s %s %s\n", sign, c.Kind, c.ID)
		for _, f := range c.Fields {
			fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, f.Old, f.New)
		}
	}
	_, err := fmt.Fprintln(w, p.Summary())
	return err
}

// Diff computes the plan from current to desired. Objects in desired are
// created or updated; with prune, stored objects absent from desired are
// deleted. Both inventories must be normalized. Changes come in an order a
// store can apply with referential integrity: flow deletes, vendor and system
// creates and updates, flow creates and updates, system and vendor deletes.
func Diff(current, desired Inventory, prune bool) Plan {
	vendorUp, vendorDel := diffKind(KindVendor, current.Vendors, desired.Vendors, prune,
		func(v *Vendor) (string, *Meta) { return v.ID, &v.Meta }, func(c *Change, v *Vendor) { c.Vendor = v })
	systemUp, systemDel := diffKind(KindSystem, current.Systems, desired.Systems, prune,
		func(s *System) (string, *Meta) { return s.ID, &s.Meta }, func(c *Change, s *System) { c.System = s })
	flowUp, flowDel := diffKind(KindFlow, current.Flows, desired.Flows, prune,
		func(f *Flow) (string, *Meta) { return f.ID, &f.Meta }, func(c *Change, f *Flow) { c.Flow = f })
	return Plan{Changes: slices.Concat(flowDel, vendorUp, systemUp, flowUp, systemDel, vendorDel)}
}

// diffKind compares the objects of one kind: creates and updates for every
// desired object that is new or differs, and with prune, deletes for stored
// objects that are not desired. key returns an object's id and metadata;
// attach puts the object on its change.
func diffKind[T any](kind Kind, current, desired []T, prune bool, key func(*T) (string, *Meta), attach func(*Change, *T)) (upserts, deletes []Change) {
	stored := make(map[string]*T, len(current))
	for i := range current {
		id, _ := key(&current[i])
		stored[id] = &current[i]
	}
	wanted := make(map[string]bool, len(desired))
	for i := range desired {
		d := desired[i]
		id, meta := key(&d)
		wanted[id] = true
		c, ok := stored[id]
		if !ok {
			ch := Change{Op: OpCreate, Kind: kind, ID: id}
			attach(&ch, &d)
			upserts = append(upserts, ch)
			continue
		}
		if fields := diffFields(*c, d); len(fields) > 0 {
			_, old := key(c)
			*meta = *old
			ch := Change{Op: OpUpdate, Kind: kind, ID: id, Revision: old.Revision, Fields: fields}
			attach(&ch, &d)
			upserts = append(upserts, ch)
		}
	}
	if prune {
		for i := range current {
			c := current[i]
			if id, meta := key(&c); !wanted[id] {
				ch := Change{Op: OpDelete, Kind: kind, ID: id, Revision: meta.Revision}
				attach(&ch, &c)
				deletes = append(deletes, ch)
			}
		}
	}
	return upserts, deletes
}

// Result returns the inventory after applying the plan to current.
func (p Plan) Result(current Inventory) Inventory {
	vendors := indexBy(current.Vendors, func(v Vendor) string { return v.ID })
	systems := indexBy(current.Systems, func(s System) string { return s.ID })
	flows := indexBy(current.Flows, func(f Flow) string { return f.ID })
	for _, c := range p.Changes {
		switch {
		case c.Vendor != nil && c.Op == OpDelete:
			delete(vendors, c.ID)
		case c.Vendor != nil:
			vendors[c.ID] = *c.Vendor
		case c.System != nil && c.Op == OpDelete:
			delete(systems, c.ID)
		case c.System != nil:
			systems[c.ID] = *c.System
		case c.Flow != nil && c.Op == OpDelete:
			delete(flows, c.ID)
		case c.Flow != nil:
			flows[c.ID] = *c.Flow
		}
	}
	var out Inventory
	for _, v := range vendors {
		out.Vendors = append(out.Vendors, v)
	}
	for _, s := range systems {
		out.Systems = append(out.Systems, s)
	}
	for _, f := range flows {
		out.Flows = append(out.Flows, f)
	}
	out.Sort()
	return out
}

// Prepare is the whole of "apply" before anything is written: it normalizes
// and validates the desired document, computes the plan against the current
// inventory, and validates the references of the result. It returns every
// problem at once; with problems, the plan must not be applied.
func (c Checker) Prepare(doc *Document, current Inventory, prune bool) (Plan, Issues) {
	issues := c.Normalize(doc)
	issues = append(issues, c.CheckObjects(doc)...)
	if len(issues) > 0 {
		return Plan{}, issues
	}
	desired := doc.Inventory
	plan := Diff(current, desired, prune)
	if is := c.CheckReferences(plan.Result(current), doc); len(is) > 0 {
		return Plan{}, is
	}
	return plan, nil
}

func indexBy[T any](list []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(list))
	for _, x := range list {
		m[key(x)] = x
	}
	return m
}

var timePtrType = reflect.TypeFor[*time.Time]()

// diffFields compares the inventory-as-code fields of two objects of the
// same type (those with a yaml name) and returns those that differ.
func diffFields[T any](old, new T) []FieldChange {
	ov, nv := reflect.ValueOf(old), reflect.ValueOf(new)
	t := ov.Type()
	var out []FieldChange
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || name == "" {
			continue
		}
		a, b := ov.Field(i), nv.Field(i)
		if equalValue(a, b) {
			continue
		}
		oj, _ := json.Marshal(a.Interface())
		nj, _ := json.Marshal(b.Interface())
		out = append(out, FieldChange{Field: name, Old: oj, New: nj})
	}
	return out
}

func equalValue(a, b reflect.Value) bool {
	if a.Type() == timePtrType {
		x, y := a.Interface().(*time.Time), b.Interface().(*time.Time)
		if x == nil || y == nil {
			return x == nil && y == nil
		}
		return x.Equal(*y)
	}
	if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
		return true // nil and empty are the same list
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}
