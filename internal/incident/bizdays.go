package incident

import (
	"slices"
	"sync"
	"time"

	// Embed the time zone database so that America/New_York and the other
	// zones the rules name resolve on machines without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Business days.
//
// A law that counts business days ("4 business days after determining the
// incident is material") counts the days after the anchor's date that are
// neither a Saturday, a Sunday nor a holiday of the calendar it uses. The
// deadline falls at the same wall-clock time on the n-th such day, in the
// calendar's time zone: a materiality determination on Wednesday 26 November
// 2025 at 10:00 in New York is due on Wednesday 3 December 2025 at 10:00 New
// York time (Thanksgiving, Thursday 27 November, does not count). Laws that
// count whole days would allow until the end of that day (an SEC filing is
// dated the day EDGAR accepts it before 17:30 Eastern); weaklink shows the
// earlier instant on purpose, so that the clock is never late. An anchor on
// a weekend or holiday counts from the next business day. A time of day that
// does not exist on the deadline's date (a daylight-saving gap) moves forward
// as time.Date normalises it.
//
// US federal rules use the federal holidays of 5 U.S.C. 6103 in
// America/New_York. Holidays declared ad hoc by executive order, and
// Inauguration Day (observed only around Washington, D.C.), are not modelled.

// Calendar names a rule's deadline can count business days with.
const (
	// CalendarUSFederal skips weekends and US federal holidays (5 U.S.C.
	// 6103); its default zone is America/New_York.
	CalendarUSFederal = "us-federal"
	// CalendarWeekends skips Saturdays and Sundays only; its default zone is
	// UTC. Rules for countries whose public holidays weaklink does not model
	// (Brazil) use it and say so in their note.
	CalendarWeekends = "weekends"
)

// Calendars lists the calendar names a rules file may use.
var Calendars = []string{CalendarUSFederal, CalendarWeekends}

// Holiday is one US federal holiday.
type Holiday struct {
	Name string `json:"name"`
	// Date is the day the law names (a civil date, at 00:00 UTC).
	Date time.Time `json:"date"`
	// Observed is the day off: the Friday before a Saturday holiday, the
	// Monday after a Sunday one, else Date.
	Observed time.Time `json:"observed"`
}

// nyLocation is America/New_York, where US federal business days are
// counted. With time/tzdata embedded the lookup cannot fail; UTC is the
// fallback all the same, so that a broken zone database never panics.
var nyLocation = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		return time.UTC
	}
	return loc
})

// USFederalLocation returns America/New_York, the zone US federal business
// days are counted in.
func USFederalLocation() *time.Location { return nyLocation() }

func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// nthWeekday returns the n-th (1-based) weekday wd of a month.
func nthWeekday(y int, m time.Month, wd time.Weekday, n int) time.Time {
	first := civil(y, m, 1)
	offset := (int(wd) - int(first.Weekday()) + 7) % 7
	return first.AddDate(0, 0, offset+7*(n-1))
}

// lastWeekday returns the last weekday wd of a month.
func lastWeekday(y int, m time.Month, wd time.Weekday) time.Time {
	last := civil(y, m+1, 0)
	offset := (int(last.Weekday()) - int(wd) + 7) % 7
	return last.AddDate(0, 0, -offset)
}

// observe moves a Saturday holiday to Friday and a Sunday one to Monday.
func observe(d time.Time) time.Time {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDate(0, 0, -1)
	case time.Sunday:
		return d.AddDate(0, 0, 1)
	}
	return d
}

