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

const clientAddr = "192.0.2.7"

func TestLogin(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name     string
		username string
		password string
		setup    func(e *env)
		want     domain.Code
		// wantErr, when set, is the exact error expected instead of a domain code.
		wantErr error
		// wantAsked: the throttle was consulted.
		wantAsked bool
		// wantVerified lists the hashes Verify was given, in order.
		wantVerified []string
		// wantFailed: the attempt counts as a failed login.
		wantFailed  bool
		wantSession string // user id that gets a session; "" for none
	}{
		{
			name: "user logs in", username: "carol.user", password: passwordOf("carol.user"),
			wantAsked: true, wantVerified: []string{hashOf(passwordOf("carol.user"))}, wantSession: idCarol,
		},
		{
			name: "admin logs in", username: "alice.admin", password: passwordOf("alice.admin"),
			wantAsked: true, wantVerified: []string{hashOf(passwordOf("alice.admin"))}, wantSession: idAlice,
		},
		{
			name: "super admin logs in", username: "root.admin", password: passwordOf("root.admin"),
			wantAsked: true, wantVerified: []string{hashOf(passwordOf("root.admin"))}, wantSession: idRoot,
		},

		// Check 5: the rules, before the throttle and before any lookup.
		{
			name: "malformed username", username: "carol..user", password: "whatever",
			setup: func(e *env) { e.throttle.wait = time.Minute },
			want:  domain.CodeValidationFailed,
		},
		{
			name: "short password", username: "carol.user", password: "12345",
			setup: func(e *env) { e.throttle.wait = time.Minute },
			want:  domain.CodeValidationFailed,
		},

		// Then the throttle, before any hashing.
		{
			name: "throttled with the right password", username: "carol.user", password: passwordOf("carol.user"),
			setup: func(e *env) { e.throttle.wait = 42 * time.Second },
			want:  domain.CodeRateLimited, wantAsked: true,
		},
		{
			name: "throttled unknown user", username: "nobody.here", password: "secret",
			setup: func(e *env) { e.throttle.wait = time.Second },
			want:  domain.CodeRateLimited, wantAsked: true,
		},

		// Then the credentials.
		{
			name: "unknown user costs one comparison with an empty hash", username: "nobody.here", password: "secret",
			want: domain.CodeInvalidCredentials, wantAsked: true, wantVerified: []string{""}, wantFailed: true,
		},
		{
			name: "username is case-sensitive", username: "Carol.User", password: passwordOf("carol.user"),
			want: domain.CodeInvalidCredentials, wantAsked: true, wantVerified: []string{""}, wantFailed: true,
		},
		{
			name: "wrong password", username: "carol.user", password: "wrong-password",
			want: domain.CodeInvalidCredentials, wantAsked: true, wantVerified: []string{hashOf(passwordOf("carol.user"))}, wantFailed: true,
		},
		{
			name: "inactive with a wrong password is just invalid credentials", username: "erin.gone", password: "wrong-password",
			want: domain.CodeInvalidCredentials, wantAsked: true, wantVerified: []string{hashOf(passwordOf("erin.gone"))}, wantFailed: true,
		},
		{
			name: "inactive with the right password", username: "erin.gone", password: passwordOf("erin.gone"),
			want: domain.CodeAccountInactive, wantAsked: true, wantVerified: []string{hashOf(passwordOf("erin.gone"))}, wantFailed: true,
		},

		// Infrastructure failures are not failed logins and open nothing.
		{
			name: "hashing saturated", username: "carol.user", password: passwordOf("carol.user"),
			setup: func(e *env) { e.hasher.verifyErr = domain.Unavailable("busy", time.Second) },
			want:  domain.CodeUnavailable, wantAsked: true, wantVerified: []string{hashOf(passwordOf("carol.user"))},
		},
		{
			name: "user lookup fails", username: "carol.user", password: passwordOf("carol.user"),
			setup:   func(e *env) { e.store.fail["users.GetByUsername"] = boom },
			wantErr: boom, wantAsked: true,
		},
		{
			name: "no randomness for the session id", username: "carol.user", password: passwordOf("carol.user"),
			setup:   func(e *env) { e.ids.sessionIDErr = boom },
			wantErr: boom, wantAsked: true, wantVerified: []string{hashOf(passwordOf("carol.user"))},
		},
		{
			name: "session row not written", username: "carol.user", password: passwordOf("carol.user"),
			setup:   func(e *env) { e.store.fail["sessions.Add"] = boom },
			wantErr: boom, wantAsked: true, wantVerified: []string{hashOf(passwordOf("carol.user"))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			before := e.store.sessionIDs()
			h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

			res, err := h.Handle(t.Context(), commands.Login{Username: tc.username, Password: tc.password, ClientAddr: clientAddr})

			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
			} else {
				wantCode(t, err, tc.want)
			}
			if tc.want == domain.CodeRateLimited {
				if de, _ := domain.AsError(err); de.RetryAfter <= 0 || de.RetryAfter != e.throttle.wait {
					t.Errorf("RetryAfter = %v, want the throttle's wait %v", de.RetryAfter, e.throttle.wait)
				}
			}
			if tc.want == domain.CodeValidationFailed && len(fieldsOf(err)) == 0 {
				t.Error("validation_failed names no field")
			}

			var wantAsked, wantFailed []attempt
			if tc.wantAsked {
				wantAsked = []attempt{{tc.username, clientAddr}}
			}
			if tc.wantFailed {
				wantFailed = []attempt{{tc.username, clientAddr}}
			}
			if got := e.throttle.asked; !slices.Equal(got, wantAsked) {
				t.Errorf("throttle asked for %v, want %v", got, wantAsked)
			}
			if got := e.throttle.failed; !slices.Equal(got, wantFailed) {
				t.Errorf("failures counted %v, want %v", got, wantFailed)
			}
			if e.throttle.open != 0 || e.throttle.settledTwice != 0 {
				t.Errorf("throttle claims left open: %d, settled twice: %d", e.throttle.open, e.throttle.settledTwice)
			}
			if e.hasher.hashCalls != 0 {
				t.Errorf("login hashed %d times", e.hasher.hashCalls)
			}
			if !slices.Equal(e.hasher.verifiedHashes, tc.wantVerified) {
				t.Errorf("Verify given hashes %q, want %q", e.hasher.verifiedHashes, tc.wantVerified)
			}

			if tc.wantSession == "" {
				if after := e.store.sessionIDs(); !slices.Equal(after, before) {
					t.Errorf("sessions went from %v to %v", before, after)
				}
				if len(e.tokens.all()) != 0 {
					t.Errorf("tokens issued on failure: %+v", e.tokens.all())
				}
				if res != (commands.LoginResult{}) {
					t.Errorf("result on failure = %+v", res)
				}
				return
			}
			assertLoginSession(t, e, before, tc.wantSession, res, e.policy)
		})
	}
}

