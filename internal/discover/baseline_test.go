package discover

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var baselineNow = time.Date(2026, 11, 23, 15, 4, 5, 0, time.UTC)

func writeBaselineFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBaselineRoundTrip(t *testing.T) {
	d := formatTestReport().Drift
	for i := range d.Items {
		d.Items[i].Baselined = false
	}
	b := NewBaseline(d, "accepted in PRIV-12: reviewed by legal", baselineNow)
	if len(b.Accepted) != 4 {
		t.Fatalf("accepted %d items, want the 4 blocking ones: %+v", len(b.Accepted), b.Accepted)
	}
	for _, e := range b.Accepted {
		if e.Added != "2026-11-23" || e.Reason != "accepted in PRIV-12: reviewed by legal" {
			t.Errorf("entry %+v", e)
		}
		if strings.HasPrefix(e.Key, DriftNoEvidence) {
			t.Errorf("no-evidence item accepted: %s", e.Key)
		}
	}
	if !slices.IsSortedFunc(b.Accepted, func(x, y BaselineEntry) int { return strings.Compare(x.Key, y.Key) }) {
		t.Error("entries not sorted by key")
	}

	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "baseline.yaml", buf.Bytes())
	if !strings.HasPrefix(buf.String(), "# weaklink discovery baseline.") {
		t.Errorf("no header comment:\n%s", buf.String())
	}

	loaded, err := LoadBaseline(writeBaselineFile(t, "weaklink-baseline.yaml", buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Version != 1 || !slices.Equal(loaded.Accepted, b.Accepted) {
		t.Errorf("loaded %+v, want %+v", loaded, b)
	}

	loaded.Apply(d)
	if f := d.Failing(); len(f) != 0 {
		t.Errorf("after Apply, failing items: %+v", f)
	}
	for _, it := range d.Items {
		if want := it.Kind != DriftNoEvidence; it.Baselined != want {
			t.Errorf("%s: baselined %v, want %v", it.Key(), it.Baselined, want)
		}
	}
	if u := loaded.Unused(d); len(u) != 0 {
		t.Errorf("unused entries: %+v", u)
	}

	// Writing again gives the same bytes.
	var again bytes.Buffer
	if err := loaded.Write(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("second write differs:\n%s\n---\n%s", buf.String(), again.String())
	}

	// Regenerating from drift a baseline already covers keeps every entry.
	re := NewBaseline(d, "regenerated", baselineNow)
	if len(re.Accepted) != 4 {
		t.Errorf("regenerated baseline has %d entries, want 4", len(re.Accepted))
	}
}

func TestBaselineApplyPartial(t *testing.T) {
	d := formatTestReport().Drift
	for i := range d.Items {
		d.Items[i].Baselined = false
	}
	b := &Baseline{Version: 1, Accepted: []BaselineEntry{
		{Key: d.Items[1].Key()},
		{Key: "new-vendor|gone-vendor|||"},
	}}
	b.Apply(d)
	for i, it := range d.Items {
		if it.Baselined != (i == 1) {
			t.Errorf("item %d baselined %v", i, it.Baselined)
		}
	}
	if u := b.Unused(d); len(u) != 1 || u[0].Key != "new-vendor|gone-vendor|||" {
		t.Errorf("Unused = %+v", u)
	}
	if !b.Accepts(d.Items[1].Key()) || b.Accepts(d.Items[0].Key()) {
		t.Error("Accepts disagrees with Apply")
	}
	// A nil baseline or drift is a no-op.
	var nb *Baseline
	nb.Apply(d)
	b.Apply(nil)
	if nb.Accepts("x") {
		t.Error("nil baseline accepts")
	}
	if e := NewBaseline(nil, "", baselineNow); e.Version != 1 || len(e.Accepted) != 0 {
		t.Errorf("NewBaseline(nil) = %+v", e)
	}
}

func TestBaselineWriteEmptyAndSpecial(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Baseline{}).Write(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "version: 1\naccepted: []\n") {
		t.Errorf("empty baseline:\n%s", buf.String())
	}
	// Keys and reasons with YAML syntax, quotes and line breaks survive.
	b := &Baseline{Version: 1, Accepted: []BaselineEntry{
		{Key: "new-vendor|domain:x.io|web||", Reason: "line one\nline two: \"quoted\" # not a comment", Added: "2026-01-02"},
		{Key: "new-category|a|b|c|d", Reason: "- looks like a list"},
		{Key: "new-category|a|b|c|d", Reason: "duplicate, dropped"},
	}}
	buf.Reset()
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := LoadBaseline(writeBaselineFile(t, "b.yaml", buf.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	want := []BaselineEntry{b.Accepted[1], b.Accepted[0]}
	if !slices.Equal(back.Accepted, want) {
		t.Errorf("round trip = %+v, want %+v", back.Accepted, want)
	}
}

func TestBaselineJSON(t *testing.T) {
	p := writeBaselineFile(t, "baseline.json", "{\n\t\"version\": 1,\n\t\"accepted\": [\n\t\t{\"key\": \"new-vendor|posthog|||\", \"reason\": \"ok\", \"added\": \"2026-11-23\"}\n\t]\n}\n")
	b, err := LoadBaseline(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Accepted) != 1 || b.Accepted[0].Key != "new-vendor|posthog|||" {
		t.Errorf("got %+v", b)
	}
	_, err = LoadBaseline(writeBaselineFile(t, "bad.json", "{\n  \"version\": 1,\n  \"acepted\": []\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.json:3:") || !strings.Contains(err.Error(), "accepted") {
		t.Errorf("unknown JSON field: err = %v", err)
	}
}

func TestBaselineErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"unknown field", "version: 1\naccepted:\n  - key: new-vendor|posthog|||\n    reasn: typo\n",
			[]string{"b.yaml:4:5", "accepted[0].reasn", "unknown field", `did you mean "reason"`}},
		{"unknown top field", "version: 1\naccept: []\n",
			[]string{"b.yaml:2:1", "unknown field"}},
		{"malformed", "version: 1\naccepted:\n  - key: [unclosed\n    reason: x\n",
			[]string{"b.yaml:", "invalid YAML"}},
		{"bad indentation", "version: 1\naccepted:\n  - key: a\n     reason: x\n",
			[]string{"b.yaml:4", "invalid YAML"}},
		{"wrong type", "version: 1\naccepted:\n  key: a\n",
			[]string{"b.yaml:3"}},
		{"no version", "accepted: []\n",
			[]string{"b.yaml:1", "version is required"}},
		{"bad version", "version: 2\naccepted: []\n",
			[]string{"b.yaml:1:10", "unsupported version 2"}},
		{"empty key", "version: 1\naccepted:\n  - reason: no key\n",
			[]string{"b.yaml:3", "key is required"}},
		{"duplicate key", "version: 1\naccepted:\n  - key: a|b\n  - key: a|b\n",
			[]string{"b.yaml:4:10", `duplicate key "a|b" (first at line 3)`}},
		{"bad date", "version: 1\naccepted:\n  - key: a\n    added: 23/11/2026\n",
			[]string{"b.yaml:4:12", "not a date"}},
		{"empty file", "\n# only a comment\n", []string{"b.yaml", "empty baseline"}},
		{"not a mapping", "- a\n- b\n", []string{"b.yaml:1", "mapping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBaseline(writeBaselineFile(t, "b.yaml", tc.content))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// Every error is placed: file, then a line number when the file
			// has content to point at.
			if tc.name != "empty file" && !regexp.MustCompile(`b\.yaml:\d+`).MatchString(err.Error()) {
				t.Errorf("error %q has no line", err)
			}
		})
	}
}

func TestBaselineMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope", "weaklink-baseline.yaml")
	_, err := LoadBaseline(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want one naming %s", err, p)
	}
}