// holidaysNamed returns the holidays whose legal date falls in year y.
func holidaysNamed(y int) []Holiday {
	fixed := func(name string, m time.Month, d int) Holiday {
		t := civil(y, m, d)
		return Holiday{Name: name, Date: t, Observed: observe(t)}
	}
	floating := func(name string, t time.Time) Holiday { return Holiday{Name: name, Date: t, Observed: t} }
	hs := []Holiday{fixed("New Year's Day", time.January, 1)}
	if y >= 1986 {
		hs = append(hs, floating("Birthday of Martin Luther King, Jr.", nthWeekday(y, time.January, time.Monday, 3)))
	}
	hs = append(hs,
		floating("Washington's Birthday", nthWeekday(y, time.February, time.Monday, 3)),
		floating("Memorial Day", lastWeekday(y, time.May, time.Monday)))
	if y >= 2021 {
		hs = append(hs, fixed("Juneteenth National Independence Day", time.June, 19))
	}
	return append(hs,
		fixed("Independence Day", time.July, 4),
		floating("Labor Day", nthWeekday(y, time.September, time.Monday, 1)),
		floating("Columbus Day", nthWeekday(y, time.October, time.Monday, 2)),
		fixed("Veterans Day", time.November, 11),
		floating("Thanksgiving Day", nthWeekday(y, time.November, time.Thursday, 4)),
		fixed("Christmas Day", time.December, 25))
}

var holidayCache sync.Map // year → map[time.Time]Holiday keyed by observed civil date

// observedIn returns the holidays observed in year y, keyed by observed
// date. New Year's Day of y+1 falling on a Saturday is observed on 31
// December of y.
func observedIn(y int) map[time.Time]Holiday {
	if m, ok := holidayCache.Load(y); ok {
		return m.(map[time.Time]Holiday)
	}
	m := map[time.Time]Holiday{}
	for _, h := range append(holidaysNamed(y), holidaysNamed(y + 1)[0]) {
		if h.Observed.Year() == y {
			m[h.Observed] = h
		}
	}
	holidayCache.Store(y, m)
	return m
}

// FederalHolidays returns the US federal holidays observed in year, in
// date order. A holiday is listed under the year it is observed in: New
// Year's Day 2022 (a Saturday) is observed on Friday 31 December 2021 and
// belongs to 2021.
func FederalHolidays(year int) []Holiday {
	m := observedIn(year)
	out := make([]Holiday, 0, len(m))
	for _, h := range m {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Observed.Compare(b.Observed) })
	return out
}

// FederalHoliday reports whether the civil date t shows (in t's own
// location) is an observed US federal holiday, and which.
func FederalHoliday(t time.Time) (Holiday, bool) {
	y, m, d := t.Date()
	h, ok := observedIn(y)[civil(y, m, d)]
	return h, ok
}

// IsBusinessDay reports whether the civil date t shows, in t's own location,
// is a US federal business day: Monday to Friday and not an observed federal
// holiday. Convert first (t.In(loc)) to ask about another zone's date.
func IsBusinessDay(t time.Time) bool { return usFederal.isBusinessDay(t) }

// AddBusinessDays returns the same wall-clock time as t, in loc, on the n-th
// US federal business day after t's date in loc (before it, for negative
// n). n = 0 returns t in loc. A nil loc means t's own location.
func AddBusinessDays(t time.Time, n int, loc *time.Location) time.Time {
	return usFederal.add(t, n, loc)
}

// calendar is a business-day calendar: weekends plus, optionally, the US
// federal holidays.
type calendar struct {
	name     string
	holidays bool
	loc      func() *time.Location // default zone
}

var (
	usFederal = calendar{name: CalendarUSFederal, holidays: true, loc: nyLocation}
	weekends  = calendar{name: CalendarWeekends, loc: func() *time.Location { return time.UTC }}
)

func calendarNamed(name string) (calendar, bool) {
	switch name {
	case CalendarUSFederal:
		return usFederal, true
	case CalendarWeekends:
		return weekends, true
	}
	return calendar{}, false
}

func (c calendar) isBusinessDay(t time.Time) bool {
	switch t.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	if c.holidays {
		_, hol := FederalHoliday(t)
		return !hol
	}
	return true
}

func (c calendar) add(t time.Time, n int, loc *time.Location) time.Time {
	if loc == nil {
		loc = t.Location()
	}
	t = t.In(loc)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	y, m, d := t.Date()
	day := civil(y, m, d)
	for n > 0 {
		day = day.AddDate(0, 0, step)
		if c.isBusinessDay(day) {
			n--
		}
	}
	return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}
