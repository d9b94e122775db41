package commands_test

import (
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/commands/commandstest"
)

// The fake runs the contract suite the PostgreSQL store runs: a command test that
// passes on the fake then passes for behaviour production really has.
func TestMemStoreContract(t *testing.T) {
	t.Parallel()
	commandstest.StoreContract(t, func(*testing.T) commands.Store {
		return newMemStore()
	})
}
