package incident

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestFederalHolidays(t *testing.T) {
	tests := []struct {
		year int
		want string // observed dates, in order
	}{
		{2025, "2025-01-01 2025-01-20 2025-02-17 2025-05-26 2025-06-19 2025-07-04 2025-09-01 2025-10-13 2025-11-11 2025-11-27 2025-12-25"},
		// Independence Day 2026 is a Saturday: observed Friday 3 July.
		{2026, "2026-01-01 2026-01-19 2026-02-16 2026-05-25 2026-06-19 2026-07-03 2026-09-07 2026-10-12 2026-11-11 2026-11-26 2026-12-25"},
		// Juneteenth and Christmas 2027 fall on Saturdays (Friday), Independence
		// Day on a Sunday (Monday), and New Year's Day 2028 on a Saturday, so
		// it is observed on Friday 31 December 2027.
		{2027, "2027-01-01 2027-01-18 2027-02-15 2027-05-31 2027-06-18 2027-07-05 2027-09-06 2027-10-11 2027-11-11 2027-11-25 2027-12-24 2027-12-31"},
		// ... and 2022 has no New Year's Day of its own (observed 2021-12-31).
		{2022, "2022-01-17 2022-02-21 2022-05-30 2022-06-20 2022-07-04 2022-09-05 2022-10-10 2022-11-11 2022-11-24 2022-12-26"},
		// Before Juneteenth was enacted (2021).
		{2020, "2020-01-01 2020-01-20 2020-02-17 2020-05-25 2020-07-03 2020-09-07 2020-10-12 2020-11-11 2020-11-26 2020-12-25"},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range FederalHolidays(tt.year) {
			got = append(got, h.Observed.Format(time.DateOnly))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("FederalHolidays(%d)\n got %s\nwant %s", tt.year, g, tt.want)
		}
	}
}

func TestFederalHoliday(t *testing.T) {
	tests := []struct {
		date     string
		name     string // "" for none
		legalDay string
	}{
		{"2026-07-03", "Independence Day", "2026-07-04"},
		{"2026-07-04", "", ""}, // the Saturday itself is a weekend, not the observed day
		{"2027-12-24", "Christmas Day", "2027-12-25"},
		{"2027-12-31", "New Year's Day", "2028-01-01"},
		{"2027-07-05", "Independence Day", "2027-07-04"},
		{"2025-11-27", "Thanksgiving Day", "2025-11-27"},
		{"2025-11-28", "", ""},
		{"2026-01-19", "Birthday of Martin Luther King, Jr.", "2026-01-19"},
		{"2026-05-25", "Memorial Day", "2026-05-25"},
		{"2026-10-12", "Columbus Day", "2026-10-12"},
		{"2020-06-19", "", ""}, // Juneteenth from 2021
	}
	for _, tt := range tests {
		d, _ := time.Parse(time.DateOnly, tt.date)
		h, ok := FederalHoliday(d)
		if ok != (tt.name != "") || h.Name != tt.name {
			t.Errorf("FederalHoliday(%s) = %q, %v; want %q", tt.date, h.Name, ok, tt.name)
			continue
		}
		if ok && h.Date.Format(time.DateOnly) != tt.legalDay {
			t.Errorf("FederalHoliday(%s).Date = %s, want %s", tt.date, h.Date.Format(time.DateOnly), tt.legalDay)
		}
	}
}

func TestIsBusinessDay(t *testing.T) {
	ny := USFederalLocation()
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"ordinary Tuesday", time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), true},
		{"Saturday", time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), false},
		{"Sunday", time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC), false},
		{"fixed holiday on a weekday (Veterans Day)", time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC), false},
		{"floating holiday (Labor Day)", time.Date(2026, 9, 7, 9, 0, 0, 0, time.UTC), false},
		{"Thanksgiving", time.Date(2025, 11, 27, 9, 0, 0, 0, time.UTC), false},
		{"day after Thanksgiving", time.Date(2025, 11, 28, 9, 0, 0, 0, time.UTC), true},
		{"Saturday holiday observed Friday", time.Date(2026, 7, 3, 9, 0, 0, 0, time.UTC), false},
		{"Sunday holiday observed Monday", time.Date(2027, 7, 5, 9, 0, 0, 0, time.UTC), false},
		{"Christmas 2027 observed Friday 24", time.Date(2027, 12, 24, 9, 0, 0, 0, time.UTC), false},
		{"New Year 2028 observed Friday 31", time.Date(2027, 12, 31, 9, 0, 0, 0, time.UTC), false},
		// 03:00 UTC on Friday 28 Nov is still Thanksgiving evening in New York.
		{"date taken in t's location", time.Date(2025, 11, 28, 3, 0, 0, 0, time.UTC).In(ny), false},
	}
	for _, tt := range tests {
		if got := IsBusinessDay(tt.t); got != tt.want {
			t.Errorf("%s: IsBusinessDay(%s) = %v, want %v", tt.name, tt.t, got, tt.want)
		}
	}
}

