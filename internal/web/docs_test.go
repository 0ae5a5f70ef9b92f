package web_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/weaklink/weaklink/internal/auth"
	"github.com/weaklink/weaklink/internal/web"
)

var update = flag.Bool("update", false, "rewrite the generated parts of docs/api.md")

const (
	apiDoc     = "../../docs/api.md"
	beginMark  = "<!-- routes: generated from the route table by `go test ./internal/web -run Docs -update` -->\n"
	endMark    = "<!-- end of routes -->\n"
	routesHelp = "| method | path | who may call it | what |\n|---|---|---|---|\n"
)

// routesTable renders the route table as Markdown.
func routesTable() string {
	var b strings.Builder
	b.WriteString(routesHelp)
	for _, rt := range web.Routes() {
		who := "anyone"
		switch rt.Perm {
		case web.Public:
		case web.Authenticated:
			who = "any session or token"
		default:
			var roles []string
			for _, r := range auth.Roles {
				if r.Can(rt.Perm) {
					roles = append(roles, string(r))
				}
			}
			who = fmt.Sprintf("`%s` (%s)", rt.Perm, strings.Join(roles, ", "))
		}
		what := rt.Summary
		if rt.Paged {
			what += "; paged"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s |\n", rt.Method, rt.Path, who, strings.ReplaceAll(what, "|", "\\|"))
	}
	return b.String()
}

// TestDocsRoutes keeps docs/api.md's route list in step with the table.
func TestDocsRoutes(t *testing.T) {
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers of the generated route list", apiDoc)
	}
	want := doc[:i+len(beginMark)] + routesTable() + doc[j:]
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(apiDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's route list is out of date: go test ./internal/web -run Docs -update", apiDoc)
}
