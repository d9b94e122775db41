package commands_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestChangeOwnPassword(t *testing.T) {
	tests := []struct {
		name       string
		caller     string
		current    string // "" means the caller's real password
		new        string
		setup      func(e *env)
		want       domain.Code
		wantFields []string
		// wantVerify: the current password was checked against the stored hash.
		wantVerify bool
		wantHash   bool
	}{
		{name: "user", caller: idCarol, new: "brand-new-pw", wantVerify: true, wantHash: true},
		{name: "admin", caller: idAlice, new: "brand-new-pw", wantVerify: true, wantHash: true},
		{name: "super admin", caller: idRoot, new: "brand-new-pw", wantVerify: true, wantHash: true},
		{name: "six characters, all emoji", caller: idCarol, new: "🔒🔒🔒🔒🔒🔒", wantVerify: true, wantHash: true},

		// The rules of both passwords first.
		{name: "short new password", caller: idCarol, new: "12345", want: domain.CodeValidationFailed, wantFields: []string{"new_password"}},
		{name: "short current password", caller: idCarol, current: "12345", new: "brand-new-pw", want: domain.CodeValidationFailed, wantFields: []string{"current_password"}},
		{name: "both short", caller: idCarol, current: "abc", new: "", want: domain.CodeValidationFailed, wantFields: []string{"current_password", "new_password"}},
		{name: "both short and equal: the rules are reported, not the equality", caller: idCarol, current: "abc", new: "abc", want: domain.CodeValidationFailed, wantFields: []string{"current_password", "new_password"}},
		// Then new == current.
		{name: "new equals current", caller: idCarol, new: passwordOf("carol.user"), want: domain.CodeValidationFailed, wantFields: []string{"new_password"}},
		{name: "new equals a wrong current: still validation, before the password check", caller: idCarol, current: "not-my-password", new: "not-my-password", want: domain.CodeValidationFailed, wantFields: []string{"new_password"}},
		// Then the current password.
		{name: "wrong current password", caller: idCarol, current: "not-my-password", new: "brand-new-pw", want: domain.CodeInvalidCurrentPassword, wantVerify: true},
		{name: "current password in another case", caller: idCarol, current: "CAROL.USER-PW", new: "brand-new-pw", want: domain.CodeInvalidCurrentPassword, wantVerify: true},

		{
			name: "hashing the new password fails", caller: idCarol, new: "brand-new-pw",
			setup: func(e *env) { e.hasher.hashErr = domain.Unavailable("busy", 0) },
			want:  domain.CodeUnavailable, wantVerify: true, wantHash: true,
		},
		{
			name: "checking the current password fails", caller: idCarol, new: "brand-new-pw",
			setup: func(e *env) { e.hasher.verifyErr = domain.ErrUnavailable },
			want:  domain.CodeUnavailable, wantVerify: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			actor := e.actor(t, tc.caller)
			old := e.store.user(t, tc.caller)
			current := tc.current
			if current == "" {
				current = passwordOf(old.Username)
			}
			h := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock)

			_, err := h.Handle(t.Context(), commands.ChangeOwnPassword{Actor: actor, CurrentPassword: current, NewPassword: tc.new})

			wantCode(t, err, tc.want)
			if !slices.Equal(fieldsOf(err), tc.wantFields) {
				t.Errorf("fields at fault = %v, want %v", fieldsOf(err), tc.wantFields)
			}
			if got := e.hasher.verifyCalls > 0; got != tc.wantVerify {
				t.Errorf("verified = %v, want %v", got, tc.wantVerify)
			}
			if tc.wantVerify && !slices.Equal(e.hasher.verifiedHashes, []string{old.PasswordHash}) {
				t.Errorf("verified against %q, want the stored hash %q", e.hasher.verifiedHashes, old.PasswordHash)
			}
			if got := e.hasher.hashCalls > 0; got != tc.wantHash {
				t.Errorf("hashed = %v, want %v", got, tc.wantHash)
			}
			if tc.want != "" {
				e.assertEvents(t)
				e.assertNoUserAdded(t)
				e.assertOtherSessionsIntact(t, "")
				return
			}
			got := e.store.user(t, tc.caller)
			want := old
			want.PasswordHash = hashOf(tc.new)
			want.PasswordChangedAt = t0
			want.UpdatedAt = t0
			want.Version = seededVersion + 1
			if got != want {
				t.Errorf("stored %+v, want %+v", got, want)
			}
			e.assertEvents(t, domain.Event{UserID: tc.caller, Sequence: want.Version, ActorID: tc.caller, OccurredAt: t0,
				Data: domain.UserPasswordChanged{By: domain.ChangedBySelf}})
			// This session stays; the caller's others end; nobody else's do.
			e.assertSessions(t, tc.caller, actor.SessionID)
			e.assertOtherSessionsIntact(t, tc.caller)
		})
	}
}

