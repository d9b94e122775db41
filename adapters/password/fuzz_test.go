package password

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// FuzzEquivalentSpellingsVerify checks, for any password, that a hash of it
// verifies against its decomposed spelling, that every canonically equivalent
// spelling goes into bcrypt as the same bytes while a different password does not,
// and that a hash of the earlier format is compared with the password exactly as
// typed. Only one hash and one comparison run bcrypt, at its lowest cost, so that
// the fuzzer gets through many spellings.
func FuzzEquivalentSpellingsVerify(f *testing.F) {
	h, err := NewHasher(Config{Pepper: bytes.Repeat([]byte("p"), MinPepperLength), Cost: bcrypt.MinCost, Concurrency: 1, Wait: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"correct horse", "caf\u00e9", "cafe\u0301", "\ud55c\uad6d\uc5b4", "\u1112\u1161\u11ab", "\u212bngstr\u00f6m",
		"a\u0323\u0302", "a\u0302\u0323", "\ufb01nance", "\u0f73\u0f75\u0f81", "\u0344\u0340\u0341\u0343",
		"e" + strings.Repeat("\u0301", 40), "\xff\xfe\u0301", "", "\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, password string) {
		stored, err := h.Hash(t.Context(), password)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := h.Verify(t.Context(), stored, norm.NFD.String(password)); !ok || err != nil {
			t.Fatalf("the hash of %+q refuses its decomposed spelling: %v", password, err)
		}

		_, pre := h.toCompare(stored, password)
		for _, spelt := range []string{norm.NFC.String(password), norm.NFD.String(password), norm.NFD.String(norm.NFC.String(password))} {
			if _, other := h.toCompare(stored, spelt); !bytes.Equal(other, pre) {
				t.Fatalf("%+q and its equivalent %+q go into bcrypt differently", password, spelt)
			}
		}
		if _, other := h.toCompare(stored, password+"\x00"); bytes.Equal(other, pre) {
			t.Fatalf("%+q and %+q go into bcrypt alike", password, password+"\x00")
		}

		earlier := strings.TrimPrefix(stored, nfcPrefix)
		if hash, raw := h.toCompare(earlier, password); string(hash) != earlier || !bytes.Equal(raw, h.prehash(password)) {
			t.Fatalf("an earlier-format hash is compared with %q, not %+q as typed", raw, password)
		}
	})
}
