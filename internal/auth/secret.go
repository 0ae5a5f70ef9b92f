package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"strings"
)

// The prefixes of secrets, so that a leaked one is recognised at a glance
// and by secret scanners.
const (
	SessionPrefix = "wls_" // a browser session's cookie value
	TokenPrefix   = "wlt_" // an API token
)

// Secret sizes: 32 random bytes and a 4-byte checksum, in lowercase
// unpadded base32 (letters and 2–7: one word to double-click, nothing to
// escape in a URL, a header or a shell).
const (
	secretBytes = 32
	secretLen   = 4 + ((secretBytes+4)*8+4)/5 // the prefix and 58 characters
	idLen       = 4 + 10                      // the prefix and 50 bits of the secret
)

// ErrMalformedSecret means a string is not a weaklink secret of the asked
// kind. It never quotes the string.
var ErrMalformedSecret = errors.New("malformed secret")

// Secret is a session's or an API token's secret. The whole text is shown
// to its owner once; the store keeps Hash, and ID names it in listings and
// the audit log. Printing, logging or marshalling a Secret shows its ID
// only: Reveal is the one way to the text.
type Secret struct {
	text string
	// ID is the prefix and the first 10 characters: 50 of the 256 random
	// bits, enough to tell tokens apart, too few to guess the rest.
	ID string `json:"id"`
	// Hash is the hex SHA-256 of the whole text, what the store keeps.
	Hash string `json:"-"`
}

// NewSessionSecret returns a fresh session secret ("wls_…").
func NewSessionSecret() Secret { return newSecret(SessionPrefix) }

// NewTokenSecret returns a fresh API token secret ("wlt_…").
func NewTokenSecret() Secret { return newSecret(TokenPrefix) }

func newSecret(prefix string) Secret {
	b := make([]byte, secretBytes, secretBytes+4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	text := prefix + b32.EncodeToString(binary.BigEndian.AppendUint32(b, checksum(prefix, b)))
	return Secret{text: text, ID: text[:idLen], Hash: HashSecret(text)}
}

// checksum lets a parser refuse a mistyped or truncated secret without a
// database look-up, and lets secret scanners tell real ones from noise.
func checksum(prefix string, random []byte) uint32 {
	h := crc32.NewIEEE()
	h.Write([]byte(prefix))
	h.Write(random)
	return h.Sum32()
}

// ParseSecret reads a secret of the kind prefix names (SessionPrefix or
// TokenPrefix): the prefix, exactly 58 base32 characters, and a checksum
// that matches. It computes the ID and Hash to look the secret up by.
func ParseSecret(text, prefix string) (Secret, error) {
	kind := "API token"
	if prefix == SessionPrefix {
		kind = "session"
	}
	bad := func(why string) (Secret, error) {
		return Secret{}, fmt.Errorf("%w: not a weaklink %s: %s", ErrMalformedSecret, kind, why)
	}
	if prefix != SessionPrefix && prefix != TokenPrefix {
		return bad("unknown kind")
	}
	body, ok := strings.CutPrefix(text, prefix)
	if !ok {
		return bad("it does not start with " + prefix)
	}
	if len(text) != secretLen {
		return bad("wrong length")
	}
	// The decoder ignores newlines and bits past the last byte: a text
	// that does not encode back the same is refused.
	raw, err := b32.DecodeString(body)
	if err != nil || len(raw) != secretBytes+4 || b32.EncodeToString(raw) != body {
		return bad("it holds characters other than a–z and 2–7")
	}
	if binary.BigEndian.Uint32(raw[secretBytes:]) != checksum(prefix, raw[:secretBytes]) {
		return bad("its checksum does not match (mistyped or cut short?)")
	}
	return Secret{text: text, ID: text[:idLen], Hash: HashSecret(text)}, nil
}

// HashSecret is the hex SHA-256 of a secret's text. A secret has 256
// random bits, so a fast hash is enough: nothing can be guessed from it.
func HashSecret(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Reveal returns the secret's text, to show once to its owner.
func (s Secret) Reveal() string { return s.text }

// Matches compares the secret with a stored hash in constant time.
func (s Secret) Matches(hash string) bool {
	return subtle.ConstantTimeCompare([]byte(s.Hash), []byte(hash)) == 1
}

// String shows the ID only.
func (s Secret) String() string { return s.ID + "…" }

// GoString shows the ID only, for %#v.
func (s Secret) GoString() string { return "auth.Secret{ID: " + s.ID + "}" }

// LogValue shows the ID only, for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// IsSecretID reports whether s looks like a secret's ID, for commands that
// take one ("tokens revoke wlt_k3jd9fpq2m").
func IsSecretID(s, prefix string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(s) != idLen {
		return false
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
