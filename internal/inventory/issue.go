package inventory

import (
	"fmt"
	"strings"
)

// Position is a place in an inventory-as-code file. The zero Position means
// the object did not come from a file (the CLI, the store).
type Position struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (p Position) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Issue is one problem with an inventory: where it is, which object and
// field, and what is wrong.
type Issue struct {
	Pos     Position `json:"position"`
	Object  string   `json:"object,omitempty"` // vendor "mixpanel", flows[3]
	Field   string   `json:"field,omitempty"`  // categories[2]
	Message string   `json:"message"`
}

func (i Issue) String() string {
	var b strings.Builder
	if p := i.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if i.Object != "" {
		b.WriteString(i.Object)
		b.WriteString(": ")
	}
	if i.Field != "" {
		b.WriteString(i.Field)
		b.WriteString(": ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Issues is a list of problems. It is an error when not empty; its message
// lists every problem on its own line.
type Issues []Issue

func (is Issues) Error() string {
	lines := make([]string, 0, len(is)+1)
	for _, i := range is {
		lines = append(lines, i.String())
	}
	if len(is) > 1 {
		lines = append(lines, fmt.Sprintf("%d problems; nothing was changed", len(is)))
	}
	return strings.Join(lines, "\n")
}

// Err returns is as an error, or nil when it is empty.
func (is Issues) Err() error {
	if len(is) == 0 {
		return nil
	}
	return is
}