func TestAddBusinessDays(t *testing.T) {
	ny := USFederalLocation()
	tests := []struct {
		name string
		t    time.Time
		n    int
		loc  *time.Location
		want time.Time
	}{
		// The SEC example. 26 November 2025 is a Wednesday; Thanksgiving
		// (Thursday 27) does not count: Fri 28, Mon 1, Tue 2, Wed 3.
		{"SEC 8-K over Thanksgiving", time.Date(2025, 11, 26, 10, 0, 0, 0, ny), 4, ny, time.Date(2025, 12, 3, 10, 0, 0, 0, ny)},
		{"Friday + 1 is Monday", time.Date(2026, 3, 13, 16, 30, 0, 0, ny), 1, ny, time.Date(2026, 3, 16, 16, 30, 0, 0, ny)},
		{"Saturday anchor counts from Monday", time.Date(2026, 3, 14, 11, 0, 0, 0, ny), 1, ny, time.Date(2026, 3, 16, 11, 0, 0, 0, ny)},
		{"crossing New Year", time.Date(2025, 12, 30, 9, 0, 0, 0, ny), 3, ny, time.Date(2026, 1, 5, 9, 0, 0, 0, ny)},
		{"observed Independence Day 2026", time.Date(2026, 7, 2, 12, 0, 0, 0, ny), 1, ny, time.Date(2026, 7, 6, 12, 0, 0, 0, ny)},
		{"Christmas 2027 observed Friday", time.Date(2027, 12, 23, 12, 0, 0, 0, ny), 1, ny, time.Date(2027, 12, 27, 12, 0, 0, 0, ny)},
		{"New Year 2028 observed 2027-12-31", time.Date(2027, 12, 30, 12, 0, 0, 0, ny), 1, ny, time.Date(2028, 1, 3, 12, 0, 0, 0, ny)},
		{"Martin Luther King Day", time.Date(2026, 1, 16, 8, 0, 0, 0, ny), 1, ny, time.Date(2026, 1, 20, 8, 0, 0, 0, ny)},
		{"backwards over MLK Day", time.Date(2026, 1, 20, 8, 0, 0, 0, ny), -1, ny, time.Date(2026, 1, 16, 8, 0, 0, 0, ny)},
		{"zero", time.Date(2026, 1, 17, 8, 0, 0, 0, ny), 0, ny, time.Date(2026, 1, 17, 8, 0, 0, 0, ny)},
		// Daylight saving starts Sunday 8 March 2026: same wall clock, 71 h later.
		{"across DST", time.Date(2026, 3, 6, 10, 0, 0, 0, ny), 1, ny, time.Date(2026, 3, 9, 10, 0, 0, 0, ny)},
		// 03:00 UTC Thursday is Wednesday 22:00 in New York: counting starts
		// from Wednesday's date, and Thanksgiving is skipped.
		{"date taken in loc", time.Date(2025, 11, 27, 3, 0, 0, 0, time.UTC), 1, ny, time.Date(2025, 11, 28, 22, 0, 0, 0, ny)},
		{"nil loc uses t's location", time.Date(2025, 11, 26, 10, 0, 0, 0, time.UTC), 1, nil, time.Date(2025, 11, 28, 10, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got := AddBusinessDays(tt.t, tt.n, tt.loc)
		if !got.Equal(tt.want) || got.Location().String() != tt.want.Location().String() {
			t.Errorf("%s: AddBusinessDays(%s, %d) = %s, want %s", tt.name, tt.t, tt.n, got, tt.want)
		}
	}
	if d := AddBusinessDays(time.Date(2026, 3, 6, 10, 0, 0, 0, ny), 1, ny).Sub(time.Date(2026, 3, 6, 10, 0, 0, 0, ny)); d != 71*time.Hour {
		t.Errorf("across DST elapsed %s, want 71h", d)
	}
}

func TestWeekendCalendar(t *testing.T) {
	sp := mustZone(t, "America/Sao_Paulo")
	// Brazilian holidays are not modelled: Thursday 20 November 2025 (a
	// national holiday) counts as a business day.
	got := weekends.add(time.Date(2025, 11, 19, 15, 0, 0, 0, sp), 3, sp)
	if want := time.Date(2025, 11, 24, 15, 0, 0, 0, sp); !got.Equal(want) {
		t.Errorf("weekends +3 = %s, want %s", got, want)
	}
	// US federal holidays are not skipped either (Thanksgiving).
	got = weekends.add(time.Date(2025, 11, 26, 12, 0, 0, 0, time.UTC), 1, time.UTC)
	if want := time.Date(2025, 11, 27, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("weekends +1 = %s, want %s", got, want)
	}
}
