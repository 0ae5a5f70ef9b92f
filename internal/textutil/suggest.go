// Package textutil holds small string helpers shared by validators: edit
// distance for "did you mean" suggestions and slug checks.
package textutil

import "regexp"

// Distance is the Levenshtein edit distance between a and b, counted in bytes.
func Distance(a, b string) int {
	if a == b {
		return 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the candidate nearest to s, if it is near enough to be a
// plausible typo (at most a third of the length of s, and at least 1 edit
// allowed), or "" when nothing is close.
func Closest(s string, candidates []string) string {
	best, bestD := "", -1
	limit := max(len(s)/3, 2)
	for _, c := range candidates {
		d := Distance(s, c)
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// DidYouMean formats a suggestion suffix: ` (did you mean "x"?)`, or "".
func DidYouMean(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return ` (did you mean "` + c + `"?)`
	}
	return ""
}

var slugRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// IsSlug reports whether s is a lowercase slug of 1–64 characters: letters,
// digits and inner hyphens. Slugs are the ids of vendors and systems.
func IsSlug(s string) bool { return slugRe.MatchString(s) }
