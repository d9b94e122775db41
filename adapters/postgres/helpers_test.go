package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/domain"
)

// userID returns a fixed, valid UUIDv7 whose order follows n, so that tests can
// state the id tie-break plainly.
func userID(n int) string {
	return fmt.Sprintf("01900000-0000-7000-8000-%012d", n)
}

// at is a fixed instant with microseconds, the precision PostgreSQL keeps.
func at(minute int) time.Time {
	return time.Date(2026, 11, 24, 8, minute, 0, 123456000, time.UTC)
}

func newUser(n int, username string, role domain.Role) *domain.User {
	return domain.NewUser(userID(n), username, "hash-"+username, role, at(0))
}

func addUser(t *testing.T, store *postgres.Store, u *domain.User) *domain.User {
	t.Helper()
	if err := store.Users().Add(t.Context(), u); err != nil {
		t.Fatalf("add user %s: %v", u.Username, err)
	}
	return u
}

func newSession(id, userID string, minute int) *domain.Session {
	return &domain.Session{
		ID:                id,
		UserID:            userID,
		CreatedAt:         at(minute),
		ExpiresAt:         at(minute + 30),
		AbsoluteExpiresAt: at(minute + 59),
	}
}
