package discover

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzHAR: ScanHAR never panics; an error is a message naming the file; a
// result is well formed and the same on a second run.
func FuzzHAR(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "har", "*.har"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed captures: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// broken variants: cut short, a byte changed, a field renamed
		f.Add(b[:len(b)/2])
		f.Add(bytes.Replace(b, []byte(`"url": "https://`), []byte(`"url": "ht tps://`), 1))
		f.Add(bytes.Replace(b, []byte(`"entries"`), []byte(`"entrie"`), 1))
		f.Add(bytes.Replace(b, []byte(`"headers": [`), []byte(`"headers": {"x": [`), 1))
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"log": {}}`, `{"log": {"entries": [{}]}}`,
		`{"log": {"entries": [{"request": {"url": "https://a.io/x%zz?y=%"}}]}}`,
		`{"log": {"entries": [{"request": {"url": "https://api-js.mixpanel.com/track", "method": "POST", "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "data=W3t9XQ"}}}]}}`,
		`{"log": {"entries": [{"request": {"url": "https://x.io/", "postData": {"encoding": "base64", "text": "H4sIAAAAAAAA"}}}]}}`,
		`{"log": {"entries": [{"request": {"url": "https://x.io/", "postData": {"mimeType": "application/json", "text": "[[[[[[[[[[{\"email\":[\"a@b.co\"]}]]]]]]]]]]"}}}]}}`,
		"{\"log\": {\"entries\": [{\"request\": {\"url\": \"https://x.io/\\\"\", \"_\\\\\": \"\\\\\\\"\"}}]}}",
	} {
		f.Add([]byte(s))
	}
	s := defaultHARScanner()
	s.MaxEntryBody = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b) // ScanHAR may blank a BOM in its own copy only
		fs, err := s.ScanHAR("fuzz.har", bytes.NewReader(b))
		if !bytes.Equal(in, b) {
			t.Fatal("ScanHAR changed its input")
		}
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz.har") || len(msg) <= len("fuzz.har: ") || !utf8.ValidString(msg) && utf8.Valid(b) {
				t.Fatalf("bad error %q", msg)
			}
			if fs != nil {
				t.Fatalf("findings with an error: %+v", fs)
			}
			return
		}
		if !json.Valid(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("accepted invalid JSON")
		}
		for _, f := range fs {
			if f.Vendor == "" || f.Kind != KindTraffic || f.Evidence.File != "fuzz.har" || f.Evidence.Line < 1 ||
				f.Evidence.Snippet == "" || f.Detail == "" {
				t.Fatalf("bad finding %+v", f)
			}
			if !slices.IsSortedFunc(f.Categories, func(a, b Category) int { return strings.Compare(a.Key, b.Key) }) {
				t.Fatalf("unsorted categories %+v", f.Categories)
			}
			for i, c := range f.Categories {
				if c.Key == "" || c.Element == "" || c.Confidence <= 0 || c.Confidence > 1 ||
					i > 0 && f.Categories[i-1].Key == c.Key {
					t.Fatalf("bad category %+v in %+v", c, f)
				}
			}
		}
		again, err := s.ScanHAR("fuzz.har", bytes.NewReader(b))
		if err != nil || !reflect.DeepEqual(again, fs) {
			t.Fatalf("second run differs: %v\n%+v\n%+v", err, again, fs)
		}
	})
}

// benchHAR builds a capture of about size bytes from the entries of the
// test captures, repeated.
func benchHAR(b *testing.B, size int) []byte {
	b.Helper()
	var entries []json.RawMessage
	for _, name := range []string{"chrome-dashboard.har", "firefox-billing.har", "proxy-server.har"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "har", name))
		if err != nil {
			b.Fatal(err)
		}
		var h struct {
			Log struct {
				Entries []json.RawMessage `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), &h); err != nil {
			b.Fatal(err)
		}
		entries = append(entries, h.Log.Entries...)
	}
	var buf bytes.Buffer
	buf.WriteString(`{"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"},` + "\n" +
		`"pages": [{"id": "page_1", "title": "https://platform.acme.ai/dashboard"}],` + "\n" + `"entries": [` + "\n")
	for i := 0; buf.Len() < size; i++ {
		if i > 0 {
			buf.WriteString(",\n")
		}
		buf.Write(entries[i%len(entries)])
	}
	buf.WriteString("\n]}}\n")
	return buf.Bytes()
}

func BenchmarkScanHAR(b *testing.B) {
	har := benchHAR(b, 5<<20)
	s := defaultHARScanner()
	fs, err := s.ScanHAR("bench.har", bytes.NewReader(har))
	if err != nil {
		b.Fatal(err)
	}
	if len(fs) < 10 {
		b.Fatalf("only %d findings", len(fs))
	}
	b.SetBytes(int64(len(har)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.ScanHAR("bench.har", bytes.NewReader(har)); err != nil {
			b.Fatal(err)
		}
	}
}

// harNoop accepts any JSON value.
type harNoop struct{}

func (*harNoop) UnmarshalJSON([]byte) error { return nil }

// FuzzHARValidate: harValidate accepts what encoding/json accepts, and
// rejects the rest with the same message at the same offset.
func FuzzHARValidate(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `[1,2]`, `{"a":1}`, `"x"`, `-0.5e+7`, `01`, `-`, `1.`, `1e`, `1e+`, `tru`, `nul`, `fals`, `truex`,
		`{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b"}`, `"\u12"`, `"\x"`, "\"\x01\"", `"abc`, `"\`, `{"a":[`, `} `,
		`[1] x`, `[` + string(bytes.Repeat([]byte{'['}, harMaxDepth)) + `]`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "har", "*.har"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 4096)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := harValidate(b)
		var v harNoop
		err := json.Unmarshal(b, &v)
		if err == nil {
			if got != nil {
				t.Fatalf("harValidate rejects valid JSON: %+v", got)
			}
			return
		}
		se, ok := err.(*json.SyntaxError)
		if !ok {
			t.Fatalf("unexpected error %T %v", err, err)
		}
		if got == nil {
			t.Fatalf("harValidate accepts invalid JSON (%v at %d)", se, se.Offset)
		}
		off := int64(got.pos + 1)
		if got.eof {
			off = int64(len(b))
		}
		if got.msg != se.Error() || off != se.Offset || got.pos > len(b) {
			t.Fatalf("harValidate: %q at %d (pos %d eof %v); encoding/json: %q at %d", got.msg, off, got.pos, got.eof, se.Error(), se.Offset)
		}
	})
}
