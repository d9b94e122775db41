package postgres_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
)

// newStore is the store as the service runs it: user writes put their events in
// the outbox.
func newStore(db *bun.DB) *postgres.Store {
	return postgres.NewStore(db, outbox.NewWriter())
}

// userRecord is a user as a row holds it, at version 1. Fixtures restore users from
// records rather than create them, so that they may hold what the rules refuse today
// (a username stored before a rule changed) and set any timestamp.
func userRecord(n int, username string, role domain.Role) domain.UserRecord {
	return domain.UserRecord{
		ID: commandstest.UserID(n), Username: username, PasswordHash: "hash-" + username,
		PasswordChangedAt: commandstest.At(0), Role: role, IsActive: true,
		CreatedAt: commandstest.At(0), UpdatedAt: commandstest.At(0), Version: 1,
	}
}

func newUser(n int, username string, role domain.Role) *domain.User {
	return domain.RestoreUser(userRecord(n, username, role))
}

// addUser adds a user, in a transaction as every user write is.
func addUser(t *testing.T, store *postgres.Store, u *domain.User) *domain.User {
	t.Helper()
	err := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		return tx.Users().Add(ctx, u)
	})
	if err != nil {
		t.Fatalf("add user %s: %v", u.Username(), err)
	}
	return u
}

// eventLog reads the outbox of db as its consumers do: in commit order.
func eventLog(db *bun.DB) commandstest.EventLog {
	return func(ctx context.Context) ([]domain.Event, error) {
		var payloads [][]byte
		err := db.NewRaw(`SELECT payload::text FROM watermill_user_events ORDER BY transaction_id, "offset"`).Scan(ctx, &payloads)
		if err != nil {
			return nil, err
		}
		events := make([]domain.Event, len(payloads))
		for i, p := range payloads {
			d, err := outbox.Unmarshal(p)
			if err != nil {
				return nil, err
			}
			events[i] = d.Event
		}
		return events, nil
	}
}
