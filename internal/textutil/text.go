package textutil

import (
	"strconv"
	"unicode/utf8"
)

// Plural counts a unit: "1 vendor", "3 vendors".
func Plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// Shorten cuts s to at most n characters (runes), ending a cut one with
// an ellipsis.
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// IsASCII tells whether s holds only ASCII bytes: text that no Unicode
// case folding can turn into another (the Kelvin sign folds to k).
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