func TestChangeOwnPasswordThenLogin(t *testing.T) {
	e := newEnv(t)
	_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(t.Context(), commands.ChangeOwnPassword{
		Actor: e.actor(t, idDave), CurrentPassword: passwordOf("dave.user"), NewPassword: "a much longer passphrase",
	})
	wantCode(t, err, "")
	login := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)
	_, err = login.Handle(t.Context(), commands.Login{Username: "dave.user", Password: passwordOf("dave.user")})
	wantCode(t, err, domain.CodeInvalidCredentials)
	_, err = login.Handle(t.Context(), commands.Login{Username: "dave.user", Password: "a much longer passphrase"})
	wantCode(t, err, "")
}

// TestChangeOwnPasswordLosesToAConcurrentChange: when another session of the user
// (or an admin) changes the password while this request checks the current one, the
// current password it proved is stale: 403, and the newer password and sessions stay.
func TestChangeOwnPasswordLosesToAConcurrentChange(t *testing.T) {
	e := newEnv(t)
	e.hasher.beforeHash = func() {
		u := e.store.user(t, idDave)
		u.PasswordHash, u.PasswordChangedAt = hashOf("changed from the other session"), t0
		e.store.putUser(u)
	}
	_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(t.Context(), commands.ChangeOwnPassword{
		Actor: e.actor(t, idDave), CurrentPassword: passwordOf("dave.user"), NewPassword: "a much longer passphrase",
	})
	wantCode(t, err, domain.CodeInvalidCurrentPassword)
	if got := e.store.user(t, idDave).PasswordHash; got != hashOf("changed from the other session") {
		t.Errorf("stored hash %q, want the concurrent change's", got)
	}
	e.assertOtherSessionsIntact(t, "")
}

// TestChangeOwnPasswordIsNotRefusedByAConcurrentRenewal: a login renewing the hash
// of the same password meanwhile is no change of password.
func TestChangeOwnPasswordIsNotRefusedByAConcurrentRenewal(t *testing.T) {
	e := newEnv(t)
	e.hasher.beforeHash = func() {
		u := e.store.user(t, idDave)
		u.PasswordHash = "h:renewed by a login" // a renewal moves nothing else
		e.store.putUser(u)
	}
	_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(t.Context(), commands.ChangeOwnPassword{
		Actor: e.actor(t, idDave), CurrentPassword: passwordOf("dave.user"), NewPassword: "a much longer passphrase",
	})
	wantCode(t, err, "")
	if got := e.store.user(t, idDave).PasswordHash; got != hashOf("a much longer passphrase") {
		t.Errorf("stored hash %q, want the new password's", got)
	}
}

func TestChangeOwnPasswordStoreFailure(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name  string
		setup func(e *env)
	}{
		{"loading the user", func(e *env) { e.store.fail["users.Get"] = boom }},
		{"loading the user again in the transaction", func(e *env) {
			e.hasher.beforeHash = func() { e.store.fail["users.Get"] = boom }
		}},
		{"saving the user", func(e *env) { e.store.fail["users.Update"] = boom }},
		{"ending the other sessions", func(e *env) { e.store.fail["sessions.DeleteByUser"] = boom }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(e)
			_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(t.Context(), commands.ChangeOwnPassword{
				Actor: e.actor(t, idCarol), CurrentPassword: passwordOf("carol.user"), NewPassword: "brand-new-pw",
			})
			if !errors.Is(err, boom) {
				t.Fatalf("got %v, want the store's error", err)
			}
			// Written whole or not at all.
			e.assertNoUserAdded(t)
			e.assertOtherSessionsIntact(t, "")
		})
	}
}

