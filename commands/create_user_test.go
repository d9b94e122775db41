package commands_test

import (
	"slices"
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name       string
		caller     string
		username   string
		password   string
		role       domain.Role
		setup      func(e *env)
		want       domain.Code
		wantFields []string
		wantHash   bool
	}{
		{name: "admin creates a user", caller: idAlice, username: "new.user", password: "secret", role: domain.RoleUser, wantHash: true},
		{name: "super admin creates a user", caller: idRoot, username: "new.user", password: "secret", role: domain.RoleUser, wantHash: true},
		{name: "super admin creates an admin", caller: idRoot, username: "new.admin", password: "secret", role: domain.RoleAdmin, wantHash: true},

		// Check 4 comes first.
		{name: "user may create nobody", caller: idCarol, username: "new.user", password: "secret", role: domain.RoleUser, want: domain.CodeForbidden},
		{name: "user with a broken request is still forbidden", caller: idCarol, username: "x", password: "", role: domain.RoleUser, want: domain.CodeForbidden},
		{name: "admin may not create an admin", caller: idAlice, username: "new.admin", password: "secret", role: domain.RoleAdmin, want: domain.CodeForbidden},
		{name: "admin asking for admin with an invalid username is forbidden, not invalid", caller: idAlice, username: ".bad", password: "secret", role: domain.RoleAdmin, want: domain.CodeForbidden},
		{name: "admin asking for admin with a taken username is forbidden", caller: idAlice, username: "carol.user", password: "secret", role: domain.RoleAdmin, want: domain.CodeForbidden},
		{name: "nobody creates a super admin through the API", caller: idRoot, username: "new.root", password: "secret", role: domain.RoleSuperAdmin, want: domain.CodeForbidden},
		{name: "unknown role", caller: idRoot, username: "new.user", password: "secret", role: "root", want: domain.CodeForbidden},

		// Check 5, then 8.
		{name: "bad username", caller: idAlice, username: "user!name", password: "secret", role: domain.RoleUser, want: domain.CodeValidationFailed, wantFields: []string{"username"}},
		{name: "short password", caller: idRoot, username: "new.admin", password: "abc", role: domain.RoleAdmin, want: domain.CodeValidationFailed, wantFields: []string{"password"}},
		{name: "taken", caller: idAlice, username: "dave.user", password: "secret", role: domain.RoleUser, want: domain.CodeUsernameTaken},
		{name: "taken by a super admin", caller: idRoot, username: "root.admin", password: "secret", role: domain.RoleAdmin, want: domain.CodeUsernameTaken},
		{name: "taken name with a short password is a validation failure", caller: idAlice, username: "dave.user", password: "abc", role: domain.RoleUser, want: domain.CodeValidationFailed, wantFields: []string{"password"}},
		{
			name: "hashing saturated", caller: idAlice, username: "new.user", password: "secret", role: domain.RoleUser,
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
			h := commands.NewCreateUserHandler(e.store, e.hasher, e.budget, e.ids, e.clock)

			res, err := h.Handle(t.Context(), commands.CreateUser{
				Actor: e.actor(t, tc.caller), Username: tc.username, Password: tc.password, Role: tc.role,
			})

			wantCode(t, err, tc.want)
			if !slices.Equal(fieldsOf(err), tc.wantFields) {
				t.Errorf("fields at fault = %v, want %v", fieldsOf(err), tc.wantFields)
			}
			if got := e.hasher.hashCalls > 0; got != tc.wantHash {
				t.Errorf("hashed = %v, want %v", got, tc.wantHash)
			}
			if tc.want != "" {
				e.assertNoUserAdded(t)
				return
			}
			u := e.assertRegistered(t, res.ID, tc.username, tc.password, tc.role)
			e.assertEvents(t, domain.Event{UserID: res.ID, Sequence: 1, ActorID: tc.caller, OccurredAt: t0,
				Data: domain.UserCreated{Username: tc.username, Role: tc.role}})
			if !res.CreatedAt.Equal(u.CreatedAt) {
				t.Errorf("returned created_at %v, stored %v", res.CreatedAt, u.CreatedAt)
			}
		})
	}
}
