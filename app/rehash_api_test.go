package main

import (
	"net/http"
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
	if cost, err := bcrypt.Cost([]byte(after.hash)); err != nil || cost != 4 {
		t.Errorf("stored hash cost %d (%v), want the configured 4", cost, err)
	}
	if !after.updatedAt.Equal(before.updatedAt) {
		t.Errorf("updated_at moved from %v to %v", before.updatedAt, after.updatedAt)
	}
	assertStatus(t, s.client().login("cost.changer", testPassword), http.StatusNoContent, "")
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
