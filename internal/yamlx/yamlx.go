// Package yamlx decodes YAML strictly with positions: unknown keys anywhere
// in a document are errors with line, column, path and a suggestion, and a
// node can be found by path to place later validation errors.
package yamlx

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/weaklink/weaklink/internal/textutil"
	"go.yaml.in/yaml/v3"
)

// Error is one problem at a place in a file.
type Error struct {
	File         string
	Line, Column int
	Path         string // routes[0].policy
	Message      string
}

func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errors is a list of problems; as an error it prints one per line.
type Errors []Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns es as an error, or nil.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Doc is a parsed document.
type Doc struct {
	File string
	Root *yaml.Node // the top mapping (or other value)
}

// Parse reads one YAML document.
func Parse(file string, b []byte) (*Doc, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		line, msg := 0, err.Error()
		if _, rest, ok := strings.Cut(msg, "line "); ok {
			num, text, _ := strings.Cut(rest, ":")
			line, _ = strconv.Atoi(num)
			msg = strings.TrimSpace(text)
		}
		return nil, Errors{{File: file, Line: line, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}}
	}
	root := &n
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		root = n.Content[0]
	}
	return &Doc{File: file, Root: root}, nil
}

// Decode checks every key of the document against out's yaml field names,
// recursively, then decodes. All unknown keys and type errors come back
// together.
func (d *Doc) Decode(out any) error {
	var errs Errors
	d.check(d.Root, reflect.TypeOf(out), "", &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := d.Root.Decode(out); err != nil {
		if te, ok := err.(*yaml.TypeError); ok {
			for _, m := range te.Errors {
				line := 0
				if _, rest, ok := strings.Cut(m, "line "); ok {
					num, text, _ := strings.Cut(rest, ":")
					line, _ = strconv.Atoi(num)
					m = strings.TrimSpace(text)
				}
				errs = append(errs, Error{File: d.File, Line: line, Message: m})
			}
			return errs
		}
		return Errors{{File: d.File, Message: err.Error()}}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (d *Doc) check(n *yaml.Node, t reflect.Type, path string, errs *Errors) {
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type checks its own node
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type error, reported by Decode
		}
		fields := map[string]reflect.Type{}
		var names []string
		collectFields(t, fields, &names)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, Error{File: d.File, Line: k.Line, Column: k.Column, Path: join(path, k.Value),
					Message: "unknown field" + textutil.DidYouMean(k.Value, names)})
				continue
			}
			d.check(v, ft, join(path, k.Value), errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.check(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, e := range n.Content {
			d.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	}
}

func collectFields(t reflect.Type, fields map[string]reflect.Type, names *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			collectFields(f.Type, fields, names)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
		*names = append(*names, name)
	}
	slices.Sort(*names)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Find returns the node at a path of mapping keys (string) and sequence
// indexes (int), or the deepest node found on the way, for error positions.
func (d *Doc) Find(path ...any) *yaml.Node {
	n := d.Root
	for _, p := range path {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch k := p.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return n
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					n, found = n.Content[i+1], true
					break
				}
			}
			if !found {
				return n
			}
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return n
			}
			n = n.Content[k]
		}
	}
	return n
}

// At makes an Error placed at the node found by path.
func (d *Doc) At(message string, path ...any) Error {
	n := d.Find(path...)
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return Error{File: d.File, Line: n.Line, Column: n.Column, Path: b.String(), Message: message}
}
