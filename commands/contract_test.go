package commands_test

import (
	"context"
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
)

// The fake runs the contract suite the PostgreSQL store runs: a command test that
// passes on the fake then passes for behaviour production really has.
func TestMemStoreContract(t *testing.T) {
	t.Parallel()
	commandstest.StoreContract(t, func(*testing.T) (commands.Store, commandstest.EventLog) {
		s := newMemStore()
		return s, func(context.Context) ([]domain.Event, error) { return s.events(), nil }
	})
}
