package adapter

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, errFastJSON // trailing data
	}
	return v, nil
}

func stdEncode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var fastJSONSeeds = []string{
	`{"a":1,"b":[true,false,null,"x"],"c":{"d":-0.5e+10}}`, `[]`, `{}`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`,
	`"\udc00\ud800"`, "\"\xff\xfe\"", "\"a\\u0000b\"", `"<&>\u2028"`, `{"a":1,"a":2}`, `01`, `1.`, `-`, `1e`, `[1,]`, `{"a" 1}`,
	`"\x"`, "\"\t\"", `nul`, ` [ 1 , 2 ] `, `[1] x`, `{"\u0041":"\/"}`, "\"\\uD83D\\uDE00\\u2029\"", `123456789012345678901234567890`,
}

func TestFastJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range fastJSONSeeds {
		checkFastJSON(t, []byte(s))
	}
}

func checkFastJSON(t *testing.T, b []byte) {
	t.Helper()
	want, werr := stdDecode(b)
	got, gerr := parseJSON(b)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json err %v, fast err %v", b, werr, gerr)
	}
	if werr != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: fast %#v, encoding/json %#v", b, got, want)
	}
	out, ok := appendJSON(nil, got)
	if !ok {
		t.Fatalf("%q: appendJSON refused its own parse", b)
	}
	if std := stdEncode(want); !bytes.Equal(out, std) {
		t.Fatalf("%q: fast writes %s, encoding/json %s", b, out, std)
	}
}

func FuzzFastJSON(f *testing.F) {
	for _, s := range fastJSONSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFastJSON(t, []byte(s)) })
}

func BenchmarkDecodeJSON(b *testing.B) {
	doc := bytes.Repeat([]byte(`{"event":"Viewed","properties":{"token":"t","time":1732540000000,"distinct_id":"user_1","$browser":"Chrome","$current_url":"https://x.example/a?b=c","$city":"San Francisco","plan":"pro","n":[1,2,3]}},`), 50)
	doc = append(append([]byte("["), doc[:len(doc)-1]...), ']')
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := stdDecode(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if _, err := parseJSON(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
