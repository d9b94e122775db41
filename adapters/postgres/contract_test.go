package postgres_test

import (
	"testing"

	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/commands/commandstest"
)

// The store runs the same contract suite as the in-memory fake of the command tests,
// so that the fake is held to what PostgreSQL really does. What only PostgreSQL can
// show (row locks, the cascade) is tested in store_test.go.
func TestStoreContract(t *testing.T) {
	t.Parallel()
	commandstest.StoreContract(t, func(t *testing.T) (commands.Store, commandstest.EventLog) {
		db := pgtest.New(t)
		return newStore(db), eventLog(db)
	})
}
