package password_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/example/accounts/adapters/password"
)

var pepper = bytes.Repeat([]byte("p"), password.MinPepperLength)

func newHasher(tb testing.TB, cost int) *password.Hasher {
	tb.Helper()
	h, err := password.NewHasher(password.Config{Pepper: pepper, Cost: cost, Concurrency: 2, Wait: time.Second})
	if err != nil {
		tb.Fatalf("NewHasher: %v", err)
	}
	return h
}

func mustHash(t *testing.T, h *password.Hasher, pw string) string {
	t.Helper()
	hash, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return hash
}

func verify(t *testing.T, h *password.Hasher, hash, pw string) bool {
	t.Helper()
	ok, err := h.Verify(t.Context(), hash, pw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok
}

func TestHashThenVerify(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	hash := mustHash(t, h, "correct horse")

	if !verify(t, h, hash, "correct horse") {
		t.Error("the right password does not verify")
	}
	if verify(t, h, hash, "correct horsE") {
		t.Error("a wrong password verifies")
	}
	if again := mustHash(t, h, "correct horse"); again == hash {
		t.Error("two hashes of one password are equal: no salt")
	}
	if cost, err := bcrypt.Cost([]byte(strings.TrimPrefix(hash, "$nfc"))); err != nil || cost != bcrypt.MinCost {
		t.Errorf("bcrypt.Cost = %d, %v; want %d", cost, err, bcrypt.MinCost)
	}
}

// peppered is the pre-hash as the stored formats define it, written out here so that
// a change to it cannot go unnoticed: every stored hash depends on it.
func peppered(pw string) []byte {
	mac := hmac.New(sha512.New384, pepper)
	mac.Write([]byte(pw))
	return []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

// earlierHash is a hash as stored before passwords were normalised: the bare bcrypt
// hash of the pre-hash of the password as typed.
func earlierHash(t *testing.T, pw string, cost int) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword(peppered(pw), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(hash)
}

// The stored format is a contract with every hash already in the database.
func TestStoredHashIsPrefixedBcryptOfPepperedNFC(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	hash := mustHash(t, h, "cafe\u0301 horse") // typed decomposed

	bare, ok := strings.CutPrefix(hash, "$nfc$2a$04$")
	if !ok || len(bare) != 53 {
		t.Fatalf("hash %q is not $nfc and a bcrypt hash", hash)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash[len("$nfc"):]), peppered("caf\u00e9 horse")); err != nil {
		t.Errorf("hash is not $nfc + bcrypt(base64(HMAC-SHA384(pepper, NFC(password))))): %v", err)
	}
}

// Canonically equivalent spellings are one password, whichever was used to set it
// and whichever is typed at login.
func TestCanonicallyEquivalentPasswordsVerify(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	for _, tc := range []struct{ name, nfc, other string }{
		{"acute accent", "caf\u00e9 cr\u00e8me", "cafe\u0301 cre\u0300me"},
		{"Hangul syllables and jamo", "\ud55c\uad6d\uc5b4 \ube44\ubc00", "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165 \u1107\u1175\u1106\u1175\u11af"},
		{"angstrom sign", "\u00c5ngstr\u00f6m", "\u212bngstro\u0308m"},
		{"marks in another order", "\u1ead quiet", "a\u0302\u0323 quiet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if norm.NFC.String(tc.nfc) != tc.nfc || tc.other == tc.nfc {
				t.Fatal("the first spelling must be the NFC one, the second another")
			}
			if !verify(t, h, mustHash(t, h, tc.nfc), tc.other) {
				t.Error("set composed, typed otherwise: refused")
			}
			if !verify(t, h, mustHash(t, h, tc.other), tc.nfc) {
				t.Error("set otherwise, typed composed: refused")
			}
			if !verify(t, h, mustHash(t, h, tc.other), tc.other) {
				t.Error("set and typed the same way: refused")
			}
		})
	}
}

// Normalisation is canonical only: characters that merely look alike or are
// compatibility variants stay different passwords.
func TestCompatibilityVariantsStayDistinct(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	for _, pair := range [][2]string{
		{"\ufb01nance", "finance"},                         // ligature fi
		{"\uff50\uff41\uff53\uff53\uff57\uff44", "passwd"}, // fullwidth
		{"x\u00b2 + y\u00b2", "x2 + y2"},                   // superscript two
		{"caf\u00e9 horse", "cafe horse"},                  // the accent is part of the password
	} {
		if verify(t, h, mustHash(t, h, pair[0]), pair[1]) {
			t.Errorf("%q verifies against a hash of %q", pair[1], pair[0])
		}
	}
}

// Hashes stored before normalisation keep working: they verify against the password
// as it was typed then, and are outdated, so the login that proves the password
// replaces them with a hash that takes either spelling.
func TestEarlierFormatVerifiesAndIsRenewed(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	const typed = "cafe\u0301 horse" // decomposed, as some systems send it
	earlier := earlierHash(t, typed, bcrypt.MinCost)

	if !verify(t, h, earlier, typed) {
		t.Fatal("a hash of the earlier format does not verify")
	}
	if verify(t, h, earlier, "cafe\u0301 horsE") {
		t.Error("a wrong password verifies against a hash of the earlier format")
	}
	if !h.Outdated(earlier) {
		t.Error("a hash of the earlier format at the current cost is not outdated")
	}
	if !h.Outdated(earlierHash(t, typed, bcrypt.MinCost+1)) {
		t.Error("a hash of the earlier format at another cost is not outdated")
	}

	// What the login does next.
	renewed := mustHash(t, h, typed)
	if h.Outdated(renewed) {
		t.Error("the renewed hash is outdated")
	}
	for _, pw := range []string{typed, "caf\u00e9 horse"} {
		if !verify(t, h, renewed, pw) {
			t.Errorf("the renewed hash refuses %q", pw)
		}
	}
}

