package discover

import (
	"bytes"
	"context"
	"testing"
)

// The targets of the discovery issue, measured on the labelled corpus.
const (
	targetVendorRecall    = 0.95
	targetVendorPrecision = 0.90
	targetPairRecall      = 0.85
	targetPairPrecision   = 0.85
)

// TestCorpusPrecisionRecall scans every app in testdata/corpus and compares
// the findings with its truth.yaml. Run with -v to see the table and every
// miss; go run ./bench/discover prints the same.
func TestCorpusPrecisionRecall(t *testing.T) {
	ev, err := EvaluateCorpus(context.Background(), "testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	ev.Write(&buf, true)
	t.Log("\n" + buf.String())
	check := func(what string, got, want float64) {
		if got < want {
			t.Errorf("%s = %.3f, want ≥ %.2f", what, got, want)
		}
	}
	check("vendor recall", ev.Vendors.Recall(), targetVendorRecall)
	check("vendor precision", ev.Vendors.Precision(), targetVendorPrecision)
	check("pair recall", ev.Pairs.Recall(), targetPairRecall)
	check("pair precision", ev.Pairs.Precision(), targetPairPrecision)
}
