package discover

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// DefaultMaxFileSize is the largest file discovery reads.
const DefaultMaxFileSize = 2 << 20

// MinConfidence is the least confidence a data category needs to be
// reported.
const MinConfidence = 0.5

// Options change what a scan reads.
type Options struct {
	// IncludeVendored scans node_modules, vendor/, dist/, build/, minified
	// and generated files too.
	IncludeVendored bool
	// IncludeLocks reports packages that only lock files name (transitive
	// dependencies).
	IncludeLocks bool
	// NoGitignore scans files that .gitignore ignores.
	NoGitignore bool
	// Exclude are gitignore-style patterns of paths not to scan.
	Exclude []string
	// MaxFileSize skips larger files (DefaultMaxFileSize when 0).
	MaxFileSize int64
	// Systems maps directories to inventory systems; the longest matching
	// path wins.
	Systems []SystemPath
	// Progress, when set, is called every few files and once at the end.
	Progress func(Progress)
}

// SystemPath maps a directory (a slash path as the scan shows it) to a system.
type SystemPath struct {
	Path   string `yaml:"path" json:"path"`
	System string `yaml:"system" json:"system"`
}

// Progress is how far a scan has got.
type Progress struct {
	Files    int
	Findings int
	Done     bool
}

// Scanner scans trees and captures.
type Scanner struct {
	Vendors    *Vendors
	Classifier *taxonomy.Classifier
	Options    Options
	idx        *index
	// present are vendors a manifest or import shows the project uses; only
	// they bind identifiers by brand name.
	present map[string]bool
	// exported are names bound to a vendor SDK object in some file
	// (export const analytics = new Analytics(…)); a relative import of
	// the name binds it in the importing file. constants are such names
	// that look like constants (MIXPANEL = Mixpanel::Tracker.new), usable
	// anywhere, as Ruby and PHP code does.
	exported, constants map[string]string
	// problems are files that could not be read as what they claim to be.
	problems []string
}

// NewScanner returns a scanner over the given catalog and classifier.
func NewScanner(cat *catalog.Catalog, cls *taxonomy.Classifier, firstParty []string, opts Options) *Scanner {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	return &Scanner{
		Vendors:    &Vendors{Catalog: cat, FirstParty: firstParty},
		Classifier: cls,
		Options:    opts,
		idx:        newIndex(cat),
		present:    map[string]bool{},
		exported:   map[string]string{},
		constants:  map[string]string{},
	}
}

// Scan reads every path (directories and files) and returns the report.
// Cancelling ctx stops it between files.
func (s *Scanner) Scan(ctx context.Context, roots []string) (*Report, error) {
	began := time.Now()
	var files []walkFile
	var ws walkStats
	for _, root := range roots {
		err := walkRoot(ctx, root, &s.Options, &ws, func(f walkFile) error {
			files = append(files, f)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("discover %s: %w", root, err)
		}
	}
	// Manifests first: they say which vendors the project uses, which lets
	// source scanning recognise SDK objects by name.
	slices.SortStableFunc(files, func(a, b walkFile) int {
		am, bm := ManifestFormat(path.Base(a.rel)) != "", ManifestFormat(path.Base(b.rel)) != ""
		switch {
		case am && !bm:
			return -1
		case bm && !am:
			return 1
		}
		return 0
	})
	// Then every code file once for its imports and SDK objects, so that a
	// file can use an object another file made.
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.prescan(f)
	}
	r := &Report{Roots: roots}
	r.Stats.Skipped = ws.skipped
	var findings []Finding
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fs, scanned, err := s.scanFile(f)
		if err != nil {
			return nil, err
		}
		if !scanned {
			r.Stats.Skipped++
		} else {
			r.Stats.Files++
			r.Stats.Bytes += f.size
		}
		findings = append(findings, fs...)
		if s.Options.Progress != nil && i%50 == 0 {
			s.Options.Progress(Progress{Files: i + 1, Findings: len(findings)})
		}
	}
	if s.Options.Progress != nil {
		s.Options.Progress(Progress{Files: len(files), Findings: len(findings), Done: true})
	}
	r.Findings = finish(findings)
	r.Problems = s.problems
	r.Vendors = Summarize(r.Findings)
	r.Stats.Duration = time.Since(began)
	return r, nil
}

