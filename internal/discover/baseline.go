package discover

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/weaklink/weaklink/internal/yamlx"
)

// BaselineVersion is the baseline file format this package reads and writes.
const BaselineVersion = 1

// Baseline is a set of accepted drift items and findings, kept in a file in
// the repository. Accepted items still show in reports, marked baselined,
// but no longer fail the CI gate.
//
// The file is YAML (or JSON, which YAML reads too):
//
//	version: 1
//	accepted:
//	  - key: "new-vendor|posthog|||"
//	    reason: "approved in ticket PRIV-12"
//	    added: "2026-11-23"
type Baseline struct {
	Version  int             `yaml:"version" json:"version"`
	Accepted []BaselineEntry `yaml:"accepted" json:"accepted"`
}

// BaselineEntry accepts one drift item (by DriftItem.Key) or one finding (by
// Finding.Fingerprint).
type BaselineEntry struct {
	Key    string `yaml:"key" json:"key"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
	// Added is the day the entry was accepted, YYYY-MM-DD.
	Added string `yaml:"added,omitempty" json:"added,omitempty"`
}

// LoadBaseline reads and checks a baseline file. Errors name the file and,
// for problems in it, the line: unknown fields, malformed YAML, a missing or
// unsupported version, empty or duplicate keys and bad dates.
func LoadBaseline(path string) (*Baseline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("baseline %s: file does not exist", path)
		}
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return parseBaseline(path, b)
}

// parseBaseline is LoadBaseline on bytes.
func parseBaseline(file string, b []byte) (*Baseline, error) {
	doc, err := yamlx.Parse(file, b)
	if err != nil {
		return nil, err
	}
	if doc.Root.Kind == 0 || doc.Root.Kind == yaml.DocumentNode { // nothing but blanks and comments
		return nil, yamlx.Errors{{File: file, Message: fmt.Sprintf("empty baseline: want at least \"version: %d\"", BaselineVersion)}}
	}
	if doc.Root.Kind != yaml.MappingNode {
		return nil, yamlx.Errors{{File: file, Line: doc.Root.Line, Column: doc.Root.Column,
			Message: "a baseline is a mapping with version and accepted"}}
	}
	var bl Baseline
	if err := doc.Decode(&bl); err != nil {
		return nil, err
	}
	var errs yamlx.Errors
	switch {
	case doc.Find("version") == doc.Root:
		errs = append(errs, yamlx.Error{File: file, Line: doc.Root.Line, Column: doc.Root.Column,
			Message: fmt.Sprintf("version is required (version: %d)", BaselineVersion)})
	case bl.Version != BaselineVersion:
		errs = append(errs, doc.At(fmt.Sprintf("unsupported version %d (this weaklink reads version %d)", bl.Version, BaselineVersion), "version"))
	}
	seen := map[string]int{}
	for i, e := range bl.Accepted {
		if strings.TrimSpace(e.Key) == "" {
			errs = append(errs, doc.At("key is required", "accepted", i, "key"))
			continue
		}
		if j, dup := seen[e.Key]; dup {
			first := doc.Find("accepted", j, "key")
			errs = append(errs, doc.At(fmt.Sprintf("duplicate key %q (first at line %d)", e.Key, first.Line), "accepted", i, "key"))
		} else {
			seen[e.Key] = i
		}
		if e.Added != "" {
			if _, err := time.Parse(time.DateOnly, e.Added); err != nil {
				errs = append(errs, doc.At(fmt.Sprintf("added %q is not a date (YYYY-MM-DD)", e.Added), "accepted", i, "added"))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &bl, nil
}

// Accepts reports whether the baseline accepts a drift item key or finding
// fingerprint.
func (b *Baseline) Accepts(key string) bool {
	if b == nil {
		return false
	}
	for _, e := range b.Accepted {
		if e.Key == key {
			return true
		}
	}
	return false
}

// Apply sets Baselined on the drift items the baseline accepts. It never
// clears the flag.
func (b *Baseline) Apply(d *Drift) {
	if b == nil || d == nil {
		return
	}
	keys := make(map[string]bool, len(b.Accepted))
	for _, e := range b.Accepted {
		keys[e.Key] = true
	}
	for i := range d.Items {
		if keys[d.Items[i].Key()] {
			d.Items[i].Baselined = true
		}
	}
}

// Unused returns the entries that match no item of d, sorted by key: the
// drift they accepted is gone, and they can be removed.
func (b *Baseline) Unused(d *Drift) []BaselineEntry {
	if b == nil {
		return nil
	}
	present := map[string]bool{}
	if d != nil {
		for _, it := range d.Items {
			present[it.Key()] = true
		}
	}
	var out []BaselineEntry
	for _, e := range b.Accepted {
		if !present[e.Key] {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b BaselineEntry) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// NewBaseline accepts every current blocking item of d, with reason and the
// date of now. Items that an earlier baseline already accepted (Baselined)
// are kept too, so regenerating a baseline does not drop them; items without
// evidence never block and are left out.
func NewBaseline(d *Drift, reason string, now time.Time) *Baseline {
	b := &Baseline{Version: BaselineVersion, Accepted: []BaselineEntry{}}
	if d == nil {
		return b
	}
	seen := map[string]bool{}
	for _, it := range d.Items {
		if !it.Blocking() && !(it.Baselined && it.Kind != DriftNoEvidence) {
			continue
		}
		k := it.Key()
		if seen[k] {
			continue
		}
		seen[k] = true
		b.Accepted = append(b.Accepted, BaselineEntry{Key: k, Reason: reason, Added: now.Format(time.DateOnly)})
	}
	slices.SortFunc(b.Accepted, func(x, y BaselineEntry) int { return cmp.Compare(x.Key, y.Key) })
	return b
}

const baselineHeader = `weaklink discovery baseline.

Each entry accepts one drift item, so that it no longer fails the CI gate:
a vendor missing from the inventory (new-vendor), a vendor used before it
is approved (unapproved-vendor), or a data category that no declared flow
covers (new-category). Accepted items still appear in reports, marked
[baselined].

A key is kind|vendor|system|category|flow (system, category and flow may
be empty); SARIF output shows it as properties.key. Give every entry a
reason. Remove an entry to make the gate strict again; an
entry that matches nothing any more can be removed.`

// Write writes the baseline as YAML: a header comment explaining the file,
// then the entries sorted by key. The same baseline always writes the same
// bytes.
func (b *Baseline) Write(w io.Writer) error {
	if b == nil {
		b = &Baseline{}
	}
	entries := slices.Clone(b.Accepted)
	slices.SortStableFunc(entries, func(x, y BaselineEntry) int { return cmp.Compare(x.Key, y.Key) })
	entries = slices.CompactFunc(entries, func(x, y BaselineEntry) bool { return x.Key == y.Key })

	str := func(s string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
	}
	key := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, e := range entries {
		m := &yaml.Node{Kind: yaml.MappingNode}
		m.Content = append(m.Content, key("key"), str(e.Key))
		if e.Reason != "" {
			m.Content = append(m.Content, key("reason"), str(e.Reason))
		}
		if e.Added != "" {
			m.Content = append(m.Content, key("added"), str(e.Added))
		}
		list.Content = append(list.Content, m)
	}
	if len(entries) == 0 {
		list.Style = yaml.FlowStyle
	}
	version := b.Version
	if version == 0 {
		version = BaselineVersion
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: commentLines(baselineHeader), Content: []*yaml.Node{{
		Kind: yaml.MappingNode,
		Content: []*yaml.Node{
			key("version"), {Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(version)},
			key("accepted"), list,
		},
	}}}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("discover: writing baseline: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("discover: writing baseline: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// commentLines prefixes each line with "# " ("#" for blank lines).
func commentLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = "#"
		} else {
			lines[i] = "# " + l
		}
	}
	return strings.Join(lines, "\n")
}
