package auth

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParsePHC: the parser never panics, accepts only what it can render
// back unchanged, and accepts nothing out of bounds.
func FuzzParsePHC(f *testing.F) {
	h, _ := fast.Hash("seed password for fuzzing")
	for _, s := range []string{h,
		"$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=65536,t=3,p=2$$", "$argon2i$v=19$m=1,t=1,p=1$YQ$YQ", "$$$$$", "",
		"$argon2id$v=19$m=99999999999,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if got := h.String(); got != s {
			t.Fatalf("ParsePHC(%q).String() = %q", s, got)
		}
		if h.Memory > maxMemory || h.Time > maxTime || h.Threads > maxThreads || h.Threads == 0 ||
			len(h.Salt) < minSalt || len(h.Key) < minKey || h.Memory < 8*uint32(h.Threads) {
			t.Fatalf("out of bounds: %+v", h.Params)
		}
	})
}

// FuzzParseSecret: the parser never panics, never quotes its input in an
// error, and what it accepts has the right shape, ID and hash.
func FuzzParseSecret(f *testing.F) {
	f.Add(NewTokenSecret().Reveal(), true)
	f.Add(NewSessionSecret().Reveal(), false)
	f.Add("wlt_", true)
	f.Add("wlt_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)
	f.Add("wls_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)
	f.Fuzz(func(t *testing.T, s string, token bool) {
		prefix := SessionPrefix
		if token {
			prefix = TokenPrefix
		}
		sec, err := ParseSecret(s, prefix)
		if err != nil {
			if !errors.Is(err, ErrMalformedSecret) {
				t.Fatalf("error %v does not wrap ErrMalformedSecret", err)
			}
			if len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error quotes the input: %v", err)
			}
			return
		}
		if sec.Reveal() != s || !strings.HasPrefix(s, prefix) || len(s) != secretLen ||
			sec.ID != s[:idLen] || !IsSecretID(sec.ID, prefix) || sec.Hash != HashSecret(s) || !sec.Matches(HashSecret(s)) {
			t.Fatalf("ParseSecret(%q) = %#v", s, sec)
		}
	})
}
