package main

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/example/accounts/adapters/password"
)

// TestLoginRenewsHashesAfterACostChange: a hash stored at another bcrypt cost (the
// operator has changed [security] bcrypt_cost since) still logs in, and that login
// stores a fresh hash at the configured cost without touching updated_at.
func TestLoginRenewsHashesAfterACostChange(t *testing.T) {
	t.Parallel()
	s := startService(t, nil) // bcrypt_cost 4
	id := s.superAdmin("cost.changer")

	older, err := password.NewHasher(password.Config{
		Pepper: []byte(s.Config.Security.PasswordPepper), Cost: 5, Concurrency: 1, Wait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	oldHash, err := older.Hash(t.Context(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.NewRaw(`UPDATE users SET password_hash = ? WHERE id = ?`, oldHash, id).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := s.storedUser(id)

	assertStatus(t, s.client().login("cost.changer", testPassword), http.StatusNoContent, "")

	after := s.storedUser(id)
	if after.hash == oldHash || s.hasher().Outdated(after.hash) {
		t.Errorf("stored hash %q is not renewed at the configured cost 4", after.hash)
	}
	if !after.updatedAt.Equal(before.updatedAt) {
		t.Errorf("updated_at moved from %v to %v", before.updatedAt, after.updatedAt)
	}
	assertStatus(t, s.client().login("cost.changer", testPassword), http.StatusNoContent, "")
}

// TestLoginRenewsHashesOfUnnormalisedPasswords: a hash stored before passwords were
// normalised was made from the password as typed. It still logs in with that
// spelling, and that login stores a hash of the NFC form, after which every
// canonically equivalent spelling of the password logs in.
func TestLoginRenewsHashesOfUnnormalisedPasswords(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	id := s.superAdmin("nfc.renewal")
	const decomposed, composed = "cafe\u0301 au lait", "caf\u00e9 au lait"

	// The earlier format: bcrypt over the pepper's HMAC of the bytes as typed.
	mac := hmac.New(sha512.New384, []byte(s.Config.Security.PasswordPepper))
	mac.Write([]byte(decomposed))
	oldHash, err := bcrypt.GenerateFromPassword(base64.StdEncoding.AppendEncode(nil, mac.Sum(nil)), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.NewRaw(`UPDATE users SET password_hash = ? WHERE id = ?`, string(oldHash), id).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertStatus(t, s.client().login("nfc.renewal", composed), http.StatusUnauthorized, "invalid_credentials")
	assertStatus(t, s.client().login("nfc.renewal", decomposed), http.StatusNoContent, "")

	if after := s.storedUser(id); after.hash == string(oldHash) || s.hasher().Outdated(after.hash) {
		t.Errorf("stored hash %q is not renewed", after.hash)
	}
	assertStatus(t, s.client().login("nfc.renewal", composed), http.StatusNoContent, "")
	assertStatus(t, s.client().login("nfc.renewal", decomposed), http.StatusNoContent, "")
}

// hasher is a hasher with the service's pepper and cost, to read stored hashes.
func (s *service) hasher() *password.Hasher {
	s.t.Helper()
	h, err := password.NewHasher(password.Config{
		Pepper: []byte(s.Config.Security.PasswordPepper), Cost: s.Config.Security.BcryptCost, Concurrency: 1, Wait: time.Second,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

type storedUser struct {
	hash      string
	updatedAt time.Time
}

func (s *service) storedUser(id string) storedUser {
	s.t.Helper()
	var u storedUser
	err := s.DB.NewSelect().Table("users").Column("password_hash", "updated_at").Where("id = ?", id).
		Scan(s.t.Context(), &u.hash, &u.updatedAt)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// TestInvisiblePasswordSetBeforeTheRuleStillWorks: a password made only of spaces
// can no longer be set, but one set before that rule still logs in and can be
// changed, to a visible one only.
func TestInvisiblePasswordSetBeforeTheRuleStillWorks(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	id := s.superAdmin("blank.password")
	const blank = "        "
	hash, err := s.hasher().Hash(t.Context(), blank)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.NewRaw(`UPDATE users SET password_hash = ? WHERE id = ?`, hash, id).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}

	assertStatus(t, s.client().do("POST", "/api/v1/account/signup", map[string]string{"username": "new.blank", "password": blank}),
		http.StatusBadRequest, "validation_failed")
	c := s.client()
	assertStatus(t, c.login("blank.password", blank), http.StatusNoContent, "")
	change := func(next string) response {
		return c.do("PUT", "/api/v1/account/password", map[string]string{"current_password": blank, "new_password": next})
	}
	assertStatus(t, change("\u200b\u200b\u200b\u200b\u200b\u200b"), http.StatusBadRequest, "validation_failed")
	assertStatus(t, change("now visible"), http.StatusNoContent, "")
	assertStatus(t, s.client().login("blank.password", "now visible"), http.StatusNoContent, "")
}

// TestNewPasswordMustDifferInAnySpelling: a "new" password that is the current one
// spelt in another normalisation form is the same password, and refused as such.
func TestNewPasswordMustDifferInAnySpelling(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	s.superAdmin("same.password")
	c := s.loggedIn("same.password")
	const composed, decomposed = "caf\u00e9 au lait", "cafe\u0301 au lait"
	change := func(current, next string) response {
		return c.do("PUT", "/api/v1/account/password", map[string]string{"current_password": current, "new_password": next})
	}
	assertStatus(t, change(testPassword, composed), http.StatusNoContent, "")
	r := change(composed, decomposed)
	assertStatus(t, r, http.StatusBadRequest, "validation_failed")
	if !strings.Contains(string(r.Body), "must differ from the current password") {
		t.Errorf("refused for another reason: %s", r.Body)
	}
}
