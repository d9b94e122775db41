package commands_test

import (
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestSetAdmin(t *testing.T) {
	tests := []struct {
		name     string
		caller   string
		target   string
		admin    bool
		want     domain.Code
		wantRole domain.Role
		// wantChanged: the stored user changed (UpdatedAt moves); otherwise it is as seeded.
		wantChanged bool
	}{
		{name: "grant to a user", caller: idRoot, target: idCarol, admin: true, wantRole: domain.RoleAdmin, wantChanged: true},
		{name: "revoke from an admin", caller: idRoot, target: idAlice, admin: false, wantRole: domain.RoleUser, wantChanged: true},
		{name: "grant to an inactive user", caller: idRoot, target: idErin, admin: true, wantRole: domain.RoleAdmin, wantChanged: true},
		{name: "grant to an admin changes nothing", caller: idRoot, target: idBob, admin: true, wantRole: domain.RoleAdmin},
		{name: "revoke from a user changes nothing", caller: idRoot, target: idDave, admin: false, wantRole: domain.RoleUser},

		// 4: only a super admin changes roles.
		{name: "admin may not grant", caller: idAlice, target: idCarol, admin: true, want: domain.CodeForbidden},
		{name: "admin may not revoke", caller: idAlice, target: idBob, admin: false, want: domain.CodeForbidden},
		{name: "admin on a missing target is forbidden, not not found", caller: idAlice, target: idNoSuchID, admin: true, want: domain.CodeForbidden},
		{name: "user may not grant themselves", caller: idCarol, target: idCarol, admin: true, want: domain.CodeForbidden},
		{name: "user on a missing target", caller: idCarol, target: idNoSuchID, admin: true, want: domain.CodeForbidden},
		// 6.
		{name: "missing target", caller: idRoot, target: idNoSuchID, admin: true, want: domain.CodeNotFound},
		// 7.
		{name: "grant to another super admin", caller: idRoot, target: idRoot2, admin: true, want: domain.CodeForbidden},
		{name: "revoke from another super admin does not demote", caller: idRoot, target: idRoot2, admin: false, want: domain.CodeForbidden},
		{name: "super admin on themselves", caller: idRoot, target: idRoot, admin: false, want: domain.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			h := commands.NewSetAdminHandler(e.store, e.clock)

			_, err := h.Handle(t.Context(), commands.SetAdmin{Actor: e.actor(t, tc.caller), UserID: tc.target, Admin: tc.admin})

			wantCode(t, err, tc.want)
			// Role changes leave sessions alone: the role is read on every request.
			e.assertOtherSessionsIntact(t, "")
			if tc.want != "" || !tc.wantChanged {
				e.assertEvents(t)
				e.assertNoUserAdded(t)
				if tc.want == "" && e.store.user(t, tc.target).Role != tc.wantRole {
					t.Errorf("role %q, want %q", e.store.user(t, tc.target).Role, tc.wantRole)
				}
				return
			}
			want := seededUser(t, tc.target)
			from := want.Role
			want.Role = tc.wantRole
			want.UpdatedAt = t0
			want.Version = seededVersion + 1
			if got := e.store.user(t, tc.target); got != want {
				t.Errorf("stored %+v, want %+v", got, want)
			}
			e.assertEvents(t, domain.Event{UserID: tc.target, Sequence: want.Version, ActorID: tc.caller, OccurredAt: t0,
				Data: domain.UserRoleChanged{From: from, To: tc.wantRole}})
		})
	}
}

// A newly granted admin manages users at once, and loses that on revoke.
func TestSetAdminGrantThenRevoke(t *testing.T) {
	e := newEnv(t)
	roles := commands.NewSetAdminHandler(e.store, e.clock)
	reset := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock)

	_, err := roles.Handle(t.Context(), commands.SetAdmin{Actor: e.actor(t, idRoot), UserID: idCarol, Admin: true})
	wantCode(t, err, "")
	_, err = reset.Handle(t.Context(), commands.SetUserPassword{Actor: e.actor(t, idCarol), UserID: idDave, Password: "reset-by-carol"})
	wantCode(t, err, "")

	_, err = roles.Handle(t.Context(), commands.SetAdmin{Actor: e.actor(t, idRoot), UserID: idCarol, Admin: false})
	wantCode(t, err, "")
	_, err = reset.Handle(t.Context(), commands.SetUserPassword{Actor: e.actor(t, idCarol), UserID: idDave, Password: "again-by-carol"})
	wantCode(t, err, domain.CodeForbidden)
	if got := e.store.user(t, idDave).PasswordHash; got != hashOf("reset-by-carol") {
		t.Errorf("dave's password hash %q, want the one set while carol was admin", got)
	}
}