// TestChangeOwnPasswordCountsWrongCurrentPasswords: the current password is the
// account's password, so guessing it counts as failed logins do, against the
// caller's username and address; a right one, or a check that could not be made,
// counts for nothing.
func TestChangeOwnPasswordCountsWrongCurrentPasswords(t *testing.T) {
	boom := errors.New("connection reset")
	for _, tc := range []struct {
		name       string
		current    string
		setup      func(e *env, cancel context.CancelFunc)
		want       domain.Code
		wantErr    error // instead of want, for errors that are not the domain's
		wantFailed bool
	}{
		{name: "right", current: passwordOf("carol.user")},
		{name: "wrong", current: "not-my-password", want: domain.CodeInvalidCurrentPassword, wantFailed: true},
		{
			name: "check unavailable", current: passwordOf("carol.user"),
			setup: func(e *env, _ context.CancelFunc) { e.hasher.verifyErr = domain.ErrUnavailable },
			want:  domain.CodeUnavailable,
		},
		{
			name: "user not loaded", current: passwordOf("carol.user"),
			setup:   func(e *env, _ context.CancelFunc) { e.store.fail["users.Get"] = boom },
			wantErr: boom,
		},
		{
			// The caller gave up while bcrypt ran: the guess was made all the same.
			name: "abandoned before the proof", current: passwordOf("carol.user"),
			setup: func(e *env, cancel context.CancelFunc) {
				e.hasher.afterVerify = cancel
				e.hasher.verifyErr = context.Canceled
			},
			wantErr: context.Canceled, wantFailed: true,
		},
		{
			name: "abandoned after the proof", current: passwordOf("carol.user"),
			setup:   func(e *env, cancel context.CancelFunc) { e.hasher.beforeHash = cancel },
			wantErr: context.Canceled,
		},
		{
			// Another change committed while this one checked the current password:
			// the caller proved the password it had, which is no guess.
			name: "lost to a concurrent change", current: passwordOf("carol.user"),
			setup: func(e *env, _ context.CancelFunc) {
				e.hasher.beforeHash = func() {
					u := e.store.user(t, idCarol)
					u.PasswordHash, u.PasswordChangedAt = hashOf("changed elsewhere"), t0
					e.store.putUser(u)
				}
			},
			want: domain.CodeInvalidCurrentPassword,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.setup != nil {
				tc.setup(e, cancel)
			}
			h := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock)

			_, err := h.Handle(ctx, commands.ChangeOwnPassword{
				Actor: e.actor(t, idCarol), CurrentPassword: tc.current, NewPassword: "brand-new-pw", ClientAddr: clientAddr,
			})

			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
			} else {
				wantCode(t, err, tc.want)
			}
			carol := attempt{"carol.user", clientAddr}
			if want := []attempt{carol}; !slices.Equal(e.throttle.asked, want) {
				t.Errorf("throttle asked for %v, want %v", e.throttle.asked, want)
			}
			var wantFailed []attempt
			if tc.wantFailed {
				wantFailed = append(wantFailed, carol)
			}
			if !slices.Equal(e.throttle.failed, wantFailed) {
				t.Errorf("failures counted %v, want %v", e.throttle.failed, wantFailed)
			}
			if e.throttle.open != 0 || e.throttle.settledTwice != 0 {
				t.Errorf("throttle claims left open: %d, settled twice: %d", e.throttle.open, e.throttle.settledTwice)
			}
		})
	}
}

// TestChangeOwnPasswordThrottled: once the account's failures reach the limit, even
// the right current password is refused until the throttle's wait is over, before
// any hashing, and nothing changes.
func TestChangeOwnPasswordThrottled(t *testing.T) {
	e := newEnv(t)
	e.throttle.wait = 12 * time.Second
	h := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock)

	_, err := h.Handle(t.Context(), commands.ChangeOwnPassword{
		Actor: e.actor(t, idCarol), CurrentPassword: passwordOf("carol.user"), NewPassword: "brand-new-pw", ClientAddr: clientAddr,
	})

	wantCode(t, err, domain.CodeRateLimited)
	if de, _ := domain.AsError(err); de.RetryAfter != 12*time.Second {
		t.Errorf("RetryAfter = %v, want the throttle's wait 12s", de.RetryAfter)
	}
	if e.hasher.verifyCalls+e.hasher.hashCalls != 0 {
		t.Errorf("verified %d and hashed %d times while throttled", e.hasher.verifyCalls, e.hasher.hashCalls)
	}
	e.assertUserUnchanged(t, idCarol)
	e.assertOtherSessionsIntact(t, "")
}

// TestChangeOwnPasswordGivesUpWithItsContextWhileWaitingForTheThrottle: as a login
// does, a caller that stops waiting for attempts in progress gets its context's
// error, and nothing is checked.
func TestChangeOwnPasswordGivesUpWithItsContextWhileWaitingForTheThrottle(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := commands.NewChangeOwnPasswordHandler(e.store, e.hasher, e.throttle, e.budget, e.clock).Handle(ctx, commands.ChangeOwnPassword{
		Actor: e.actor(t, idCarol), CurrentPassword: passwordOf("carol.user"), NewPassword: "brand-new-pw", ClientAddr: clientAddr,
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context's error", err)
	}
	if e.hasher.verifyCalls != 0 || len(e.budget.draws()) != 0 {
		t.Errorf("verified %d times, budget drawn %v", e.hasher.verifyCalls, e.budget.draws())
	}
}
