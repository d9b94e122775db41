package commands_test

import (
	"slices"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// hashingOperation is one use case that hashes passwords, run for a client address.
type hashingOperation struct {
	name string
	// hashes is what a request draws on the budget: the hashes it may make.
	hashes int
	// run runs a request that would succeed; broken, one that fails the rules.
	run func(e *env, t *testing.T, broken bool) error
}

func hashingOperations() []hashingOperation {
	password := func(broken bool, good string) string {
		if broken {
			return "12345"
		}
		return good
	}
	return []hashingOperation{
		{"signup", 1, func(e *env, t *testing.T, broken bool) error {
			_, err := commands.NewSignupHandler(e.store, e.hasher, e.budget, e.ids, e.clock).Handle(t.Context(),
				commands.Signup{Username: "new.user", Password: password(broken, "secret"), ClientAddr: clientAddr})
			return err
		}},
		{"login", 1, func(e *env, t *testing.T, broken bool) error {
			_, err := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap).Handle(t.Context(),
				commands.Login{Username: "carol.user", Password: password(broken, passwordOf("carol.user")), ClientAddr: clientAddr})
			return err
		}},
		{"own password change", 2, func(e *env, t *testing.T, broken bool) error {
			_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(t.Context(),
				commands.ChangeOwnPassword{Actor: e.actor(t, idCarol), CurrentPassword: passwordOf("carol.user"), NewPassword: password(broken, "brand-new-pw"), ClientAddr: clientAddr})
			return err
		}},
		{"admin creates a user", 1, func(e *env, t *testing.T, broken bool) error {
			_, err := commands.NewCreateUserHandler(e.store, e.hasher, e.budget, e.ids, e.clock).Handle(t.Context(),
				commands.CreateUser{Actor: e.actor(t, idAlice), Username: "new.user", Password: password(broken, "secret"), Role: domain.RoleUser, ClientAddr: clientAddr})
			return err
		}},
		{"admin sets a password", 1, func(e *env, t *testing.T, broken bool) error {
			_, err := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock).Handle(t.Context(),
				commands.SetUserPassword{Actor: e.actor(t, idAlice), UserID: idCarol, Password: password(broken, "reset-by-admin"), ClientAddr: clientAddr})
			return err
		}},
	}
}

// Every request that hashes draws on its client address's budget, right or wrong
// credentials alike, after the rules and before any hashing.
func TestHashingDrawsOnTheClientAddressBudget(t *testing.T) {
	for _, op := range hashingOperations() {
		t.Run(op.name, func(t *testing.T) {
			e := newEnv(t)
			wantCode(t, op.run(e, t, false), "")
			if got, want := e.budget.draws(), []spending{{clientAddr, op.hashes}}; !slices.Equal(got, want) {
				t.Errorf("budget draws %v, want %v", got, want)
			}
		})
	}
}

func TestHashingOverBudgetIsRateLimited(t *testing.T) {
	for _, op := range hashingOperations() {
		t.Run(op.name, func(t *testing.T) {
			e := newEnv(t)
			e.budget.wait = 7 * time.Second
			before := e.store.sessionIDs()

			err := op.run(e, t, false)

			wantCode(t, err, domain.CodeRateLimited)
			if de, _ := domain.AsError(err); de.RetryAfter != 7*time.Second {
				t.Errorf("RetryAfter = %v, want the budget's wait 7s", de.RetryAfter)
			}
			if e.hasher.hashCalls+e.hasher.verifyCalls != 0 {
				t.Errorf("hashed %d and verified %d times over budget", e.hasher.hashCalls, e.hasher.verifyCalls)
			}
			e.assertNoUserAdded(t)
			if after := e.store.sessionIDs(); !slices.Equal(after, before) {
				t.Errorf("sessions went from %v to %v", before, after)
			}
			// Refused by the budget is no failed attempt, and holds no claim.
			if len(e.throttle.failed) != 0 || e.throttle.open != 0 || e.throttle.settledTwice != 0 {
				t.Errorf("throttle: failures %v, claims open %d, settled twice %d", e.throttle.failed, e.throttle.open, e.throttle.settledTwice)
			}
		})
	}
}

// A budget that cannot be read (it is kept in the database, which is down) fails
// the request as unavailable, before anything is hashed or written.
func TestHashingBudgetUnavailable(t *testing.T) {
	for _, op := range hashingOperations() {
		t.Run(op.name, func(t *testing.T) {
			e := newEnv(t)
			e.budget.err = domain.Unavailable("The database is unavailable; try again shortly.", time.Second)
			wantCode(t, op.run(e, t, false), domain.CodeUnavailable)
			if e.hasher.hashCalls+e.hasher.verifyCalls != 0 {
				t.Errorf("hashed %d and verified %d times without a budget", e.hasher.hashCalls, e.hasher.verifyCalls)
			}
			e.assertNoUserAdded(t)
			if len(e.throttle.failed) != 0 || e.throttle.open != 0 {
				t.Errorf("throttle: failures %v, claims open %d", e.throttle.failed, e.throttle.open)
			}
		})
	}
}