func TestNewHashIsOutdatedOnlyAtAnotherCost(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	hash := mustHash(t, h, "correct horse")
	if h.Outdated(hash) {
		t.Error("a new hash is outdated at the cost it was made with")
	}
	if !newHasher(t, bcrypt.MinCost+1).Outdated(hash) {
		t.Error("a new hash is not outdated once the cost is raised")
	}
	if !verify(t, newHasher(t, bcrypt.MinCost+1), hash, "correct horse") {
		t.Error("a hash of the previous cost does not verify")
	}
}

func TestPasswordsLongerThanBcryptsLimitStayDistinct(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	a := strings.Repeat("x", 99) + "a"
	b := strings.Repeat("x", 99) + "b"

	if verify(t, h, mustHash(t, h, a), b) {
		t.Error("100-byte passwords differing only in the last byte verify against each other")
	}
}

func TestMebibytePassword(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	pw := strings.Repeat("é", 1<<19) // 1 MiB of UTF-8

	if !verify(t, h, mustHash(t, h, pw), pw) {
		t.Error("a 1 MiB password does not verify")
	}
}

func TestAnotherPepperDoesNotVerify(t *testing.T) {
	hash := mustHash(t, newHasher(t, bcrypt.MinCost), "correct horse")
	other, err := password.NewHasher(password.Config{
		Pepper: bytes.Repeat([]byte("q"), password.MinPepperLength), Cost: bcrypt.MinCost, Concurrency: 1, Wait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}

	if verify(t, other, hash, "correct horse") {
		t.Error("a hash made with one pepper verifies with another")
	}
}

func TestUnusableHashNeverMatches(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	valid := mustHash(t, h, "correct horse")
	for name, hash := range map[string]string{
		"empty":        "",
		"not bcrypt":   "correct horse",
		"truncated":    valid[:30],
		"bad prefix":   "$9" + valid[2:],
		"prefix only":  "$nfc",
		"prefix twice": "$nfc" + valid,
		"bad cost":     valid[:8] + "99" + valid[10:],
		"bad salt":     valid[:11] + strings.Repeat("!", 22) + valid[33:],
		"plain base64": base64.StdEncoding.EncodeToString([]byte(valid)),
	} {
		t.Run(name, func(t *testing.T) {
			if verify(t, h, hash, "correct horse") {
				t.Errorf("Verify(%q) = true", hash)
			}
		})
	}
}

func TestEndedRequestGetsItsContextError(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	if _, err := h.Hash(ctx, "correct horse"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash: err = %v, want context.Canceled", err)
	}
	if _, err := h.Verify(ctx, "", "correct horse"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify: err = %v, want context.Canceled", err)
	}
}

func TestConfigIsChecked(t *testing.T) {
	good := password.Config{Pepper: pepper, Cost: bcrypt.MinCost, Concurrency: 1, Wait: time.Second}
	for name, tc := range map[string]struct {
		change func(*password.Config)
		want   string
	}{
		"short pepper":   {func(c *password.Config) { c.Pepper = c.Pepper[1:] }, "pepper"},
		"cost too low":   {func(c *password.Config) { c.Cost = bcrypt.MinCost - 1 }, "cost"},
		"cost too high":  {func(c *password.Config) { c.Cost = bcrypt.MaxCost + 1 }, "cost"},
		"no concurrency": {func(c *password.Config) { c.Concurrency = 0 }, "concurrency"},
		"no wait":        {func(c *password.Config) { c.Wait = 0 }, "wait"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := password.NewHasher(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewHasher: err = %v, want one about %s", err, tc.want)
			}
		})
	}

	if err := (password.Config{}).Validate(); err == nil || strings.Count(err.Error(), "\n") != 3 {
		t.Errorf("Validate of an empty config = %q, want four lines", err)
	}
}

// defaultCost is the shipped [security] bcrypt_cost: these figures are what one
// signup and one login cost in CPU time.
const defaultCost = 11

func BenchmarkHash(b *testing.B) {
	h := newHasher(b, defaultCost)
	for b.Loop() {
		if _, err := h.Hash(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify shows that refusing an unknown user takes as long as refusing a
// wrong password, so response times do not tell which usernames exist.
func BenchmarkVerify(b *testing.B) {
	h := newHasher(b, defaultCost)
	hash, err := h.Hash(b.Context(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, hash, password string }{
		{"right password", hash, "correct horse battery staple"},
		{"wrong password", hash, "wrong horse battery staple"},
		{"unknown user", "", "correct horse battery staple"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := h.Verify(b.Context(), bc.hash, bc.password); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Same agrees with Verify: canonically equivalent spellings are one password,
// look-alikes are not.
func TestSame(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"correct horse", "correct horse", true},
		{"caf\u00e9 au lait", "cafe\u0301 au lait", true},
		{"\uac00\ub098\ub2e4 password", "\u1100\u1161\u1102\u1161\u1103\u1161 password", true},
		{"\ufb01nancial", "financial", false},
		{"correct horse", "correct horse ", false},
	} {
		if got := h.Same(tc.a, tc.b); got != tc.want {
			t.Errorf("Same(%+q, %+q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
