package auth

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Params are argon2id's cost parameters and sizes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes, computed in parallel
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams hash new passwords: RFC 9106's second recommended setting
// (64 MiB, 3 passes) with 2 lanes, one per core of a 2-core server. A hash
// takes about 62 ms there with both cores free and about 105 ms with one
// busy (BenchmarkHashPassword; docs/auth.md): 3.4 times the memory and 5
// times the work (memory × passes) of OWASP's minimum (19 MiB, 2 passes).
// Hashes made with other parameters still verify, and report that they
// need a rehash.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read from a stored hash, so that a corrupt or
// hostile row cannot make a verification take a gigabyte or a minute.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	maxThreads = 16
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
)

// Password rules (NIST SP 800-63B-4, section 3.1.1.2): at least 15
// characters, since a password is the only factor; any characters but
// control characters, counted after NFKC normalization; at most 1,024
// bytes, which bounds the work a login request can cause; not a common
// password.
const (
	MinPasswordLength = 15
	MaxPasswordBytes  = 1024
)

// ErrWeakPassword is wrapped by CheckPassword's errors.
var ErrWeakPassword = errors.New("password refused")

// ErrMalformedHash means a stored hash is not an argon2id PHC string within
// the bounds this package accepts.
var ErrMalformedHash = errors.New("malformed password hash")

// hashSlots bounds the hashes computed at once to the processors
// available: each holds Params.Memory, so a burst of logins queues instead
// of taking memory without limit.
var hashSlots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))

func key(password string, p Params, salt []byte) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// HashPassword hashes a password with DefaultParams.
func HashPassword(password string) (string, error) { return DefaultParams.Hash(password) }

// Hash hashes a password under p with a fresh random salt and returns the
// PHC string, "$argon2id$v=19$m=65536,t=3,p=2$salt$key". The password is
// normalized to NFKC first, so that the same characters typed on different
// systems give the same hash.
func (p Params) Hash(password string) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	if len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrWeakPassword, MaxPasswordBytes)
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand)
	return PHC{Params: p, Salt: salt, Key: key(password, p, salt)}.String(), nil
}

// VerifyPassword checks a password against a stored hash in constant time
// and tells whether the hash should be replaced by one made with
// DefaultParams. err is ErrMalformedHash for a hash it cannot read.
func VerifyPassword(encoded, password string) (ok, rehash bool, err error) {
	return DefaultParams.Verify(encoded, password)
}

// Verify checks a password against a stored hash; rehash is true when the
// password is right and the hash was made with parameters other than p.
func (p Params) Verify(encoded, password string) (ok, rehash bool, err error) {
	h, err := ParsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if len(password) > MaxPasswordBytes {
		return false, false, nil
	}
	got := key(password, h.Params, h.Salt)
	if subtle.ConstantTimeCompare(got, h.Key) != 1 {
		return false, false, nil
	}
	return true, h.Params != p, nil
}

// NeedsRehash reports whether a stored hash was made with parameters other
// than p (or cannot be read).
func (p Params) NeedsRehash(encoded string) bool {
	h, err := ParsePHC(encoded)
	return err != nil || h.Params != p
}

var dummy = sync.OnceValue(func() string {
	h, _ := HashPassword("weaklink dummy password for unknown users")
	return h
})

// VerifyDummy takes as long as VerifyPassword and always fails: a login
// for a user who does not exist, or has no password, calls it so that the
// response time does not tell which users exist.
func VerifyDummy(password string) {
	_, _, _ = VerifyPassword(dummy(), password)
}

// PHC is a parsed argon2id hash string.
type PHC struct {
	Params
	Salt, Key []byte
}

var b64 = base64.RawStdEncoding.Strict()

// String renders the hash in the PHC string format.
func (h PHC) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Threads,
		b64.EncodeToString(h.Salt), b64.EncodeToString(h.Key))
}

// ParsePHC reads "$argon2id$v=19$m=M,t=T,p=P$salt$key" strictly: that
// order, decimal numbers without signs or leading zeros, unpadded standard
// base64, version 19 only, and parameters within this package's bounds.
// Every string it accepts renders back unchanged.
func ParsePHC(s string) (PHC, error) {
	bad := func(why string) (PHC, error) { return PHC{}, fmt.Errorf("%w: %s", ErrMalformedHash, why) }
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version is not 19")
	}
	var h PHC
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("want m=…,t=…,p=…")
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return bad("want m=…,t=…,p=…")
		}
		n, ok := decimal(v)
		if !ok {
			return bad(name + " is not a number")
		}
		vals[i] = n
	}
	if vals[0] > maxMemory || vals[1] > maxTime || vals[2] > maxThreads {
		return bad("parameters out of bounds")
	}
	h.Memory, h.Time, h.Threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	// The decoder skips newlines: what does not encode back the same is
	// refused, so that a hash has one spelling.
	var err error
	if h.Salt, err = b64.DecodeString(parts[4]); err != nil || b64.EncodeToString(h.Salt) != parts[4] {
		return bad("salt is not base64")
	}
	if h.Key, err = b64.DecodeString(parts[5]); err != nil || b64.EncodeToString(h.Key) != parts[5] {
		return bad("hash is not base64")
	}
	h.SaltLen, h.KeyLen = uint32(len(h.Salt)), uint32(len(h.Key))
	if err := h.Params.check(); err != nil {
		return PHC{}, err
	}
	return h, nil
}

