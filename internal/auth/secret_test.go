package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		new    func() Secret
	}{{SessionPrefix, NewSessionSecret}, {TokenPrefix, NewTokenSecret}} {
		s := tc.new()
		text := s.Reveal()
		if len(text) != 62 || !strings.HasPrefix(text, tc.prefix) || s.ID != text[:14] || len(s.Hash) != 64 {
			t.Fatalf("secret %q, id %q, hash %q", text, s.ID, s.Hash)
		}
		got, err := ParseSecret(text, tc.prefix)
		if err != nil || got != s {
			t.Fatalf("ParseSecret = %#v, %v", got, err)
		}
		if !got.Matches(s.Hash) || got.Matches(HashSecret(tc.new().Reveal())) {
			t.Error("Matches")
		}
		if !IsSecretID(s.ID, tc.prefix) || IsSecretID(text, tc.prefix) || IsSecretID(s.ID, "wlx_") {
			t.Error("IsSecretID")
		}
		// The other kind, a typo, a cut, an upper-case copy, a newline: refused.
		other := TokenPrefix
		if tc.prefix == TokenPrefix {
			other = SessionPrefix
		}
		flip := []byte(text)
		if flip[20] == 'a' {
			flip[20] = 'b'
		} else {
			flip[20] = 'a'
		}
		for _, bad := range []string{text[:61], text + "a", string(flip), strings.ToUpper(text),
			text[:30] + "\n" + text[31:], other + text[4:], " " + text, ""} {
			_, err := ParseSecret(bad, tc.prefix)
			if !errors.Is(err, ErrMalformedSecret) {
				t.Errorf("ParseSecret(%q) = %v", bad, err)
			}
		}
		// The last character carries 3 bits of data and 2 of padding:
		// only the canonical one is accepted.
		last := text[61]
		alt := []byte(text)
		for _, c := range []byte("abcdefghijklmnopqrstuvwxyz234567") {
			if c == last {
				continue
			}
			alt[61] = c
			if _, err := ParseSecret(string(alt), tc.prefix); err == nil {
				t.Errorf("non-canonical spelling %q accepted", alt)
			}
		}
		// Printing a secret shows its ID only.
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("login", "secret", s)
		js, _ := json.Marshal(s)
		for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), logged.String(), string(js)} {
			if strings.Contains(out, text) || strings.Contains(out, s.Hash) || !strings.Contains(out, s.ID) {
				t.Errorf("printed secret: %s", out)
			}
		}
	}
	if a, b := NewTokenSecret(), NewTokenSecret(); a == b {
		t.Error("two equal secrets")
	}
	if _, err := ParseSecret(NewTokenSecret().Reveal(), "xyz_"); err == nil {
		t.Error("unknown prefix accepted")
	}
	// An error never quotes the secret.
	text := NewTokenSecret().Reveal()
	if _, err := ParseSecret(text[:60]+"!!", TokenPrefix); err == nil || strings.Contains(err.Error(), text[:20]) {
		t.Errorf("error: %v", err)
	}
}
