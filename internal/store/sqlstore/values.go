package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"
)

// timeDest scans a timestamp stored either natively (PostgreSQL) or as
// RFC 3339 text (SQLite).
type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	if t != nil {
		*d.t = *t
	}
	return nil
}

// nullTimeDest scans a nullable timestamp into a *time.Time field.
type nullTimeDest struct{ t **time.Time }

func (d nullTimeDest) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*d.t = t
	return nil
}

func parseTime(src any) (*time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = v
	case string:
		p, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fmt.Errorf("bad stored time %q: %w", v, err)
		}
		t = p
	case []byte:
		return parseTime(string(v))
	default:
		return nil, fmt.Errorf("cannot scan %T into a time", src)
	}
	t = t.UTC()
	return &t, nil
}

// TextTime is the Dialect.Time of databases without a timestamp type: UTC,
// fixed width, so text order is time order.
func TextTime(t time.Time) any { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// NativeTime is the Dialect.Time of databases with a timestamp type.
func NativeTime(t time.Time) any { return t.UTC() }

func (s *DB) timeArg(t time.Time) any { return s.d.Time(t) }

func (s *DB) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.d.Time(*t)
}

func marshalList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func marshalJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func unmarshalList(s string, out *[]string) error {
	if s == "" || s == "[]" {
		*out = nil
		return nil
	}
	return json.Unmarshal([]byte(s), out)
}
