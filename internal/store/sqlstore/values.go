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
	t, ok, err := scanTime(src)
	if err != nil {
		return err
	}
	if ok {
		*d.t = t
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

// parseTime reads a stored timestamp; nil for NULL.
func parseTime(src any) (*time.Time, error) {
	t, ok, err := scanTime(src)
	if !ok || err != nil {
		return nil, err
	}
	return &t, nil
}

// scanTime reads a stored timestamp in UTC; ok is false for NULL. It does
// not allocate: the ledger scan calls it twice a row.
func scanTime(src any) (t time.Time, ok bool, err error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		t = v
	case string:
		if t, ok = parseTextTime(v); ok {
			return t, true, nil
		}
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return time.Time{}, false, fmt.Errorf("bad stored time %q: %w", v, err)
		}
	case []byte:
		if t, ok = parseTextTime(v); ok {
			return t, true, nil
		}
		return scanTime(string(v))
	default:
		return time.Time{}, false, fmt.Errorf("cannot scan %T into a time", src)
	}
	return t.UTC(), true, nil
}

// parseTextTime reads the fixed-width UTC form TextTime writes,
// "2006-01-02T15:04:05.000000Z", without time.Parse's generality: the
// same time, a fraction of the cost. ok is false for anything else, valid
// or not, which the caller hands to time.Parse.
func parseTextTime[S string | []byte](s S) (time.Time, bool) {
	if len(s) != len("2006-01-02T15:04:05.000000Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec, micro := num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || micro < 0 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)&1)
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
