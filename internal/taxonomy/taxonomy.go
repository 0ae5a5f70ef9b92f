// Package taxonomy is weaklink's tree of personal-data categories.
//
// Keys are dot-separated and compatible with the fideslang data categories
// (user.contact.email). A key stands for itself and all keys below it, so a
// flow that declares user.contact also carries user.contact.email. The tree is
// embedded in the binary (taxonomy.yaml) and can be replaced by a file.
package taxonomy

import (
	_ "embed"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/weaklink/weaklink/internal/textutil"
	"go.yaml.in/yaml/v3"
)

//go:embed taxonomy.yaml
var embedded []byte

// Category is one node of the tree.
type Category struct {
	Key         string   `yaml:"key" json:"key"`
	Name        string   `yaml:"name" json:"name"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Sensitivity int      `yaml:"sensitivity" json:"sensitivity"`
	Fideslang   string   `yaml:"fideslang,omitempty" json:"fideslang,omitempty"`
	Fields      []string `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// Parent returns the key of the category's parent, or "" for a root.
func (c Category) Parent() string { return Parent(c.Key) }

// Tree is an immutable, validated set of categories.
type Tree struct {
	Version string
	byKey   map[string]Category
	keys    []string // sorted
}

type file struct {
	Version    string     `yaml:"version"`
	Categories []Category `yaml:"categories"`
}

var (
	defaultOnce sync.Once
	defaultTree *Tree
)

// Default returns the embedded taxonomy. It panics only if the embedded file
// is invalid, which a test rules out.
func Default() *Tree {
	defaultOnce.Do(func() {
		t, err := Parse(embedded)
		if err != nil {
			panic("taxonomy: embedded taxonomy.yaml: " + err.Error())
		}
		defaultTree = t
	})
	return defaultTree
}

// Load reads a taxonomy file that replaces the embedded one.
func Load(r io.Reader) (*Tree, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse validates and indexes a taxonomy document.
func Parse(b []byte) (*Tree, error) {
	var f file
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("taxonomy: %w", err)
	}
	t := &Tree{Version: f.Version, byKey: make(map[string]Category, len(f.Categories))}
	for i, c := range f.Categories {
		if !validKey(c.Key) {
			return nil, fmt.Errorf("taxonomy: categories[%d]: invalid key %q", i, c.Key)
		}
		if _, dup := t.byKey[c.Key]; dup {
			return nil, fmt.Errorf("taxonomy: categories[%d]: duplicate key %q", i, c.Key)
		}
		if c.Name == "" {
			return nil, fmt.Errorf("taxonomy: %s: name is required", c.Key)
		}
		if c.Sensitivity < 0 || c.Sensitivity > 4 {
			return nil, fmt.Errorf("taxonomy: %s: sensitivity %d out of range 0..4", c.Key, c.Sensitivity)
		}
		t.byKey[c.Key] = c
		t.keys = append(t.keys, c.Key)
	}
	for _, k := range t.keys {
		if p := Parent(k); p != "" {
			if _, ok := t.byKey[p]; !ok {
				return nil, fmt.Errorf("taxonomy: %s: parent %q is not defined", k, p)
			}
		}
		if fl := t.byKey[k].Fideslang; fl != "" {
			if _, ok := t.byKey[fl]; !ok {
				return nil, fmt.Errorf("taxonomy: %s: fideslang key %q is not defined", k, fl)
			}
		}
	}
	slices.Sort(t.keys)
	return t, nil
}

func validKey(k string) bool {
	if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Get returns the category for key.
func (t *Tree) Get(key string) (Category, bool) {
	c, ok := t.byKey[key]
	return c, ok
}

// Has reports whether key is defined.
func (t *Tree) Has(key string) bool { _, ok := t.byKey[key]; return ok }

// Keys returns all keys in sorted order. The slice must not be modified.
func (t *Tree) Keys() []string { return t.keys }

// All returns every category in key order.
func (t *Tree) All() []Category {
	out := make([]Category, len(t.keys))
	for i, k := range t.keys {
		out[i] = t.byKey[k]
	}
	return out
}

// Check returns nil if key is defined, or an error that suggests the nearest
// defined key.
func (t *Tree) Check(key string) error {
	if t.Has(key) {
		return nil
	}
	return fmt.Errorf("unknown data category %q%s", key, textutil.DidYouMean(key, t.keys))
}

// Descendants returns the defined keys strictly below key, in order.
func (t *Tree) Descendants(key string) []string {
	var out []string
	prefix := key + "."
	i, _ := slices.BinarySearch(t.keys, prefix)
	for ; i < len(t.keys) && strings.HasPrefix(t.keys[i], prefix); i++ {
		out = append(out, t.keys[i])
	}
	return out
}

// Sensitivity is the category's sensitivity, or the highest sensitivity of
// its descendants when that is higher: a flow naming a parent key may carry
// any of its children. Unknown keys have sensitivity -1.
func (t *Tree) Sensitivity(key string) int {
	c, ok := t.byKey[key]
	if !ok {
		return -1
	}
	s := c.Sensitivity
	for _, d := range t.Descendants(key) {
		s = max(s, t.byKey[d].Sensitivity)
	}
	return s
}

// Fideslang returns the key to use where a consumer needs strict upstream
// fideslang: the key itself, or the nearest upstream key for weaklink's own
// extensions.
func (t *Tree) Fideslang(key string) string {
	if c, ok := t.byKey[key]; ok && c.Fideslang != "" {
		return c.Fideslang
	}
	return key
}

// Parent returns the parent of a dot-separated key, or "" at the root.
func Parent(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// Ancestors returns the proper ancestors of key, nearest first:
// user.contact.email → [user.contact user].
func Ancestors(key string) []string {
	var out []string
	for p := Parent(key); p != ""; p = Parent(p) {
		out = append(out, p)
	}
	return out
}

// Covers reports whether category a includes category b: a == b or b lies
// below a in the tree.
func Covers(a, b string) bool {
	return a == b || strings.HasPrefix(b, a) && len(b) > len(a) && b[len(a)] == '.'
}

// Overlaps reports whether a and b can describe the same data: one covers the
// other. A flow declaring user.contact overlaps a query for user.contact.email,
// and a flow declaring user.contact.email overlaps a query for user.
func Overlaps(a, b string) bool { return Covers(a, b) || Covers(b, a) }
