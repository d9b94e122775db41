package token_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/adapters/token"
	"github.com/example/accounts/domain"
)

// fuzzSecret signs every token the fuzz targets issue.
var fuzzSecret = bytes.Repeat([]byte("f"), token.MinSecretLength)

func newFuzzJWT(f *testing.F) *token.JWT {
	f.Helper()
	j, err := token.NewJWT(fuzzSecret)
	if err != nil {
		f.Fatal(err)
	}
	return j
}

// hs256 signs header and payload, given as JSON, as a JWT with key: how a token
// that names a session but was not issued here is made.
func hs256(key []byte, header, payload string) string {
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

// FuzzSessionID checks that no cookie value makes SessionID panic or fail with
// anything but ErrUnauthenticated, and that the only values it accepts carry this
// JWT's own signature, spelled as it spells it, and name the session they were
// issued for. The fuzzer cannot forge a signature, so this holds only if no other
// spelling of a token (padding, another base64 alphabet, a changed header or claim)
// gets through. Tokens signed with the secret by hand, as some seeds are, count as
// issued: whoever holds the secret can issue tokens.
func FuzzSessionID(f *testing.F) {
	j := newFuzzJWT(f)
	// Fixed times, so that every fuzzing process issues the very same tokens.
	iat := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	exp := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	issued := map[string]string{}
	for _, sid := range []string{"Qm9iJ3Mgc2Vzc2lvbiBpZCwgNDMgY2hhcmFjdGVycw", "a", "-_", strings.Repeat("Z", 128)} {
		tok, err := j.Issue(sid, iat, exp)
		if err != nil {
			f.Fatal(err)
		}
		issued[tok] = sid
		f.Add(tok)
		f.Add(tok + "=")
		f.Add(strings.ReplaceAll(tok, "-", "+"))
	}
	for _, sid := range []string{"", "has space", "nul\x00", strings.Repeat("Z", 129), "é"} {
		tok, err := j.Issue(sid, iat, exp)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	expired, err := j.Issue("a", iat, iat.Add(time.Second))
	if err != nil {
		f.Fatal(err)
	}
	const claims = `{"sid":"a","iat":1795507200,"exp":32472144000}`
	for _, seed := range []string{
		expired,
		hs256(bytes.Repeat([]byte("o"), token.MinSecretLength), `{"alg":"HS256","typ":"JWT"}`, claims),
		hs256(fuzzSecret, `{"alg":"HS384","typ":"JWT"}`, claims),
		hs256(fuzzSecret, `{"alg":"HS256","typ":"JWT"}`, `{"sid":"a","iat":1795507200}`),
		hs256(fuzzSecret, `{"alg":"HS256","typ":"JWT"}`, `{"sid":"a","exp":"32472144000"}`),
		base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".",
		"", ".", "..", "a.b.c", "a.b.c.d", "e30.e30.", strings.Repeat("A", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		sid, err := j.SessionID(tok)
		if err != nil {
			if !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("SessionID(%q): %v, want ErrUnauthenticated", tok, err)
			}
			return
		}
		if !signedWith(fuzzSecret, tok) {
			t.Fatalf("SessionID(%q) = %q, a token this JWT did not sign", tok, sid)
		}
		if want, ok := issued[tok]; ok && sid != want {
			t.Fatalf("SessionID(%q) = %q, issued for %q", tok, sid, want)
		}
	})
}

// signedWith reports whether tok ends in the HS256 signature that key makes of the
// rest, in unpadded base64url.
func signedWith(key []byte, tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(tok[:i]))
	return tok[i+1:] == base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// FuzzIssuedTokens checks that a token issued for a session id the service could
// have made (1 to 128 base64url characters) reads as that id, one issued for any
// other id is refused, and any change of one byte of a token makes it refused.
func FuzzIssuedTokens(f *testing.F) {
	j := newFuzzJWT(f)
	f.Add("Qm9iJ3Mgc2Vzc2lvbiBpZCwgNDMgY2hhcmFjdGVycw", uint16(0), byte('X'))
	f.Add("a", uint16(20), byte('='))
	f.Add("-_", uint16(200), byte('.'))
	f.Add(strings.Repeat("Z", 128), uint16(9999), byte('A'))
	f.Add(strings.Repeat("Z", 129), uint16(0), byte(0))
	f.Add("", uint16(1), byte('e'))
	f.Add("nul\x00", uint16(100), byte(0xff))
	f.Add("a+b/c=", uint16(36), byte('/'))
	f.Fuzz(func(t *testing.T, sid string, at uint16, b byte) {
		now := time.Now()
		tok, err := j.Issue(sid, now, now.Add(time.Hour))
		if err != nil {
			t.Fatalf("Issue(%q): %v", sid, err)
		}
		got, err := j.SessionID(tok)
		switch {
		case validSessionID(sid) && (err != nil || got != sid):
			t.Fatalf("the token issued for %q reads as %q, %v", sid, got, err)
		case !validSessionID(sid) && !errors.Is(err, domain.ErrUnauthenticated):
			t.Fatalf("the token issued for %q reads as %q, %v; want ErrUnauthenticated", sid, got, err)
		}

		i := int(at) % len(tok)
		changed := tok[:i] + string([]byte{b}) + tok[i+1:]
		if changed == tok {
			return
		}
		if got, err := j.SessionID(changed); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("the token issued for %q, with byte %d changed to %q, reads as %q, %v", sid, i, b, got, err)
		}
	})
}

func validSessionID(sid string) bool {
	if sid == "" || len(sid) > 128 {
		return false
	}
	for _, c := range []byte(sid) {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", rune(c)) {
			return false
		}
	}
	return true
}