// decimal reads a canonical unsigned decimal of at most 10 digits.
func decimal(s string) (uint64, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

func (p Params) check() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("%w: threads %d not in 1..%d", ErrMalformedHash, p.Threads, maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time %d not in 1..%d", ErrMalformedHash, p.Time, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB not in %d..%d", ErrMalformedHash, p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSalt || p.SaltLen > maxSalt:
		return fmt.Errorf("%w: salt of %d bytes not in %d..%d", ErrMalformedHash, p.SaltLen, minSalt, maxSalt)
	case p.KeyLen < minKey || p.KeyLen > maxKey:
		return fmt.Errorf("%w: hash of %d bytes not in %d..%d", ErrMalformedHash, p.KeyLen, minKey, maxKey)
	}
	return nil
}

//go:embed common-passwords.txt
var commonList string

var common = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(commonList) {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
			m[w] = true
		}
	}
	return m
})

// sequences are runs that people type; a password inside one of them
// (twice over, for wrap-around) is refused.
var sequences = []string{
	"01234567890123456789", "98765432109876543210",
	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
	"qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjklzxcvbnm",
	"qwertzuiopasdfghjklyxcvbnmqwertzuiopasdfghjklyxcvbnm",
	"azertyuiopqsdfghjklmwxcvbnazertyuiopqsdfghjklmwxcvbn",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
}

var unleet = strings.NewReplacer("@", "a", "4", "a", "0", "o", "1", "i", "!", "i", "3", "e", "$", "s", "5", "s", "7", "t")

// CheckPassword refuses a password that is too short, too long, holds
// control characters, is common (alone, with digits or symbols around it,
// in leetspeak, or repeated), is a run of keys or letters, or is the user's
// name. The error says which and wraps ErrWeakPassword.
func CheckPassword(password, user string) error {
	weak := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrWeakPassword}, args...)...)
	}
	if !utf8.ValidString(password) {
		return weak("not valid UTF-8")
	}
	if len(password) > MaxPasswordBytes {
		return weak("longer than %d bytes", MaxPasswordBytes)
	}
	p := norm.NFKC.String(password)
	if n := utf8.RuneCountInString(p); n < MinPasswordLength {
		return weak("%d characters; use at least %d (a passphrase of a few words will do)", n, MinPasswordLength)
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return weak("it holds a control character")
		}
	}
	lower := strings.ToLower(p)
	squeezed := strings.Join(strings.Fields(lower), "")
	core := strings.TrimFunc(squeezed, func(r rune) bool { return !unicode.IsLetter(r) })
	if core == "" {
		core = squeezed
	}
	for _, c := range []string{squeezed, core, unleet.Replace(core), strings.TrimFunc(unleet.Replace(squeezed), func(r rune) bool { return !unicode.IsLetter(r) })} {
		if common()[c] || common()[period(c)] {
			return weak("it is one of the most common passwords")
		}
	}
	if len([]rune(period(squeezed))) <= 4 {
		return weak("it repeats a few characters")
	}
	for _, s := range sequences {
		if strings.Contains(s, squeezed) {
			return weak("it is a run of keys or letters")
		}
	}
	if u := strings.ToLower(user); u != "" && strings.Contains(squeezed, u) &&
		utf8.RuneCountInString(strings.ReplaceAll(squeezed, u, "")) < MinPasswordLength/2 {
		return weak("it is mostly the user's name")
	}
	return nil
}

// period returns the shortest string whose repetition makes s.
func period(s string) string {
	for n := 1; n <= len(s)/2; n++ {
		if len(s)%n == 0 && strings.Repeat(s[:n], len(s)/n) == s {
			return s[:n]
		}
	}
	return s
}

// b32 is the encoding of generated passwords and of secrets: lowercase
// base32 without padding.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// GeneratePassword returns a one-time password of 120 random bits: six
// groups of four lowercase letters and digits, "k3jd-9fpq-…", easy to read
// out and to type once.
func GeneratePassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	s := b32.EncodeToString(b) // 24 characters
	var out strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			out.WriteByte('-')
		}
		out.WriteString(s[i : i+4])
	}
	return out.String()
}
