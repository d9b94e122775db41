package commands_test

import (
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestSetActive(t *testing.T) {
	tests := []struct {
		name        string
		caller      string
		target      string
		active      bool
		want        domain.Code
		wantChanged bool
	}{
		{name: "admin inactivates a user", caller: idAlice, target: idCarol, active: false, wantChanged: true},
		{name: "super admin inactivates an admin", caller: idRoot, target: idBob, active: false, wantChanged: true},
		{name: "admin reactivates a user", caller: idAlice, target: idErin, active: true, wantChanged: true},
		{name: "inactivating an inactive user changes nothing", caller: idAlice, target: idErin, active: false},
		{name: "reactivating an active user changes nothing", caller: idRoot, target: idDave, active: true},

		// 4.
		{name: "user caller", caller: idCarol, target: idDave, active: false, want: domain.CodeForbidden},
		{name: "user caller on a missing target", caller: idCarol, target: idNoSuchID, active: false, want: domain.CodeForbidden},
		{name: "user caller on themselves", caller: idCarol, target: idCarol, active: false, want: domain.CodeForbidden},
		// 6.
		{name: "missing target", caller: idAlice, target: idNoSuchID, active: false, want: domain.CodeNotFound},
		{name: "missing target, reactivation", caller: idRoot, target: idNoSuchID, active: true, want: domain.CodeNotFound},
		// 7.
		{name: "admin on another admin", caller: idAlice, target: idBob, active: false, want: domain.CodeForbidden},
		{name: "admin on a super admin", caller: idAlice, target: idRoot, active: false, want: domain.CodeForbidden},
		{name: "admin on themselves", caller: idAlice, target: idAlice, active: false, want: domain.CodeForbidden},
		{name: "super admin on another super admin", caller: idRoot, target: idRoot2, active: false, want: domain.CodeForbidden},
		{name: "super admin on themselves", caller: idRoot, target: idRoot, active: false, want: domain.CodeForbidden},
		{name: "no-op on an unmanaged target is still forbidden", caller: idAlice, target: idBob, active: true, want: domain.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			h := commands.NewSetActiveHandler(e.store, e.clock)

			_, err := h.Handle(t.Context(), commands.SetActive{Actor: e.actor(t, tc.caller), UserID: tc.target, Active: tc.active})

			wantCode(t, err, tc.want)
			if tc.want != "" || !tc.wantChanged {
				e.assertEvents(t)
				e.assertNoUserAdded(t)
				e.assertOtherSessionsIntact(t, "")
				if tc.want == "" && e.store.user(t, tc.target).IsActive != tc.active {
					t.Errorf("is_active = %v, want %v", e.store.user(t, tc.target).IsActive, tc.active)
				}
				return
			}
			want := seededUser(t, tc.target)
			want.IsActive = tc.active
			want.UpdatedAt = t0
			want.Version = seededVersion + 1
			var event domain.EventData = domain.UserReactivated{}
			if !tc.active {
				want.SessionsValidFrom = want.Version
				event = domain.UserInactivated{}
			}
			if got := e.store.user(t, tc.target); got != want {
				t.Errorf("stored %+v, want %+v", got, want)
			}
			e.assertEvents(t, domain.Event{UserID: tc.target, Sequence: want.Version, ActorID: tc.caller, OccurredAt: t0, Data: event})
			if !tc.active {
				// The rows stay until the event's handler deletes them, but no
				// request gets past them any more.
				for _, sid := range e.store.sessionsOf(tc.target) {
					e.assertRefused(t, sid)
				}
			}
			e.assertOtherSessionsIntact(t, tc.target)
		})
	}
}

// Inactivation ends every session and stops logins; reactivation lets the user log in
// again with the same password, but brings no old session back.
func TestSetActiveRoundTrip(t *testing.T) {
	e := newEnv(t)
	h := commands.NewSetActiveHandler(e.store, e.clock)
	login := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)
	creds := commands.Login{Username: "dave.user", Password: passwordOf("dave.user"), ClientAddr: clientAddr}

	_, err := h.Handle(t.Context(), commands.SetActive{Actor: e.actor(t, idAlice), UserID: idDave, Active: false})
	wantCode(t, err, "")
	e.assertRefused(t, idDave+"-s1")
	_, err = login.Handle(t.Context(), creds)
	wantCode(t, err, domain.CodeAccountInactive)

	_, err = h.Handle(t.Context(), commands.SetActive{Actor: e.actor(t, idAlice), UserID: idDave, Active: true})
	wantCode(t, err, "")
	if u := e.store.user(t, idDave); !u.IsActive || u.PasswordHash != hashOf(passwordOf("dave.user")) {
		t.Fatalf("after reactivation: %+v", u)
	}
	e.assertRefused(t, idDave+"-s1")
	e.assertRefused(t, idDave+"-s2")
	_, err = login.Handle(t.Context(), creds)
	wantCode(t, err, "")
	if n := len(e.store.sessionsOf(idDave)); n != 3 {
		t.Errorf("dave has %d session rows after logging in again, want the two old ones and the new", n)
	}
}

// The handler of user.inactivated deletes the rows of the sessions the user had
// when the inactivation committed. Run late, after a reactivation and a new login,
// and run twice, as at-least-once delivery allows, it leaves the new session alone.
func TestEndSessionsOnUserInactivated(t *testing.T) {
	e := newEnv(t)
	setActive := commands.NewSetActiveHandler(e.store, e.clock)
	login := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)
	cleanup := commands.NewEndSessionsOnUserInactivatedHandler(e.store)

	_, err := setActive.Handle(t.Context(), commands.SetActive{Actor: e.actor(t, idAlice), UserID: idDave, Active: false})
	wantCode(t, err, "")
	_, err = setActive.Handle(t.Context(), commands.SetActive{Actor: e.actor(t, idAlice), UserID: idDave, Active: true})
	wantCode(t, err, "")
	_, err = login.Handle(t.Context(), commands.Login{Username: "dave.user", Password: passwordOf("dave.user"), ClientAddr: clientAddr})
	wantCode(t, err, "")
	events := e.store.events()
	if len(events) != 2 {
		t.Fatalf("events %+v, want the inactivation and the reactivation", events)
	}

	// Every event reaches every handler; only the inactivation is its concern.
	for range 2 {
		for _, ev := range events {
			if err := cleanup.Handle(t.Context(), ev); err != nil {
				t.Fatalf("handling %s: %v", ev.Type(), err)
			}
		}
	}
	e.assertSessions(t, idDave, "sess-0001")
	e.assertOtherSessionsIntact(t, idDave)
}

// assertRefused fails unless a request with session sid is refused.
func (e *env) assertRefused(t *testing.T, sid string) {
	t.Helper()
	_, err := commands.NewAuthenticateHandler(e.store, e.tokens, e.clock, e.policy).Handle(t.Context(),
		commands.Authenticate{Token: e.tokens.tokenFor(sid)})
	if codeOf(err) != domain.CodeUnauthenticated {
		t.Errorf("session %s: got %v, want it refused", sid, err)
	}
}
