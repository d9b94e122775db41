package commands_test

import (
	"slices"
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestSetUserPassword(t *testing.T) {
	tests := []struct {
		name       string
		caller     string
		target     string
		password   string
		setup      func(e *env)
		want       domain.Code
		wantFields []string
		wantHash   bool
	}{
		{name: "admin sets a user's password", caller: idAlice, target: idCarol, password: "reset-by-admin", wantHash: true},
		{name: "super admin sets a user's password", caller: idRoot, target: idDave, password: "reset-by-root", wantHash: true},
		{name: "super admin sets an admin's password", caller: idRoot, target: idBob, password: "reset-by-root", wantHash: true},
		{name: "admin sets an inactive user's password", caller: idAlice, target: idErin, password: "reset-by-admin", wantHash: true},

		// 4: a user manages nobody, whatever else is wrong.
		{name: "user caller on a missing target with a bad password", caller: idCarol, target: idNoSuchID, password: "x", want: domain.CodeForbidden},
		{name: "user caller on another user", caller: idCarol, target: idDave, password: "good-password", want: domain.CodeForbidden},
		{name: "user caller on themselves", caller: idCarol, target: idCarol, password: "good-password", want: domain.CodeForbidden},
		// 5 before 6.
		{name: "bad password on a missing target", caller: idAlice, target: idNoSuchID, password: "12345", want: domain.CodeValidationFailed, wantFields: []string{"password"}},
		{name: "bad password on an unmanaged target", caller: idAlice, target: idBob, password: "", want: domain.CodeValidationFailed, wantFields: []string{"password"}},
		// 6 before 7.
		{name: "missing target", caller: idAlice, target: idNoSuchID, password: "good-password", want: domain.CodeNotFound},
		{name: "missing target, super admin", caller: idRoot, target: idNoSuchID, password: "good-password", want: domain.CodeNotFound},
		// 7.
		{name: "admin on another admin", caller: idAlice, target: idBob, password: "good-password", want: domain.CodeForbidden},
		{name: "admin on a super admin", caller: idAlice, target: idRoot, password: "good-password", want: domain.CodeForbidden},
		{name: "admin on themselves", caller: idAlice, target: idAlice, password: "good-password", want: domain.CodeForbidden},
		{name: "super admin on another super admin", caller: idRoot, target: idRoot2, password: "good-password", want: domain.CodeForbidden},
		{name: "super admin on themselves", caller: idRoot, target: idRoot, password: "good-password", want: domain.CodeForbidden},

		{
			name: "hashing saturated", caller: idAlice, target: idCarol, password: "reset-by-admin",
			setup: func(e *env) { e.hasher.hashErr = domain.ErrUnavailable },
			want:  domain.CodeUnavailable, wantHash: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			h := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock)

			_, err := h.Handle(t.Context(), commands.SetUserPassword{Actor: e.actor(t, tc.caller), UserID: tc.target, Password: tc.password})

			wantCode(t, err, tc.want)
			if !slices.Equal(fieldsOf(err), tc.wantFields) {
				t.Errorf("fields at fault = %v, want %v", fieldsOf(err), tc.wantFields)
			}
			if got := e.hasher.hashCalls > 0; got != tc.wantHash {
				t.Errorf("hashed = %v, want %v (a request bound to fail must not pay for a hash)", got, tc.wantHash)
			}
			if tc.want != "" {
				e.assertEvents(t)
				e.assertNoUserAdded(t)
				e.assertOtherSessionsIntact(t, "")
				return
			}
			old := seededUser(t, tc.target)
			want := old
			want.PasswordHash = hashOf(tc.password)
			want.PasswordChangedAt = t0
			want.UpdatedAt = t0
			want.Version = seededVersion + 1
			if got := e.store.user(t, tc.target); got != want {
				t.Errorf("stored %+v, want %+v", got, want)
			}
			e.assertEvents(t, domain.Event{UserID: tc.target, Sequence: want.Version, ActorID: tc.caller, OccurredAt: t0,
				Data: domain.UserPasswordChanged{By: domain.ChangedByAdmin}})
			// Every session of the target ends; nobody else's do.
			e.assertSessions(t, tc.target)
			e.assertOtherSessionsIntact(t, tc.target)
		})
	}
}
