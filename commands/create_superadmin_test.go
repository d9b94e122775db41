package commands_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestCreateSuperAdmin(t *testing.T) {
	tests := []struct {
		name        string
		username    string
		password    string
		want        domain.Code
		wantFields  []string
		wantCreated bool
		// wantID is the seeded id returned when nothing is created.
		wantID string
	}{
		{name: "new super admin", username: "first.root", password: "long-secret", wantCreated: true},
		{name: "existing super admin is no error and changes nothing", username: "root.admin", password: "another-secret", wantID: idRoot},
		{name: "name of an admin", username: "alice.admin", password: "long-secret", want: domain.CodeUsernameTaken},
		{name: "name of a user", username: "carol.user", password: "long-secret", want: domain.CodeUsernameTaken},
		{name: "name of an inactive user", username: "erin.gone", password: "long-secret", want: domain.CodeUsernameTaken},
		{name: "name differing only in case is free", username: "Root.Admin", password: "long-secret", wantCreated: true},
		{name: "bad name", username: "root..admin", password: "long-secret", want: domain.CodeValidationFailed, wantFields: []string{"username"}},
		{name: "too short a name", username: "root", password: "long-secret", want: domain.CodeValidationFailed, wantFields: []string{"username"}},
		{name: "short password", username: "first.root", password: "pw", want: domain.CodeValidationFailed, wantFields: []string{"password"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			h := commands.NewCreateSuperAdminHandler(e.store, e.hasher, e.ids, e.clock)

			res, err := h.Handle(t.Context(), commands.CreateSuperAdmin{Username: tc.username, Password: tc.password})

			wantCode(t, err, tc.want)
			if !slices.Equal(fieldsOf(err), tc.wantFields) {
				t.Errorf("fields at fault = %v, want %v", fieldsOf(err), tc.wantFields)
			}
			if res.Created != tc.wantCreated {
				t.Errorf("Created = %v, want %v", res.Created, tc.wantCreated)
			}
			if !tc.wantCreated {
				if tc.wantID != res.ID {
					t.Errorf("ID = %q, want %q", res.ID, tc.wantID)
				}
				if e.hasher.hashCalls != 0 {
					t.Errorf("hashed %d times when nothing was to be created", e.hasher.hashCalls)
				}
				e.assertNoUserAdded(t)
				return
			}
			e.assertRegistered(t, res.ID, tc.username, tc.password, domain.RoleSuperAdmin)
			// Nobody logged in made it: the command line.
			e.assertEvents(t, domain.Event{UserID: res.ID, Sequence: 1, OccurredAt: t0,
				Data: domain.UserCreated{Username: tc.username, Role: domain.RoleSuperAdmin}})
		})
	}
}

func TestCreateSuperAdminIsIdempotent(t *testing.T) {
	e := newEnv(t)
	h := commands.NewCreateSuperAdminHandler(e.store, e.hasher, e.ids, e.clock)
	first, err := h.Handle(t.Context(), commands.CreateSuperAdmin{Username: "deploy.root", Password: "long-secret"})
	wantCode(t, err, "")
	stored := e.store.user(t, first.ID)

	e.clock.Advance(time.Hour)
	again, err := h.Handle(t.Context(), commands.CreateSuperAdmin{Username: "deploy.root", Password: "different-secret"})
	wantCode(t, err, "")
	if again.ID != first.ID || again.Created {
		t.Errorf("second run = %+v, want id %s and not created", again, first.ID)
	}
	if got := e.store.user(t, first.ID); got != stored {
		t.Errorf("second run changed the user:\n got %+v\nwant %+v", got, stored)
	}
}

// TestCreateSuperAdminRacingRun: another run takes the name while this one hashes.
// If it made the same super admin, this run succeeds with its id, as if it had come
// second; if the name went to a user of another role, it is username_taken.
func TestCreateSuperAdminRacingRun(t *testing.T) {
	tests := []struct {
		name string
		role domain.Role
		want domain.Code
	}{
		{"the other run made the super admin", domain.RoleSuperAdmin, ""},
		{"a signup took the name", domain.RoleUser, domain.CodeUsernameTaken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.hasher.beforeHash = func() {
				e.store.putUser(racer("first.root", tc.role))
			}
			res, err := commands.NewCreateSuperAdminHandler(e.store, e.hasher, e.ids, e.clock).Handle(t.Context(),
				commands.CreateSuperAdmin{Username: "first.root", Password: "long-secret"})

			wantCode(t, err, tc.want)
			wantID := ""
			if tc.want == "" {
				wantID = "racer"
			}
			if res != (commands.CreateSuperAdminResult{ID: wantID}) {
				t.Errorf("result %+v, want id %q and not created", res, wantID)
			}
			e.assertNoUserAdded(t, "racer")
		})
	}
}

func TestCreateSuperAdminStoreFailure(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("connection refused")
	e.store.fail["users.GetByUsername"] = boom
	h := commands.NewCreateSuperAdminHandler(e.store, e.hasher, e.ids, e.clock)
	_, err := h.Handle(t.Context(), commands.CreateSuperAdmin{Username: "first.root", Password: "long-secret"})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the store's error", err)
	}
	if e.hasher.hashCalls != 0 {
		t.Error("hashed although the lookup failed")
	}
}
