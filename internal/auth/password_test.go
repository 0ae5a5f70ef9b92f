package auth

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// fast are cheap parameters for tests that hash many passwords.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash = %s", h)
	}
	phc, err := ParsePHC(h)
	if err != nil || len(phc.Salt) != 16 || len(phc.Key) != 32 || phc.Params != DefaultParams {
		t.Fatalf("ParsePHC = %+v, %v", phc, err)
	}
	if ok, rehash, err := VerifyPassword(h, "correct horse battery staple"); !ok || rehash || err != nil {
		t.Errorf("right password: %v %v %v", ok, rehash, err)
	}
	if ok, _, err := VerifyPassword(h, "correct horse battery stapl"); ok || err != nil {
		t.Errorf("wrong password: %v %v", ok, err)
	}
	// Two hashes of one password differ (salt).
	h2, _ := HashPassword("correct horse battery staple")
	if h2 == h {
		t.Error("same hash twice")
	}
}

func TestNormalization(t *testing.T) {
	// "é" composed and decomposed are one password.
	h, _ := fast.Hash("caf\u00e9 au lait, s'il vous pla\u00eet")
	if ok, _, _ := fast.Verify(h, "cafe\u0301 au lait, s'il vous pla\u00eet"); !ok {
		t.Error("NFD form of the password does not verify")
	}
}

func TestRehash(t *testing.T) {
	old := Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := old.Hash("a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %s", h)
	}
	ok, rehash, err := VerifyPassword(h, "a long enough passphrase")
	if !ok || !rehash || err != nil {
		t.Errorf("old parameters: ok %v rehash %v err %v, want a rehash", ok, rehash, err)
	}
	if ok, rehash, _ := VerifyPassword(h, "wrong"); ok || rehash {
		t.Error("a wrong password asks for a rehash")
	}
	if !DefaultParams.NeedsRehash(h) || old.NeedsRehash(h) || !old.NeedsRehash("garbage") {
		t.Error("NeedsRehash")
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=16$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=4294967295,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$t=3,m=65536,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=065536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=65536,t=0,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	} {
		if ok, _, err := VerifyPassword(h, "x"); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v", h, ok, err)
		}
	}
	valid := "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	if h, err := ParsePHC(valid); err != nil || h.String() != valid {
		t.Errorf("ParsePHC(valid) = %v, %v", h, err)
	}
}

func TestCheckPassword(t *testing.T) {
	good := []string{
		"correct horse battery stapler",
		"Tr0ub4dor&3-and-more",
		"my cat eats moths at dawn",
		"ñandú-pájaro-veloz",
		GeneratePassword(),
	}
	for _, p := range good {
		if err := CheckPassword(p, "ada"); err != nil {
			t.Errorf("CheckPassword(%q): %v", p, err)
		}
	}
	bad := map[string]string{
		"short":                         "characters",
		"password":                      "characters",
		"passwordpassword":              "common",
		"Password123456789!":            "common",
		"P@ssw0rd-2025-2025":            "common",
		"!!!iloveyou!!!!!!":             "common",
		"correct horse battery staple":  "common",
		"qwertyuiopasdfgh":              "run",
		"123456789012345678":            "run",
		"aaaaaaaaaaaaaaaaaaa":           "repeats",
		"xyzxyzxyzxyzxyzxyz":            "repeats",
		"               ":               "repeats",
		"ada.lovelace.ada.lovelace.1":   "name",
		"tab\tinside the password":      "control",
		strings.Repeat("x9y8z7", 200):   "bytes",
		"\xff\xfe not utf-8 at all, no": "UTF-8",
	}
	for p, why := range bad {
		err := CheckPassword(p, "ada.lovelace")
		if !errors.Is(err, ErrWeakPassword) || !strings.Contains(err.Error(), why) {
			t.Errorf("CheckPassword(%q) = %v, want %q", p, err, why)
		}
		if err != nil && len(p) > 8 && strings.Contains(err.Error(), p) {
			t.Errorf("the error quotes the password: %v", err)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := GeneratePassword()
		if len(p) != 29 || strings.Count(p, "-") != 5 {
			t.Fatalf("GeneratePassword() = %q", p)
		}
		if seen[p] {
			t.Fatal("repeated password")
		}
		seen[p] = true
		if err := CheckPassword(p, ""); err != nil {
			t.Fatalf("generated password %q refused: %v", p, err)
		}
	}
}

func TestConcurrentHashes(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pw := strings.Repeat(string(rune('a'+i)), 3) + " concurrent passphrase"
			h, err := fast.Hash(pw)
			if err != nil {
				t.Error(err)
				return
			}
			if ok, _, err := fast.Verify(h, pw); !ok || err != nil {
				t.Error("verify failed", err)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkHashPassword is the cost of a login with DefaultParams: keep it
// between 50 and 150 ms on the 2-core server (docs/auth.md).
func BenchmarkHashPassword(b *testing.B) {
	h, _ := HashPassword("correct horse battery stapler")
	for b.Loop() {
		if ok, _, _ := VerifyPassword(h, "correct horse battery stapler"); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkHashPasswordParallel is the login throughput with every core
// busy: the hash slots keep memory to GOMAXPROCS × 64 MiB.
func BenchmarkHashPasswordParallel(b *testing.B) {
	h, _ := HashPassword("correct horse battery stapler")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			VerifyPassword(h, "correct horse battery stapler")
		}
	})
}
