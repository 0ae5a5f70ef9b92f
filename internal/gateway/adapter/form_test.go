package adapter

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"
)

var formSeeds = []string{
	"", "%", "%4", "%zz", "%2B", "%2b", "+", "++", "%%", "%%41", "%4%41", "%g0", "%0g", "100%", "%41%", "a%2", "%41",
	"a+b%20c", "a%2Bb+c", "data", "data=x&ip=0", " ", "%20+", "%C3%A9", "é", "日本語+%E6%97%A5", "\xff", "\xff%FF+", "%ff",
	"\x00", "%00", "%7F\x7f", "~-_.", "!*'();:@&=+$,/?#[]", "%E2%82", "YWJj%2Fde%2Bf%3D%3D", "%\xff1", "%1\xff",
}

// checkFormUnescape compares formUnescape with url.QueryUnescape: the same
// string, and an error, with the same message, exactly when it errs.
func checkFormUnescape(t *testing.T, s string) {
	t.Helper()
	want, werr := url.QueryUnescape(s)
	got, gerr := formUnescape(s)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: net/url err %v, formUnescape err %v", s, werr, gerr)
	}
	if werr != nil {
		if werr.Error() != gerr.Error() {
			t.Fatalf("%q: net/url err %q, formUnescape err %q", s, werr, gerr)
		}
		return
	}
	if got != want {
		t.Fatalf("%q: formUnescape %q, net/url %q", s, got, want)
	}
}

// checkFormEscape compares formEscape with url.QueryEscape and checks that
// formUnescape undoes it.
func checkFormEscape(t *testing.T, s string) {
	t.Helper()
	got, want := formEscape(s), url.QueryEscape(s)
	if got != want {
		t.Fatalf("%q: formEscape %q, net/url %q", s, got, want)
	}
	if back, err := formUnescape(got); err != nil || back != s {
		t.Fatalf("%q: formUnescape(%q) = %q, %v", s, got, back, err)
	}
}

func TestFormAgreesWithNetURL(t *testing.T) {
	for _, s := range formSeeds {
		checkFormUnescape(t, s)
		checkFormEscape(t, s)
	}
	all := make([]byte, 256)
	for c := range 256 {
		all[c] = byte(c)
		checkFormEscape(t, string(rune(c))) // UTF-8 of U+0000 to U+00FF
		checkFormEscape(t, string([]byte{byte(c)}))
		checkFormUnescape(t, fmt.Sprintf("%%%02x", c))
		checkFormUnescape(t, fmt.Sprintf("%%%02X+x", c))
		checkFormUnescape(t, "%"+string([]byte{byte(c)})+"0")
		checkFormUnescape(t, "%0"+string([]byte{byte(c)}))
	}
	checkFormEscape(t, string(all))
	checkFormUnescape(t, url.QueryEscape(string(all))+"+"+string(all[:0x25]))
	s := formBenchData(52 << 10)
	checkFormUnescape(t, s)
	checkFormUnescape(t, s+"%")
	raw, _ := url.QueryUnescape(s)
	checkFormEscape(t, raw)
}

func TestFormAllocations(t *testing.T) {
	s := formBenchData(52 << 10)
	raw, _ := formUnescape(s)
	for _, c := range []struct {
		name string
		f    func()
		want float64
	}{
		{"unescape, nothing to do", func() { _, _ = formUnescape("data") }, 0},
		{"escape, nothing to do", func() { _ = formEscape("data") }, 0},
		{"unescape", func() { _, _ = formUnescape(s) }, 1},
		{"escape", func() { _ = formEscape(raw) }, 1},
	} {
		if got := testing.AllocsPerRun(10, c.f); got != c.want {
			t.Errorf("%s: %v allocations, want %v", c.name, got, c.want)
		}
	}
}

func FuzzFormUnescape(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s)
	}
	f.Fuzz(checkFormUnescape)
}

func FuzzFormEscape(f *testing.F) {
	for _, s := range formSeeds {
		f.Add(s)
	}
	f.Fuzz(checkFormEscape)
}

// formBenchData is a data= value as Mixpanel's browser SDK sends it: a batch
// of events as JSON, base64, escaped, at least n bytes long.
func formBenchData(n int) string {
	var events []any
	for i := 0; ; i++ {
		events = append(events, map[string]any{"event": "Viewed Usage Page", "properties": map[string]any{
			"token": "acme-dashboard-project-token", "time": 1732540000000 + i, "distinct_id": fmt.Sprintf("user_%d", i%16),
			"$insert_id": fmt.Sprintf("5d958f87-542d-4e37-9e0b-%012d", i), "$browser": "Chrome", "$os": "Mac OS X",
			"$current_url": "https://platform.acme.ai/usage?org=org-7781&tab=tokens", "$referrer": "https://www.google.com/",
			"$city": "San Francisco", "mp_lib": "web", "$lib_version": "2.55.1", "$email": "ada@example.com",
		}})
		js, _ := json.Marshal(events)
		if s := url.QueryEscape(base64.StdEncoding.EncodeToString(js)); len(s) >= n {
			return s
		}
	}
}

// formBenchInputs are escaped data= values of about 52 KB: base64 of JSON,
// as sent, where only ?, >, ~ and DEL can make a + or / (ASCII has no top
// bit), so escapes are rare; and base64 of random bytes, one escape in 32.
func formBenchInputs() []struct{ name, s string } {
	random := make([]byte, 39<<10)
	_, _ = rand.NewChaCha8([32]byte{}).Read(random)
	return []struct{ name, s string }{
		{"json", formBenchData(52 << 10)},
		{"random", url.QueryEscape(base64.StdEncoding.EncodeToString(random))},
	}
}

func BenchmarkFormUnescape(b *testing.B) {
	for _, in := range formBenchInputs() {
		for _, f := range []struct {
			name string
			f    func(string) (string, error)
		}{{"net/url", url.QueryUnescape}, {"form", formUnescape}} {
			b.Run(in.name+"/"+f.name, func(b *testing.B) {
				b.SetBytes(int64(len(in.s)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.f(in.s); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkFormEscape(b *testing.B) {
	for _, in := range formBenchInputs() {
		s, _ := url.QueryUnescape(in.s)
		for _, f := range []struct {
			name string
			f    func(string) string
		}{{"net/url", url.QueryEscape}, {"form", formEscape}} {
			b.Run(in.name+"/"+f.name, func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				b.ReportAllocs()
				for b.Loop() {
					f.f(s)
				}
			})
		}
	}
}
