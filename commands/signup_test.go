package commands_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestSignup(t *testing.T) {
	tests := []struct {
		name       string
		username   string
		password   string
		setup      func(e *env)
		want       domain.Code
		wantFields []string
		// wantHash says whether the slow hash may run at all.
		wantHash bool
		// racer names a user the test itself adds meanwhile.
		racer []string
	}{
		{name: "new account", username: "new.user", password: "secret", want: "", wantHash: true},
		{name: "username differing only in case is free", username: "Carol.User", password: "secret", wantHash: true},
		{name: "unicode password", username: "new.user", password: "пароль🔑", wantHash: true},
		{name: "bad username", username: "new..user", password: "secret", want: domain.CodeValidationFailed, wantFields: []string{"username"}},
		{name: "short password", username: "new.user", password: "12345", want: domain.CodeValidationFailed, wantFields: []string{"password"}},
		{name: "both broken, both reported", username: "x", password: "", want: domain.CodeValidationFailed, wantFields: []string{"username", "password"}},
		{name: "taken", username: "carol.user", password: "secret", want: domain.CodeUsernameTaken},
		{name: "taken by an inactive user", username: "erin.gone", password: "secret", want: domain.CodeUsernameTaken},
		{name: "rules come before the taken check", username: "carol.user", password: "short", want: domain.CodeValidationFailed, wantFields: []string{"password"}},
		{
			name: "hashing saturated", username: "new.user", password: "secret",
			setup: func(e *env) { e.hasher.hashErr = domain.Unavailable("busy", 0) },
			want:  domain.CodeUnavailable, wantHash: true,
		},
		{
			name: "taken while hashing: the unique index decides", username: "racing.name", password: "secret",
			setup: func(e *env) {
				e.hasher.beforeHash = func() {
					e.store.putUser(racer("racing.name", domain.RoleUser))
				}
			},
			want: domain.CodeUsernameTaken, wantHash: true, racer: []string{"racer"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			h := commands.NewSignupHandler(e.store, e.hasher, e.budget, e.ids, e.clock)

			res, err := h.Handle(t.Context(), commands.Signup{Username: tc.username, Password: tc.password})

			wantCode(t, err, tc.want)
			if !slices.Equal(fieldsOf(err), tc.wantFields) {
				t.Errorf("fields at fault = %v, want %v", fieldsOf(err), tc.wantFields)
			}
			if got := e.hasher.hashCalls > 0; got != tc.wantHash {
				t.Errorf("hashed = %v, want %v", got, tc.wantHash)
			}
			if tc.want != "" {
				if res != (commands.SignupResult{}) {
					t.Errorf("result on failure = %+v", res)
				}
				e.assertNoUserAdded(t, tc.racer...)
				return
			}
			e.assertRegistered(t, res.ID, tc.username, tc.password, domain.RoleUser)
			e.assertEvents(t, domain.Event{UserID: res.ID, Sequence: 1, OccurredAt: t0,
				Data: domain.UserSignedUp{Username: tc.username, Role: domain.RoleUser}})
			if res.ID == "" {
				t.Error("empty id returned")
			}
			if len(e.store.sessionsOf(res.ID)) != 0 {
				t.Error("signup opened a session")
			}
		})
	}
}

func TestSignupTwiceWithTheSameName(t *testing.T) {
	e := newEnv(t)
	h := commands.NewSignupHandler(e.store, e.hasher, e.budget, e.ids, e.clock)
	first, err := h.Handle(t.Context(), commands.Signup{Username: "twice.name", Password: "secret"})
	wantCode(t, err, "")
	_, err = h.Handle(t.Context(), commands.Signup{Username: "twice.name", Password: "other-secret"})
	wantCode(t, err, domain.CodeUsernameTaken)
	if e.hasher.hashCalls != 1 {
		t.Errorf("hashed %d times, want once: the taken name is refused before hashing", e.hasher.hashCalls)
	}
	if u := e.store.user(t, first.ID); u.PasswordHash != hashOf("secret") {
		t.Errorf("the first account's password changed to %q", u.PasswordHash)
	}
}

func TestSignupStoreFailure(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("connection refused")
	e.store.fail["users.GetByUsername"] = boom
	_, err := commands.NewSignupHandler(e.store, e.hasher, e.budget, e.ids, e.clock).Handle(t.Context(), commands.Signup{Username: "new.user", Password: "secret"})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the store's error", err)
	}
	if e.hasher.hashCalls != 0 {
		t.Error("hashed although the lookup failed")
	}
	e.assertNoUserAdded(t)
}
