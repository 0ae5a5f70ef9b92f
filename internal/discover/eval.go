package discover

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/weaklink/weaklink/internal/catalog"
	"github.com/weaklink/weaklink/internal/taxonomy"
)

// Truth is the labelled answer for one corpus app: the vendors its code
// sends data to, and which categories, written by reading the code.
type Truth struct {
	App     string `yaml:"app"`
	Vendors []struct {
		Vendor     string   `yaml:"vendor"`
		Categories []string `yaml:"categories"`
		Notes      string   `yaml:"notes"`
	} `yaml:"vendors"`
}

// Score counts true positives, false positives and false negatives.
type Score struct{ TP, FP, FN int }

// Precision is TP / (TP + FP); 1 when nothing was predicted.
func (s Score) Precision() float64 {
	if s.TP+s.FP == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is TP / (TP + FN); 1 when nothing was expected.
func (s Score) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

func (s *Score) add(o Score) { s.TP += o.TP; s.FP += o.FP; s.FN += o.FN }

// AppEval is the evaluation of one corpus app.
type AppEval struct {
	App     string
	Vendors Score
	Pairs   Score
	// Missed and Extra list the errors, for tuning: "vendor" or
	// "vendor category".
	Missed, Extra []string
}

// Eval is the evaluation of a whole corpus.
type Eval struct {
	Apps    []AppEval
	Vendors Score
	Pairs   Score
}

// EvaluateCorpus scans every app directory under root that has a
// truth.yaml and compares the findings with it. A (vendor, category) pair
// counts as found when discovery reports that category or one related by
// the taxonomy (a parent or a child) for that vendor.
func EvaluateCorpus(ctx context.Context, root string) (*Eval, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	ev := &Eval{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "truth.yaml"))
		if err != nil {
			continue
		}
		var truth Truth
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&truth); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "truth.yaml"), err)
		}
		s := NewScanner(catalog.Default(), taxonomy.DefaultClassifier(), nil, Options{Exclude: []string{"/truth.yaml"}})
		r, err := s.Scan(ctx, []string{dir})
		if err != nil {
			return nil, err
		}
		ae := compare(e.Name(), truth, r)
		ev.Apps = append(ev.Apps, ae)
		ev.Vendors.add(ae.Vendors)
		ev.Pairs.add(ae.Pairs)
	}
	if len(ev.Apps) == 0 {
		return nil, fmt.Errorf("%s: no app with a truth.yaml", root)
	}
	return ev, nil
}

func compare(app string, truth Truth, r *Report) AppEval {
	ae := AppEval{App: app}
	want := map[string][]string{}
	for _, v := range truth.Vendors {
		want[v.Vendor] = v.Categories
	}
	got := map[string][]string{}
	for _, vs := range r.Vendors {
		for _, c := range vs.Categories {
			if c.Confidence >= MinConfidence {
				got[vs.Vendor] = append(got[vs.Vendor], c.Key)
			}
		}
		if _, ok := got[vs.Vendor]; !ok {
			got[vs.Vendor] = nil
		}
	}
	for v, wc := range want {
		gc, ok := got[v]
		if !ok {
			ae.Vendors.FN++
			ae.Missed = append(ae.Missed, v)
			ae.Pairs.FN += len(wc)
			for _, c := range wc {
				ae.Missed = append(ae.Missed, v+" "+c)
			}
			continue
		}
		ae.Vendors.TP++
		for _, c := range wc {
			if slices.ContainsFunc(gc, func(g string) bool { return taxonomy.Overlaps(g, c) }) {
				ae.Pairs.TP++
			} else {
				ae.Pairs.FN++
				ae.Missed = append(ae.Missed, v+" "+c)
			}
		}
		for _, g := range gc {
			if !slices.ContainsFunc(wc, func(c string) bool { return taxonomy.Overlaps(g, c) }) {
				ae.Pairs.FP++
				ae.Extra = append(ae.Extra, v+" "+g)
			}
		}
	}
	for v, gc := range got {
		if _, ok := want[v]; ok {
			continue
		}
		ae.Vendors.FP++
		ae.Extra = append(ae.Extra, v)
		ae.Pairs.FP += len(gc)
		for _, g := range gc {
			ae.Extra = append(ae.Extra, v+" "+g)
		}
	}
	sort.Strings(ae.Missed)
	sort.Strings(ae.Extra)
	return ae
}

// Write prints the evaluation as a table, with the errors per app when
// verbose.
func (ev *Eval) Write(w io.Writer, verbose bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tVENDORS P\tVENDORS R\tPAIRS P\tPAIRS R\tTP/FP/FN (pairs)")
	for _, a := range ev.Apps {
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d/%d/%d\n", a.App, a.Vendors.Precision(), a.Vendors.Recall(),
			a.Pairs.Precision(), a.Pairs.Recall(), a.Pairs.TP, a.Pairs.FP, a.Pairs.FN)
	}
	fmt.Fprintf(tw, "ALL\t%.3f\t%.3f\t%.3f\t%.3f\t%d/%d/%d\n", ev.Vendors.Precision(), ev.Vendors.Recall(),
		ev.Pairs.Precision(), ev.Pairs.Recall(), ev.Pairs.TP, ev.Pairs.FP, ev.Pairs.FN)
	tw.Flush()
	if !verbose {
		return
	}
	for _, a := range ev.Apps {
		for _, m := range a.Missed {
			fmt.Fprintf(w, "%s: missed %s\n", a.App, m)
		}
		for _, x := range a.Extra {
			fmt.Fprintf(w, "%s: extra  %s\n", a.App, x)
		}
	}
}
