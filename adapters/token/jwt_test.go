package token_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/example/accounts/adapters/token"
	"github.com/example/accounts/domain"
)

var secret = bytes.Repeat([]byte("s"), token.MinSecretLength)

func newJWT(t *testing.T) *token.JWT {
	t.Helper()
	j, err := token.NewJWT(secret)
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	return j
}

func issue(t *testing.T, j *token.JWT, sid string, iat, exp time.Time) string {
	t.Helper()
	tok, err := j.Issue(sid, iat, exp)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

func TestShortSecretIsRefused(t *testing.T) {
	if _, err := token.NewJWT(secret[1:]); err == nil {
		t.Error("NewJWT accepted a 31-byte secret")
	}
}

func TestIssuedTokenNamesItsSession(t *testing.T) {
	j := newJWT(t)
	now := time.Now()
	tok := issue(t, j, "session-1", now, now.Add(30*time.Minute))

	sid, err := j.SessionID(tok)
	if err != nil || sid != "session-1" {
		t.Errorf("SessionID = %q, %v; want session-1", sid, err)
	}
}

func TestIssuedTokenCarriesOnlySidIatExp(t *testing.T) {
	iat := time.Date(2026, 11, 24, 8, 0, 0, 999_999_000, time.UTC)
	exp := iat.Add(30 * time.Minute)
	tok := issue(t, newJWT(t), "session-1", iat, exp)
	header, payload := decodeSegment(t, tok, 0), decodeSegment(t, tok, 1)

	if got := string(header["alg"]); got != `"HS256"` {
		t.Errorf("alg = %s, want HS256", got)
	}
	if keys := slices.Sorted(maps.Keys(payload)); !slices.Equal(keys, []string{"exp", "iat", "sid"}) {
		t.Errorf("claims = %v, want exactly exp, iat, sid", keys)
	}
	want := map[string]string{"sid": `"session-1"`, "iat": fmt.Sprint(iat.Unix()), "exp": fmt.Sprint(exp.Unix())}
	for k, v := range want {
		if got := string(payload[k]); got != v {
			t.Errorf("%s = %s, want %s (whole seconds)", k, got, v)
		}
	}
}

func decodeSegment(t *testing.T, tok string, i int) map[string]json.RawMessage {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAnythingButAValidTokenIsUnauthenticated(t *testing.T) {
	j := newJWT(t)
	now := time.Now()
	valid := issue(t, j, "session-1", now, now.Add(time.Hour))
	good := jwt.MapClaims{"sid": "session-1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	without := func(k string) jwt.MapClaims {
		c := maps.Clone(good)
		delete(c, k)
		return c
	}
	with := func(k string, v any) jwt.MapClaims {
		c := maps.Clone(good)
		c[k] = v
		return c
	}
	if sid, err := j.SessionID(sign(t, jwt.SigningMethodHS256, good, secret)); err != nil || sid != "session-1" {
		t.Fatalf("the well-formed token the hostile ones are made from is refused: %q, %v", sid, err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}

	for name, tok := range map[string]string{
		"empty":              "",
		"garbage":            "garbage",
		"three garbage dots": "a.b.c",
		"other secret":       sign(t, jwt.SigningMethodHS256, good, bytes.Repeat([]byte("o"), 32)),
		"HS512":              sign(t, jwt.SigningMethodHS512, good, secret),
		"HS384":              sign(t, jwt.SigningMethodHS384, good, secret),
		"none":               sign(t, jwt.SigningMethodNone, good, jwt.UnsafeAllowNoneSignatureType),
		"ES256":              sign(t, jwt.SigningMethodES256, good, ecKey),
		"no exp":             sign(t, jwt.SigningMethodHS256, without("exp"), secret),
		"expired":            issue(t, j, "session-1", now.Add(-time.Hour), now.Add(-time.Second)),
		"exp not a number":   sign(t, jwt.SigningMethodHS256, with("exp", "tomorrow"), secret),
		"no sid":             sign(t, jwt.SigningMethodHS256, without("sid"), secret),
		"empty sid":          issue(t, j, "", now, now.Add(time.Hour)),
		"sid not a string":   sign(t, jwt.SigningMethodHS256, with("sid", 42), secret),
		"sid with a NUL":     sign(t, jwt.SigningMethodHS256, with("sid", "a\x00b"), secret),
		"sid not base64url":  sign(t, jwt.SigningMethodHS256, with("sid", "a'b; --"), secret),
		"sid too long":       sign(t, jwt.SigningMethodHS256, with("sid", strings.Repeat("a", 129)), secret),
		"not valid before":   sign(t, jwt.SigningMethodHS256, with("nbf", now.Add(time.Hour).Unix()), secret),
		"oversized":          sign(t, jwt.SigningMethodHS256, with("pad", strings.Repeat("a", 4<<10)), secret),
		"payload swapped":    swapPayload(valid, sign(t, jwt.SigningMethodHS256, with("sid", "session-2"), secret)),
		"signature stripped": valid[:strings.LastIndexByte(valid, '.')+1],
		"non-canonical":      flipPaddingBit(valid),
		"line break inside":  valid[:len(valid)-10] + "\n" + valid[len(valid)-10:],
		"carriage return":    valid[:20] + "\r" + valid[20:],
		"padded":             valid + "=",
	} {
		t.Run(name, func(t *testing.T) {
			sid, err := j.SessionID(tok)
			if !errors.Is(err, domain.ErrUnauthenticated) || sid != "" {
				t.Errorf("SessionID = %q, %v; want ErrUnauthenticated", sid, err)
			}
		})
	}
}

func sign(t *testing.T, method jwt.SigningMethod, c jwt.MapClaims, key any) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// swapPayload puts the payload of b under the header and signature of a.
func swapPayload(a, b string) string {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	return pa[0] + "." + pb[1] + "." + pa[2]
}

// flipPaddingBit changes the last character of the signature into one that decodes to
// the same bytes when padding bits are ignored: 43 base64 characters carry 258 bits
// for a 256-bit signature.
func flipPaddingBit(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	return tok[:len(tok)-1] + string(alphabet[last^1])
}

// A token verified once is remembered, and a remembered token still ends when it
// expires.
func TestVerifiedTokenIsRememberedUntilItExpires(t *testing.T) {
	t.Parallel()
	j := newJWT(t)
	tok, err := j.Issue("session-1", time.Now(), time.Now().Add(1100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if sid, err := j.SessionID(tok); err != nil || sid != "session-1" {
			t.Fatalf("SessionID = %q, %v; want session-1", sid, err)
		}
	}
	time.Sleep(1200 * time.Millisecond)
	if sid, err := j.SessionID(tok); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Errorf("after expiry: SessionID = %q, %v; want unauthenticated", sid, err)
	}
}