// assertLoginSession checks that exactly one session was added, for userID, with the
// policy's expiry, and that the token returned is the one issued for it.
func assertLoginSession(t *testing.T, e *env, before []string, userID string, res commands.LoginResult, p domain.SessionPolicy) {
	t.Helper()
	var added []string
	for _, id := range e.store.sessionIDs() {
		if !slices.Contains(before, id) {
			added = append(added, id)
		}
	}
	if len(added) != 1 {
		t.Fatalf("sessions added: %v, want exactly one", added)
	}
	s, _ := e.store.session(added[0])
	want := domain.Session{
		// The session remembers the user's version it began at.
		ID: added[0], UserID: userID, UserVersion: e.store.user(t, userID).Version, CreatedAt: t0,
		ExpiresAt: t0.Add(min(p.TTL, p.MaxLifetime)), AbsoluteExpiresAt: t0.Add(p.MaxLifetime),
	}
	if s != want {
		t.Errorf("session row %+v, want %+v", s, want)
	}
	issued := e.tokens.all()
	if len(issued) != 1 {
		t.Fatalf("tokens issued: %+v, want one", issued)
	}
	tok := issued[0]
	if tok.sessionID != s.ID || !tok.expiresAt.Equal(s.ExpiresAt) || !tok.issuedAt.Equal(t0) {
		t.Errorf("token issued for %+v, want session %s expiring %v issued %v", tok, s.ID, s.ExpiresAt, t0)
	}
	if res.Token != tok.token {
		t.Errorf("returned token %q, want the issued %q", res.Token, tok.token)
	}
	if !res.ExpiresAt.Equal(s.ExpiresAt) {
		t.Errorf("returned expiry %v, want %v", res.ExpiresAt, s.ExpiresAt)
	}
	for _, id := range before {
		if _, ok := e.store.session(id); !ok {
			t.Errorf("login removed session %s", id)
		}
	}
}

func TestLoginCapsTheFirstExpiryAtTheAbsoluteLifetime(t *testing.T) {
	e := newEnv(t)
	e.policy = domain.SessionPolicy{TTL: time.Hour, RefreshThreshold: 0.2, MaxLifetime: 15 * time.Minute}
	before := e.store.sessionIDs()
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)
	res, err := h.Handle(t.Context(), commands.Login{Username: "dave.user", Password: passwordOf("dave.user"), ClientAddr: clientAddr})
	wantCode(t, err, "")
	assertLoginSession(t, e, before, idDave, res, e.policy)
	if !res.ExpiresAt.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("expires %v, want the absolute limit %v", res.ExpiresAt, t0.Add(15*time.Minute))
	}
}

