package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/weaklink/weaklink/internal/textutil"
	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds one inventory-as-code file.
const MaxFileSize = 256 << 20

// Source records where an object and each of its fields were written.
type Source struct {
	Pos    Position
	fields map[string]Position // "categories", "categories[2]"
	elems  map[string]elemPos  // "categories\x00user.name": where that value was written
}

type elemPos struct {
	index int
	pos   Position
}

// Elem names a list element by its value, as written: the field label with
// the element's original index ("categories[1]") and its position.
// Normalization sorts lists, so indexes of the normalized object are not the
// ones the author wrote. fallback is the index to use when the value was not
// written in a file.
func (s Source) Elem(field, value string, fallback int) (string, Position) {
	if e, ok := s.elems[field+"\x00"+value]; ok {
		return field + "[" + strconv.Itoa(e.index) + "]", e.pos
	}
	label := field + "[" + strconv.Itoa(fallback) + "]"
	return label, s.Field(label)
}

// Field returns the position of a field ("domains", "domains[1]"), falling
// back to the enclosing field and then the object.
func (s Source) Field(name string) Position {
	for name != "" {
		if p, ok := s.fields[name]; ok {
			return p
		}
		if i := strings.LastIndexByte(name, '['); i > 0 {
			name = name[:i]
			continue
		}
		break
	}
	return s.Pos
}

// Document is an inventory read from files, with the source of each object.
// VendorSrc[i] is where Vendors[i] was written, and likewise for the others.
type Document struct {
	Inventory
	VendorSrc []Source
	SystemSrc []Source
	FlowSrc   []Source
}

// Append adds the objects of another document.
func (d *Document) Append(o *Document) {
	d.Vendors = append(d.Vendors, o.Vendors...)
	d.Systems = append(d.Systems, o.Systems...)
	d.Flows = append(d.Flows, o.Flows...)
	d.VendorSrc = append(d.VendorSrc, o.VendorSrc...)
	d.SystemSrc = append(d.SystemSrc, o.SystemSrc...)
	d.FlowSrc = append(d.FlowSrc, o.FlowSrc...)
}

// FromInventory wraps objects that came from no file.
func FromInventory(inv Inventory) *Document {
	return &Document{
		Inventory: inv,
		VendorSrc: make([]Source, len(inv.Vendors)),
		SystemSrc: make([]Source, len(inv.Systems)),
		FlowSrc:   make([]Source, len(inv.Flows)),
	}
}

// IsInventoryFile reports whether a directory walk picks up name.
func IsInventoryFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// LoadPaths reads files and directories. A directory contributes every
// *.yaml, *.yml and *.json file below it, in path order, skipping hidden
// files and directories. Problems with the content of the files are returned
// together as Issues; I/O problems as other errors.
func LoadPaths(paths ...string) (*Document, error) {
	files, err := Files(paths...)
	if err != nil {
		return nil, err
	}
	return Collect(len(files), func(i int) (*Document, error) { return loadFile(files[i].Path, files[i].Explicit) })
}

// File is one file LoadPaths reads: a path it was given (Explicit), or one
// it found below a directory it was given.
type File struct {
	Path     string
	Explicit bool
}

// Files lists the files LoadPaths reads for paths, in its order.
func Files(paths ...string) ([]File, error) {
	var files []File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, File{p, true})
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && IsInventoryFile(d.Name()) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no .yaml, .yml or .json files", p)
		}
		slices.Sort(found)
		for _, f := range found {
			files = append(files, File{f, false})
		}
	}
	return files, nil
}

// Collect merges n decoded sources, in order, into one document. Problems
// with their content come back together, as Issues, so that one run shows
// them all; any other error stops at once.
func Collect(n int, decode func(i int) (*Document, error)) (*Document, error) {
	doc := &Document{}
	var issues Issues
	for i := range n {
		d, err := decode(i)
		var is Issues
		switch {
		case errors.As(err, &is):
			issues = append(issues, is...)
		case err != nil:
			return nil, err
		default:
			doc.Append(d)
		}
	}
	if len(issues) > 0 {
		return nil, issues
	}
	return doc, nil
}

func loadFile(name string, explicit bool) (*Document, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decode(f, name, explicit)
}

// Decode reads one inventory-as-code file: YAML (one or more documents) or
// JSON. file names the input in positions.
func Decode(r io.Reader, file string) (*Document, error) { return decode(r, file, true) }

func decode(r io.Reader, file string, explicit bool) (*Document, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(b) > MaxFileSize {
		return nil, Issues{{Pos: Position{File: file}, Message: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)}}
	}
	d := &decoder{file: file, doc: &Document{}, explicit: explicit}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			d.issues = append(d.issues, Issue{Pos: Position{File: file, Line: yamlErrLine(err)}, Message: yamlErrMessage(err)})
			break
		}
		d.document(&n)
	}
	if len(d.issues) > 0 {
		return nil, d.issues
	}
	return d.doc, nil
}