// The rules come first: a request that breaks them costs nothing of the budget.
func TestHashingBudgetIsNotDrawnByARequestThatBreaksTheRules(t *testing.T) {
	for _, op := range hashingOperations() {
		t.Run(op.name, func(t *testing.T) {
			e := newEnv(t)
			e.budget.wait = time.Minute
			wantCode(t, op.run(e, t, true), domain.CodeValidationFailed)
			if got := e.budget.draws(); len(got) != 0 {
				t.Errorf("budget drawn on: %v", got)
			}
		})
	}
}

// The budget stands where the order of checks puts the throttle: after the role
// check and the rules, before whether the target exists, whether the caller manages
// it and whether the name is taken.
func TestHashingBudgetInTheOrderOfChecks(t *testing.T) {
	overBudget := func(e *env) { e.budget.wait = time.Minute }
	tests := []struct {
		name  string
		setup func(e *env)
		run   func(e *env, t *testing.T) error
		want  domain.Code
		drawn bool
	}{
		{"signup of a taken name", overBudget, func(e *env, t *testing.T) error {
			_, err := commands.NewSignupHandler(e.store, e.hasher, e.budget, e.ids, e.clock).Handle(t.Context(),
				commands.Signup{Username: "carol.user", Password: "secret", ClientAddr: clientAddr})
			return err
		}, domain.CodeRateLimited, true},
		{"creation by a caller whose role may not", overBudget, func(e *env, t *testing.T) error {
			_, err := commands.NewCreateUserHandler(e.store, e.hasher, e.budget, e.ids, e.clock).Handle(t.Context(),
				commands.CreateUser{Actor: e.actor(t, idCarol), Username: "new.user", Password: "secret", Role: domain.RoleUser, ClientAddr: clientAddr})
			return err
		}, domain.CodeForbidden, false},
		{"creation of a taken name", overBudget, func(e *env, t *testing.T) error {
			_, err := commands.NewCreateUserHandler(e.store, e.hasher, e.budget, e.ids, e.clock).Handle(t.Context(),
				commands.CreateUser{Actor: e.actor(t, idAlice), Username: "dave.user", Password: "secret", Role: domain.RoleUser, ClientAddr: clientAddr})
			return err
		}, domain.CodeRateLimited, true},
		{"setting a password by a caller whose role may not", overBudget, func(e *env, t *testing.T) error {
			_, err := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock).Handle(t.Context(),
				commands.SetUserPassword{Actor: e.actor(t, idCarol), UserID: idDave, Password: "good-password", ClientAddr: clientAddr})
			return err
		}, domain.CodeForbidden, false},
		{"setting a missing user's password", overBudget, func(e *env, t *testing.T) error {
			_, err := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock).Handle(t.Context(),
				commands.SetUserPassword{Actor: e.actor(t, idAlice), UserID: idNoSuchID, Password: "good-password", ClientAddr: clientAddr})
			return err
		}, domain.CodeRateLimited, true},
		{"setting an unmanaged user's password", overBudget, func(e *env, t *testing.T) error {
			_, err := commands.NewSetUserPasswordHandler(e.store, e.hasher, e.budget, e.clock).Handle(t.Context(),
				commands.SetUserPassword{Actor: e.actor(t, idAlice), UserID: idBob, Password: "good-password", ClientAddr: clientAddr})
			return err
		}, domain.CodeRateLimited, true},
		{"login throttled for failures", func(e *env) { e.throttle.wait = time.Minute }, func(e *env, t *testing.T) error {
			_, err := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap).Handle(t.Context(),
				commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})
			return err
		}, domain.CodeRateLimited, false},
		{"own password change throttled for failures", func(e *env) { e.throttle.wait = time.Minute }, func(e *env, t *testing.T) error {
			_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(t.Context(),
				commands.ChangeOwnPassword{Actor: e.actor(t, idCarol), CurrentPassword: passwordOf("carol.user"), NewPassword: "brand-new-pw", ClientAddr: clientAddr})
			return err
		}, domain.CodeRateLimited, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(e)
			wantCode(t, tc.run(e, t), tc.want)
			if drawn := len(e.budget.draws()) > 0; drawn != tc.drawn {
				t.Errorf("budget drawn = %v, want %v", drawn, tc.drawn)
			}
			if e.hasher.hashCalls+e.hasher.verifyCalls != 0 {
				t.Errorf("hashed %d and verified %d times", e.hasher.hashCalls, e.hasher.verifyCalls)
			}
		})
	}
}

// The command line answers to no client address, so it has no budget to draw on.
func TestCreateSuperAdminNeedsNoBudget(t *testing.T) {
	e := newEnv(t)
	res, err := commands.NewCreateSuperAdminHandler(e.store, e.hasher, e.ids, e.clock).Handle(t.Context(),
		commands.CreateSuperAdmin{Username: "new.root", Password: "secret"})
	wantCode(t, err, "")
	if !res.Created {
		t.Error("not created")
	}
}