func TestLoginTokenFailure(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("signing key unavailable")
	e.tokens.issueErr = boom
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)
	res, err := h.Handle(t.Context(), commands.Login{Username: "dave.user", Password: passwordOf("dave.user"), ClientAddr: clientAddr})
	if !errors.Is(err, boom) || res.Token != "" {
		t.Fatalf("got %+v, %v; want no token and the signing error", res, err)
	}
}

// TestLoginLosesToAConcurrentChange: a reset, inactivation or deletion that commits
// while the password is being checked ends every session of the user; the login in
// flight must not open one after it with the old password.
func TestLoginLosesToAConcurrentChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *env, u *domain.UserRecord) bool // false deletes the user
		want   domain.Code
	}{
		{"password reset", func(_ *env, u *domain.UserRecord) bool {
			u.PasswordHash, u.PasswordChangedAt = hashOf("reset-by-admin"), t0
			return true
		}, domain.CodeInvalidCredentials},
		{"inactivated", func(_ *env, u *domain.UserRecord) bool { u.IsActive = false; return true }, domain.CodeAccountInactive},
		{"deleted", func(*env, *domain.UserRecord) bool { return false }, domain.CodeInvalidCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.hasher.afterVerify = func() {
				u := e.store.user(t, idCarol)
				if tc.change(e, &u) {
					e.store.putUser(u)
				} else {
					e.store.deleteUser(idCarol)
				}
			}
			before := e.store.sessionIDs()
			h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

			_, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

			wantCode(t, err, tc.want)
			for _, id := range e.store.sessionIDs() {
				if !slices.Contains(before, id) {
					t.Errorf("session %s opened", id)
				}
			}
			if len(e.tokens.all()) != 0 {
				t.Errorf("token issued: %+v", e.tokens.all())
			}
			if want := []attempt{{"carol.user", clientAddr}}; !slices.Equal(e.throttle.failed, want) {
				t.Errorf("failures counted %v, want %v", e.throttle.failed, want)
			}
		})
	}
}

// TestLoginRenewsAnOutdatedHash: after bcrypt_cost changes, each user's stored hash
// is renewed at their next login, in the login's transaction. The password did not
// change, so updated_at stays and no other session ends.
func TestLoginRenewsAnOutdatedHash(t *testing.T) {
	e := newEnv(t)
	u := e.store.user(t, idCarol)
	u.PasswordHash = oldHashPrefix + hashOf(passwordOf("carol.user"))
	e.store.putUser(u)
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	_, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	wantCode(t, err, "")
	want := seededUser(t, idCarol)
	if got := e.store.user(t, idCarol); got != want {
		t.Errorf("stored %+v, want the seeded user with a fresh hash %+v", got, want)
	}
	e.assertSessions(t, idCarol, idCarol+"-s1", idCarol+"-s2", "sess-0001")
	e.assertOtherSessionsIntact(t, idCarol)

	// Renewed once: the next login finds nothing to renew.
	_, err = h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})
	wantCode(t, err, "")
	if e.hasher.hashCalls != 1 {
		t.Errorf("hashed %d times over two logins, want 1", e.hasher.hashCalls)
	}
}

// TestLoginSucceedsWhenTheRenewalCannotBeHashed: renewing is best effort.
func TestLoginSucceedsWhenTheRenewalCannotBeHashed(t *testing.T) {
	e := newEnv(t)
	u := e.store.user(t, idCarol)
	u.PasswordHash = oldHashPrefix + hashOf(passwordOf("carol.user"))
	e.store.putUser(u)
	e.hasher.hashErr = domain.Unavailable("Password hashing is saturated.", time.Second)
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	res, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	wantCode(t, err, "")
	if res.Token == "" {
		t.Error("no token")
	}
	if got := e.store.user(t, idCarol); got != u {
		t.Errorf("stored %+v, want it untouched %+v", got, u)
	}
}

// TestLoginIsNotRefusedByAConcurrentRenewal: another login renewing the stored hash
// while this one checks the password changes no password; both get in.
func TestLoginIsNotRefusedByAConcurrentRenewal(t *testing.T) {
	e := newEnv(t)
	e.hasher.afterVerify = func() {
		u := e.store.user(t, idCarol)
		u.PasswordHash = "h:renewed by another login" // a renewal moves nothing else
		e.store.putUser(u)
	}
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	_, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	wantCode(t, err, "")
	e.assertSessions(t, idCarol, idCarol+"-s1", idCarol+"-s2", "sess-0001")
	if len(e.throttle.failed) != 0 {
		t.Errorf("failures counted: %v", e.throttle.failed)
	}
}

