package sqlstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/weaklink/weaklink/internal/store"
)

// rawLedgerDecoder turns raw ledger columns into entries. A subject's rows
// come together, and categories are few: both strings are kept from the row
// before, so most rows allocate none.
type rawLedgerDecoder struct {
	subject    string
	categories map[string]string
	vendors    map[string]string
}

// pgEpoch is PostgreSQL's timestamp zero: binary timestamps count
// microseconds from it.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (d *rawLedgerDecoder) decode(e *store.LedgerEntry, row [][]byte, bin []bool, withVendor, joined bool) error {
	want := 5
	if withVendor {
		want++
	}
	if joined {
		want += 2
	}
	if len(row) != want {
		return fmt.Errorf("ledger scan: %d columns, want %d", len(row), want)
	}
	i := 0
	if withVendor {
		e.Vendor = intern(&d.vendors, row[0])
		i++
	}
	if d.subject == "" || !bytes.Equal(row[i], []byte(d.subject)) {
		d.subject = string(row[i])
	}
	e.Subject = d.subject
	e.Category = intern(&d.categories, row[i+1])
	var err error
	if e.FirstSeen, err = rawTime(row[i+2], bin[i+2]); err != nil {
		return err
	}
	if e.LastSeen, err = rawTime(row[i+3], bin[i+3]); err != nil {
		return err
	}
	if e.Messages, err = rawInt(row[i+4], bin[i+4]); err != nil {
		return err
	}
	if joined {
		e.Jurisdiction = intern(&d.vendors, row[i+5])
		e.ExternalID = string(row[i+6])
	}
	return nil
}

// intern returns b as a string, the same string for the same bytes, for
// columns with few distinct values.
func intern(m *map[string]string, b []byte) string {
	if *m == nil {
		*m = map[string]string{}
	}
	if s, ok := (*m)[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(*m) < 4096 {
		(*m)[s] = s
	}
	return s
}

func rawTime(b []byte, bin bool) (time.Time, error) {
	if bin {
		if len(b) != 8 {
			return time.Time{}, fmt.Errorf("ledger scan: binary timestamp of %d bytes", len(b))
		}
		return pgEpoch.Add(time.Duration(int64(binary.BigEndian.Uint64(b))) * time.Microsecond), nil
	}
	t, err := parseTime(b)
	if err != nil || t == nil {
		return time.Time{}, fmt.Errorf("ledger scan: time %q: %v", b, err)
	}
	return *t, nil
}

func rawInt(b []byte, bin bool) (int64, error) {
	if bin {
		switch len(b) {
		case 8:
			return int64(binary.BigEndian.Uint64(b)), nil
		case 4:
			return int64(int32(binary.BigEndian.Uint32(b))), nil
		}
		return 0, fmt.Errorf("ledger scan: binary integer of %d bytes", len(b))
	}
	return strconv.ParseInt(string(b), 10, 64)
}
