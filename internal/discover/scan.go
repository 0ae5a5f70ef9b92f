package discover

import (
	"context"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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
// Cancelling ctx stops it between files. Files are read in parallel, one
// worker per CPU; the report does not depend on their order.
func (s *Scanner) Scan(ctx context.Context, roots []string) (*Report, error) {
	began := time.Now()
	// What one scan learnt must not leak into the next.
	s.present, s.exported, s.constants, s.problems = map[string]bool{}, map[string]string{}, map[string]string{}, nil
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
	results := make([]fileResult, len(files))
	// Manifests first: they say which vendors the project uses, which lets
	// source scanning recognise SDK objects by brand name.
	var code []int
	for i, f := range files {
		if ManifestFormat(path.Base(f.rel)) == "" {
			code = append(code, i)
			continue
		}
		results[i] = s.scanManifest(f)
		for _, fd := range results[i].findings {
			s.present[fd.Vendor] = true
		}
	}
	// Then the vendors every code file imports, and after that the SDK
	// objects each binds to a name, so that a file can use an object
	// another file made. Each pass reads what the passes before it
	// merged, never what its own workers find, so the result does not
	// depend on the order files are read in.
	imported := make([][]string, len(files))
	if err := parallel(ctx, code, func(i int) { imported[i] = s.importedVendors(files[i]) }); err != nil {
		return nil, err
	}
	for _, i := range code {
		for _, v := range imported[i] {
			s.present[v] = true
		}
	}
	bound := make([]map[string]string, len(files))
	if err := parallel(ctx, code, func(i int) { bound[i] = s.prescan(files[i]) }); err != nil {
		return nil, err
	}
	for _, i := range code {
		for name, v := range bound[i] {
			if old, ok := s.exported[name]; ok && old < v {
				v = old // the same name bound in two files: the smaller id, for a stable report
			}
			s.exported[name] = v
			if isUpper(strings.TrimLeft(name, "$")) || strings.HasPrefix(name, "$") {
				s.constants[name] = s.exported[name]
			}
		}
	}
	var done, found atomic.Int64
	var progressMu sync.Mutex
	err := parallel(ctx, code, func(i int) {
		results[i] = s.scanFile(files[i])
		n, nf := done.Add(1), found.Add(int64(len(results[i].findings)))
		if s.Options.Progress != nil && n%50 == 0 {
			progressMu.Lock()
			s.Options.Progress(Progress{Files: int(n), Findings: int(nf)})
			progressMu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	r := &Report{Roots: roots}
	r.Stats.Skipped = ws.skipped
	var findings []Finding
	for i, res := range results {
		if !res.scanned {
			r.Stats.Skipped++
		} else {
			r.Stats.Files++
			r.Stats.Bytes += files[i].size
		}
		findings = append(findings, res.findings...)
		if res.problem != "" {
			s.problems = append(s.problems, res.problem)
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

// fileResult is what the scan of one file found.
type fileResult struct {
	findings []Finding
	scanned  bool   // false when the file was left out
	problem  string // a file that is not what its name claims
}

// parallel calls fn for every index, on one worker per CPU, and returns
// ctx's error if it was cancelled first.
func parallel(ctx context.Context, idx []int, fn func(int)) error {
	workers := min(runtime.GOMAXPROCS(0), len(idx))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= len(idx) {
					return
				}
				fn(idx[k])
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
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

// readSource reads a file that discovery scans, or returns nil when it is
// left out: too large, unreadable or binary.
func (s *Scanner) readSource(f walkFile) []byte {
	if f.size > s.Options.MaxFileSize {
		return nil
	}
	data, err := os.ReadFile(f.abs)
	if err != nil || int64(len(data)) > s.Options.MaxFileSize || binary(data) {
		return nil // vanished or unreadable: counted as skipped
	}
	return data
}

// scanManifest reads one dependency manifest or lock file.
func (s *Scanner) scanManifest(f walkFile) fileResult {
	data := s.readSource(f)
	if data == nil {
		return fileResult{}
	}
	deps, err := ParseManifest(f.rel, data)
	if err != nil {
		// A broken manifest is reported, not fatal: the rest of the tree
		// is still worth scanning.
		return fileResult{scanned: true, problem: err.Error()}
	}
	var out []Finding
	sys := s.systemFor(f.rel)
	for _, d := range deps {
		if d.Lock && !s.Options.IncludeLocks {
			continue
		}
		id, name, ok := s.Vendors.Package(d.Ecosystem, d.Name)
		if !ok {
			continue
		}
		out = append(out, Finding{Vendor: id, VendorName: name, Kind: KindDependency, System: sys,
			Evidence: Evidence{File: f.rel, Line: d.Line, Snippet: snippet(d.Ecosystem + " " + d.Name + " " + d.Version)},
			Detail:   d.Ecosystem + ":" + d.Name})
	}
	return fileResult{findings: out, scanned: true}
}

// sourceScan prepares the scan of one code, markup or config file, or
// returns nil when the file is left out.
func (s *Scanner) sourceScan(f walkFile, onlyCode bool) *fileScan {
	base := path.Base(f.rel)
	l := fileLang(base)
	if l == langNone || (onlyCode && !l.code()) {
		return nil
	}
	data := s.readSource(f)
	if data == nil || (!s.Options.IncludeVendored && generated(base, data)) {
		return nil
	}
	fc := &fileScan{s: s, rel: f.rel, raw: data, lang: l}
	fc.src = blankComments(data, l.comments())
	fc.li = newLineIndex(data)
	return fc
}

// scanFile reads one source, markup or config file.
func (s *Scanner) scanFile(f walkFile) fileResult {
	fc := s.sourceScan(f, false)
	if fc == nil {
		return fileResult{}
	}
	fc.system = s.systemFor(f.rel)
	fc.run()
	return fileResult{findings: fc.out, scanned: true}
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

// importedVendors returns the vendors a code file imports.
func (s *Scanner) importedVendors(f walkFile) []string {
	fc := s.sourceScan(f, true)
	if fc == nil {
		return nil
	}
	var vs []string
	for _, im := range imports(fc.lang, fc.src) {
		if v, ok := s.resolveImport(fc.lang, im.spec); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// prescan returns the names a code file binds to vendor SDK objects.
func (s *Scanner) prescan(f walkFile) map[string]string {
	fc := s.sourceScan(f, true)
	if fc == nil {
		return nil
	}
	fc.imports()
	return fc.assigned
}
