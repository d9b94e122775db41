package commands_test

import (
	"errors"
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestLogout(t *testing.T) {
	e := newEnv(t)
	h := commands.NewLogoutHandler(e.store)

	_, err := h.Handle(t.Context(), commands.Logout{SessionID: idCarol + "-s1"})
	wantCode(t, err, "")
	e.assertSessions(t, idCarol, idCarol+"-s2")
	e.assertOtherSessionsIntact(t, idCarol)

	// The same cookie again, or a session that never existed, is no error.
	_, err = h.Handle(t.Context(), commands.Logout{SessionID: idCarol + "-s1"})
	wantCode(t, err, "")
	_, err = h.Handle(t.Context(), commands.Logout{SessionID: "never-existed"})
	wantCode(t, err, "")
	e.assertSessions(t, idCarol, idCarol+"-s2")
}

func TestLogoutThenAuthenticate(t *testing.T) {
	e := newEnv(t)
	token := e.tokens.tokenFor(idDave + "-s2")
	_, err := commands.NewLogoutHandler(e.store).Handle(t.Context(), commands.Logout{SessionID: idDave + "-s2"})
	wantCode(t, err, "")
	_, err = commands.NewAuthenticateHandler(e.store, e.tokens, e.clock, e.policy).Handle(t.Context(), commands.Authenticate{Token: token})
	wantCode(t, err, domain.CodeUnauthenticated)
}

func TestLogoutStoreFailure(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("connection reset")
	e.store.fail["sessions.Delete"] = boom
	_, err := commands.NewLogoutHandler(e.store).Handle(t.Context(), commands.Logout{SessionID: idDave + "-s2"})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the store's error", err)
	}
}
