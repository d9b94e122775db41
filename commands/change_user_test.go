package commands_test

import (
	"errors"
	"testing"

	"github.com/example/accounts/commands"
)

// The operations on another user, as test steps: caller acts on target.
func inactivate(caller, target string) func(*testing.T, *env) error {
	return func(t *testing.T, e *env) error {
		_, err := commands.NewSetActiveHandler(e.store, e.clock).Handle(t.Context(),
			commands.SetActive{Actor: e.actor(t, caller), UserID: target, Active: false})
		return err
	}
}

func resetPassword(caller, target string) func(*testing.T, *env) error {
	return func(t *testing.T, e *env) error {
		_, err := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock).Handle(t.Context(),
			commands.SetUserPassword{Actor: e.actor(t, caller), UserID: target, Password: "reset-by-" + caller})
		return err
	}
}

func grantAdmin(caller, target string) func(*testing.T, *env) error {
	return func(t *testing.T, e *env) error {
		_, err := commands.NewSetAdminHandler(e.store, e.clock).Handle(t.Context(),
			commands.SetAdmin{Actor: e.actor(t, caller), UserID: target, Admin: true})
		return err
	}
}

// Every operation on another user runs in one transaction: when any step fails after
// the user was changed in memory, nothing of it is stored.
func TestChangeUserRollsBackOnFailure(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name string
		fail string
		run  func(t *testing.T, e *env) error
	}{
		{"inactivation whose update fails", "users.Update", inactivate(idAlice, idCarol)},
		{"password reset whose session cleanup fails", "sessions.DeleteByUser", resetPassword(idAlice, idCarol)},
		{"password reset whose update fails", "users.Update", resetPassword(idRoot, idBob)},
		{"grant whose update fails", "users.Update", grantAdmin(idRoot, idCarol)},
		{"target lookup fails", "users.Get", grantAdmin(idRoot, idCarol)},
		{"password reset whose target lookup fails", "users.Get", resetPassword(idAlice, idCarol)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.store.fail[tc.fail] = boom
			err := tc.run(t, e)
			if !errors.Is(err, boom) {
				t.Fatalf("got %v, want the store's error", err)
			}
			e.assertNoUserAdded(t)
			e.assertOtherSessionsIntact(t, "")
			if e.store.commits != 0 {
				t.Errorf("%d transactions committed", e.store.commits)
			}
		})
	}
}

// A request that changes nothing writes nothing.
func TestChangeUserNoOpWritesNothing(t *testing.T) {
	e := newEnv(t)
	_, err := commands.NewSetAdminHandler(e.store, e.clock).Handle(t.Context(), commands.SetAdmin{Actor: e.actor(t, idRoot), UserID: idBob, Admin: true})
	wantCode(t, err, "")
	_, err = commands.NewSetActiveHandler(e.store, e.clock).Handle(t.Context(), commands.SetActive{Actor: e.actor(t, idRoot), UserID: idBob, Active: true})
	wantCode(t, err, "")
	if e.store.userUpdates != 0 {
		t.Errorf("%d user updates for requests that changed nothing", e.store.userUpdates)
	}
	e.assertNoUserAdded(t)
}
