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
	if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.MinCost {
		t.Errorf("bcrypt.Cost = %d, %v; want %d", cost, err, bcrypt.MinCost)
	}
}

// The stored format is a contract with every hash already in the database.
func TestStoredHashIsBcryptOfPeppered(t *testing.T) {
	h := newHasher(t, bcrypt.MinCost)
	hash := mustHash(t, h, "correct horse")

	mac := hmac.New(sha512.New384, pepper)
	mac.Write([]byte("correct horse"))
	pre := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pre)); err != nil {
		t.Errorf("hash is not bcrypt(base64(HMAC-SHA384(pepper, password))): %v", err)
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
		"bad cost":     valid[:4] + "99" + valid[6:],
		"bad salt":     valid[:7] + strings.Repeat("!", 22) + valid[29:],
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