// finish sorts findings, drops categories below MinConfidence and merges
// duplicates (same vendor, kind, place and detail).
func finish(fs []Finding) []Finding {
	SortFindings(fs)
	out := fs[:0]
	for _, f := range fs {
		keep := f.Categories[:0]
		for _, c := range f.Categories {
			if c.Confidence >= MinConfidence {
				keep = append(keep, c)
			}
		}
		f.Categories = keep
		sortCategories(f.Categories)
		if n := len(out); n > 0 {
			p := &out[n-1]
			if p.Vendor == f.Vendor && p.Kind == f.Kind && p.Evidence.File == f.Evidence.File &&
				p.Evidence.Line == f.Evidence.Line && p.Detail == f.Detail {
				for _, c := range f.Categories {
					p.Categories = addCategory(p.Categories, c)
				}
				sortCategories(p.Categories)
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// systemFor maps a shown path to its system.
func (s *Scanner) systemFor(rel string) string {
	best, bestLen := "", -1
	for _, sp := range s.Options.Systems {
		p := strings.TrimSuffix(strings.TrimPrefix(sp.Path, "./"), "/")
		if p == "" || p == "." || rel == p || strings.HasPrefix(rel, p+"/") {
			if len(p) > bestLen {
				best, bestLen = sp.System, len(p)
			}
		}
	}
	return best
}

// scanFile reads one file. scanned is false when the file was left out.
func (s *Scanner) scanFile(f walkFile) (out []Finding, scanned bool, err error) {
	base := path.Base(f.rel)
	format := ManifestFormat(base)
	l := fileLang(base)
	if format == "" && l == langNone {
		return nil, false, nil
	}
	if f.size > s.Options.MaxFileSize {
		return nil, false, nil
	}
	data, err := os.ReadFile(f.abs)
	if err != nil {
		return nil, false, nil // vanished or unreadable: counted as skipped
	}
	if int64(len(data)) > s.Options.MaxFileSize || binary(data) {
		return nil, false, nil
	}
	if format != "" {
		deps, err := ParseManifest(f.rel, data)
		if err != nil {
			// A broken manifest is reported, not fatal: the rest of the
			// tree is still worth scanning.
			s.problems = append(s.problems, err.Error())
			return nil, true, nil
		}
		sys := s.systemFor(f.rel)
		for _, d := range deps {
			if d.Lock && !s.Options.IncludeLocks {
				continue
			}
			id, name, ok := s.Vendors.Package(d.Ecosystem, d.Name)
			if !ok {
				continue
			}
			s.present[id] = true
			out = append(out, Finding{Vendor: id, VendorName: name, Kind: KindDependency, System: sys,
				Evidence: Evidence{File: f.rel, Line: d.Line, Snippet: snippet(d.Ecosystem + " " + d.Name + " " + d.Version)},
				Detail:   d.Ecosystem + ":" + d.Name})
		}
		return out, true, nil
	}
	if !s.Options.IncludeVendored && generated(base, data) {
		return nil, false, nil
	}
	fc := &fileScan{s: s, rel: f.rel, raw: data, lang: l, system: s.systemFor(f.rel)}
	fc.src = blankComments(data, l.comments())
	fc.li = newLineIndex(data)
	fc.run()
	return fc.out, true, nil
}

// snippet trims a line of evidence to something short and printable.
func snippet(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}

// prescan reads a code file for the vendors it imports and the SDK objects
// it binds to names, before the real scan.
func (s *Scanner) prescan(f walkFile) {
	base := path.Base(f.rel)
	l := fileLang(base)
	if !l.code() || ManifestFormat(base) != "" || f.size > s.Options.MaxFileSize {
		return
	}
	data, err := os.ReadFile(f.abs)
	if err != nil || binary(data) || (!s.Options.IncludeVendored && generated(base, data)) {
		return
	}
	fc := &fileScan{s: s, rel: f.rel, raw: data, lang: l}
	fc.src = blankComments(data, l.comments())
	fc.li = newLineIndex(data)
	fc.imports()
	for name, v := range fc.assigned {
		s.exported[name] = v
		if isUpper(strings.TrimLeft(name, "$")) || strings.HasPrefix(name, "$") {
			s.constants[name] = v
		}
	}
}
