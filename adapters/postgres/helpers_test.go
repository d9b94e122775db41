package postgres_test

import (
	"testing"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
)

func newUser(n int, username string, role domain.Role) *domain.User {
	return domain.NewUser(commandstest.UserID(n), username, "hash-"+username, role, commandstest.At(0))
}

func addUser(t *testing.T, store *postgres.Store, u *domain.User) *domain.User {
	t.Helper()
	if err := store.Users().Add(t.Context(), u); err != nil {
		t.Fatalf("add user %s: %v", u.Username, err)
	}
	return u
}
