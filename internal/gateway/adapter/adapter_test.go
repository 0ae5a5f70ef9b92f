package adapter

import "testing"

func TestDecodeJSONRejectsTrailingData(t *testing.T) {
	for _, in := range []string{`{"a":1}}`, `[1]]`, `{"a":1} {"b":2}`, `[1] x`} {
		var v any
		if err := DecodeJSON([]byte(in), &v); err == nil {
			t.Errorf("DecodeJSON(%s) accepted trailing data", in)
		}
	}
	for _, in := range []string{`{"a":1}`, ` [1, 2] `, "{\"n\": 12345678901234567890}\n"} {
		var v any
		if err := DecodeJSON([]byte(in), &v); err != nil {
			t.Errorf("DecodeJSON(%s) = %v", in, err)
		}
	}
}