// TestLoginAbandonedBeforeTheProofCounts: a caller that stops waiting (a client
// hanging up, a request out of time) while its password is being checked has its
// attempt counted as a failure: the hashing is spent, and hanging up must not buy
// uncounted guesses. Once the password is proven right, abandoning does not count.
func TestLoginAbandonedBeforeTheProofCounts(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		cutShort       bool // the hasher returns the context's error mid-hash
		wantFailed     bool
	}{
		{"wrong password", "wrong password", false, true},
		{"right password", passwordOf("carol.user"), false, false},
		{"check cut short", passwordOf("carol.user"), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx, cancel := context.WithCancel(t.Context())
			e.hasher.afterVerify = cancel // the caller gave up while bcrypt ran
			if tc.cutShort {
				e.hasher.verifyErr = context.Canceled
			}
			h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

			_, _ = h.Handle(ctx, commands.Login{Username: "carol.user", Password: tc.password, ClientAddr: clientAddr})

			var want []attempt
			if tc.wantFailed {
				want = []attempt{{"carol.user", clientAddr}}
			}
			if !slices.Equal(e.throttle.failed, want) || e.throttle.open != 0 {
				t.Errorf("failures counted %v, claims open %d; want %v", e.throttle.failed, e.throttle.open, want)
			}
		})
	}
}

// TestLoginGivesUpWithItsContextWhileWaitingForTheThrottle: the throttle may make an
// attempt wait for others in progress; a caller that stops waiting gets its
// context's error and nothing is looked up.
func TestLoginGivesUpWithItsContextWhileWaitingForTheThrottle(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	_, err := h.Handle(ctx, commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the context's error", err)
	}
	if e.hasher.verifyCalls != 0 {
		t.Error("the password was checked")
	}
}

// TestRenewalCannotMakeTheLoginMissItsDeadline: a renewal that would take all the
// time the login has left is given up half way, and the login gets in on time.
func TestRenewalCannotMakeTheLoginMissItsDeadline(t *testing.T) {
	e := newEnv(t)
	u := e.store.user(t, idCarol)
	u.PasswordHash = oldHashPrefix + hashOf(passwordOf("carol.user"))
	e.store.putUser(u)
	e.hasher.hashBlocks = true
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	res, err := h.Handle(ctx, commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	wantCode(t, err, "")
	if res.Token == "" {
		t.Error("no token")
	}
	if got := e.store.user(t, idCarol); got != u {
		t.Errorf("stored %+v, want it untouched %+v", got, u)
	}
}

// TestLoginCapsSessionsPerUser: a login beyond the cap ends the user's oldest
// sessions in its own transaction; the new one always stays.
func TestLoginCapsSessionsPerUser(t *testing.T) {
	for _, tc := range []struct {
		name string
		cap  commands.SessionCap
		want []string // carol's sessions after the login; sess-0001 is the new one
	}{
		{"no cap", 0, []string{idCarol + "-s1", idCarol + "-s2", "sess-0001"}},
		{"room left", 3, []string{idCarol + "-s1", idCarol + "-s2", "sess-0001"}},
		{"the oldest goes", 2, []string{idCarol + "-s2", "sess-0001"}},
		{"a cap of one keeps only the new session", 1, []string{"sess-0001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			// s1 begun before s2.
			s1, _ := e.store.session(idCarol + "-s1")
			s1.CreatedAt = s1.CreatedAt.Add(-time.Minute)
			e.store.putSession(s1)
			e.sessionCap = tc.cap
			h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

			_, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

			wantCode(t, err, "")
			e.assertSessions(t, idCarol, tc.want...)
			e.assertOtherSessionsIntact(t, idCarol)
		})
	}
}

// An expired session is no session to count: it goes first, and leaves room for
// the live ones.
func TestLoginSessionCapCountsLiveSessionsOnly(t *testing.T) {
	e := newEnv(t)
	s2, _ := e.store.session(idCarol + "-s2")
	s2.CreatedAt, s2.ExpiresAt = t0.Add(-time.Second), t0 // newest, but expired now
	e.store.putSession(s2)
	e.sessionCap = 2
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	_, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	wantCode(t, err, "")
	e.assertSessions(t, idCarol, idCarol+"-s1", "sess-0001")
}

// The cap is enforced in the login's transaction: when it cannot be, the login
// fails whole, its session with it.
func TestLoginFailsWhenTheSessionCapCannotBeEnforced(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("connection reset")
	e.store.fail["sessions.DeleteOldest"] = boom
	e.sessionCap = 1
	h := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)

	res, err := h.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})

	if !errors.Is(err, boom) || res.Token != "" {
		t.Fatalf("got %+v, %v; want no token and the store's error", res, err)
	}
	e.assertSessions(t, idCarol, idCarol+"-s1", idCarol+"-s2")
	if len(e.tokens.all()) != 0 {
		t.Errorf("token issued: %+v", e.tokens.all())
	}
}