type decoder struct {
	file   string
	doc    *Document
	issues Issues
	// explicit is true when the file was named, not found in a directory:
	// a document of another kind is then an error rather than skipped.
	explicit bool
}

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) fail(n *yaml.Node, object, field, msg string) {
	d.issues = append(d.issues, Issue{Pos: d.pos(n), Object: object, Field: field, Message: msg})
}

var topLevel = []string{"kind", "version", "vendors", "systems", "flows"}

// Kind is the value of the optional top-level "kind" of an inventory
// document. Other weaklink files (a gateway policy, say) declare another kind
// and may sit in the same directory: a directory walk skips them.
const KindInventory = "inventory"

func (d *decoder) document(n *yaml.Node) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty document
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, "", "", "expected a mapping with vendors, systems and flows, found "+kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "kind" && v.Value != KindInventory {
			if d.explicit {
				d.fail(v, "", "kind", fmt.Sprintf("this is a %q document, not an inventory (kind: %s)", v.Value, KindInventory))
			}
			return
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "kind":
		case "version":
			if v.Value != "1" {
				d.fail(v, "", "version", fmt.Sprintf("unsupported version %q (this weaklink reads version 1)", v.Value))
			}
		case "vendors":
			decodeList(d, v, "vendors", &d.doc.Vendors, &d.doc.VendorSrc)
		case "systems":
			decodeList(d, v, "systems", &d.doc.Systems, &d.doc.SystemSrc)
		case "flows":
			decodeList(d, v, "flows", &d.doc.Flows, &d.doc.FlowSrc)
		default:
			d.fail(k, "", k.Value, "unknown top-level key"+textutil.DidYouMean(k.Value, topLevel)+"; expected version, vendors, systems or flows")
		}
	}
}

// decodeList decodes a list of objects, appending each valid one and its
// source; invalid ones are reported.
func decodeList[T any](d *decoder, list *yaml.Node, name string, objs *[]T, srcs *[]Source) {
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return
	}
	if list.Kind != yaml.SequenceNode {
		d.fail(list, "", name, "expected a list, found "+kindName(list))
		return
	}
	for i, item := range list.Content {
		var x T
		if src, ok := d.object(item, fmt.Sprintf("%s[%d]", name, i), &x); ok {
			*objs = append(*objs, x)
			*srcs = append(*srcs, src)
		}
	}
}

// readOnlyFields are written by export --format json and ignored on input.
var readOnlyFields = []string{"revision", "created_at", "updated_at"}

// object checks an object's keys against the fields of out, decodes it, and
// records field positions. label names the object until its id is known.
func (d *decoder) object(n *yaml.Node, label string, out any) (Source, bool) {
	src := Source{Pos: d.pos(n), fields: map[string]Position{}, elems: map[string]elemPos{}}
	if n.Kind != yaml.MappingNode {
		d.fail(n, label, "", "expected a mapping, found "+kindName(n))
		return src, false
	}
	known := yamlFields(reflect.TypeOf(out).Elem())
	object := label
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == "id" && n.Content[i+1].Kind == yaml.ScalarNode {
			object = fmt.Sprintf("%s %q", strings.TrimSuffix(strings.SplitN(label, "[", 2)[0], "s"), n.Content[i+1].Value)
		}
	}
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		switch {
		case slices.Contains(readOnlyFields, name):
		case !slices.Contains(known, name):
			d.fail(k, object, name, "unknown field"+textutil.DidYouMean(name, known))
			ok = false
		case seen[name]:
			d.fail(k, object, name, "field given twice")
			ok = false
		}
		seen[name] = true
		src.fields[name] = d.pos(v)
		if v.Kind == yaml.SequenceNode {
			for j, e := range v.Content {
				src.fields[name+"["+strconv.Itoa(j)+"]"] = d.pos(e)
				if e.Kind == yaml.ScalarNode {
					key := name + "\x00" + e.Value
					if _, dup := src.elems[key]; !dup {
						src.elems[key] = elemPos{j, d.pos(e)}
					}
				}
			}
		}
	}
	if !ok {
		return src, false
	}
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				line, text := splitYAMLLine(msg)
				d.issues = append(d.issues, Issue{Pos: Position{File: d.file, Line: line}, Object: object, Message: text})
			}
		} else {
			d.fail(n, object, "", err.Error())
		}
		return src, false
	}
	return src, true
}

// yamlFields lists the yaml names of a struct's fields, embedded ones included.
func yamlFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, name)
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func splitYAMLLine(msg string) (int, string) {
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

func yamlErrLine(err error) int { l, _ := splitYAMLLine(err.Error()); return l }

func yamlErrMessage(err error) string {
	_, m := splitYAMLLine(err.Error())
	return "invalid YAML: " + m
}
