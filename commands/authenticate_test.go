package commands_test

import (
	"errors"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

func TestAuthenticate(t *testing.T) {
	// Seeded sessions expire at t0+20m (absolute t0+11h); with the default policy a
	// request refreshes when less than 6m are left.
	seededExpiry := t0.Add(20 * time.Minute)
	tests := []struct {
		name string
		// setup returns the token the request carries.
		setup   func(e *env) string
		advance time.Duration
		want    domain.Code
		// On success:
		wantActor     domain.Actor
		wantRefreshed bool
		wantExpires   time.Time
		// wantGone names a session that must no longer be stored.
		wantGone string
	}{
		{
			name:      "fresh session",
			setup:     func(e *env) string { return e.tokens.tokenFor(idCarol + "-s1") },
			wantActor: seededActor(idCarol, idCarol+"-s1"), wantExpires: seededExpiry,
		},
		{
			name:      "the role is the stored user's",
			setup:     func(e *env) string { return e.tokens.tokenFor(idAlice + "-s2") },
			wantActor: seededActor(idAlice, idAlice+"-s2"), wantExpires: seededExpiry,
		},
		{
			name:      "super admin",
			setup:     func(e *env) string { return e.tokens.tokenFor(idRoot + "-s1") },
			wantActor: seededActor(idRoot, idRoot+"-s1"), wantExpires: seededExpiry,
		},
		{
			name:  "token the codec refuses",
			setup: func(e *env) string { return "not-a-token" },
			want:  domain.CodeUnauthenticated,
		},
		{
			name:  "empty token",
			setup: func(e *env) string { return "" },
			want:  domain.CodeUnauthenticated,
		},
		{
			name:  "valid token for a session that no longer exists",
			setup: func(e *env) string { return e.tokens.tokenFor("logged-out-session") },
			want:  domain.CodeUnauthenticated,
		},
		{
			name:    "expired at the exact boundary, and deleted",
			setup:   func(e *env) string { return e.tokens.tokenFor(idCarol + "-s1") },
			advance: 20 * time.Minute,
			want:    domain.CodeUnauthenticated, wantGone: idCarol + "-s1",
		},
		{
			name:    "expired long ago, and deleted",
			setup:   func(e *env) string { return e.tokens.tokenFor(idCarol + "-s2") },
			advance: 5 * time.Hour,
			want:    domain.CodeUnauthenticated, wantGone: idCarol + "-s2",
		},
		{
			name:          "one nanosecond before expiry still works, and is refreshed",
			setup:         func(e *env) string { return e.tokens.tokenFor(idCarol + "-s1") },
			advance:       20*time.Minute - time.Nanosecond,
			wantActor:     seededActor(idCarol, idCarol+"-s1"),
			wantRefreshed: true, wantExpires: t0.Add(50*time.Minute - time.Nanosecond),
		},
		{
			name: "inactive user",
			setup: func(e *env) string {
				e.store.putSession(domain.Session{ID: "erin-s", UserID: idErin, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), AbsoluteExpiresAt: t0.Add(time.Hour)})
				return e.tokens.tokenFor("erin-s")
			},
			want: domain.CodeUnauthenticated,
		},
		{
			name:          "below the refresh threshold the session is extended",
			setup:         func(e *env) string { return e.tokens.tokenFor(idDave + "-s1") },
			advance:       15 * time.Minute,
			wantActor:     seededActor(idDave, idDave+"-s1"),
			wantRefreshed: true, wantExpires: t0.Add(45 * time.Minute),
		},
		{
			name:        "exactly at the threshold it is not",
			setup:       func(e *env) string { return e.tokens.tokenFor(idDave + "-s1") },
			advance:     14 * time.Minute,
			wantActor:   seededActor(idDave, idDave+"-s1"),
			wantExpires: seededExpiry,
		},
		{
			name:        "above the threshold it is not",
			setup:       func(e *env) string { return e.tokens.tokenFor(idDave + "-s1") },
			advance:     10 * time.Minute,
			wantActor:   seededActor(idDave, idDave+"-s1"),
			wantExpires: seededExpiry,
		},
		{
			name: "extension stops at the absolute lifetime",
			setup: func(e *env) string {
				e.store.putSession(domain.Session{ID: "old", UserID: idDave, CreatedAt: t0.Add(-12 * time.Hour), ExpiresAt: t0.Add(4 * time.Minute), AbsoluteExpiresAt: t0.Add(10 * time.Minute)})
				return e.tokens.tokenFor("old")
			},
			wantActor:     seededActor(idDave, "old"),
			wantRefreshed: true, wantExpires: t0.Add(10 * time.Minute),
		},
		{
			name: "at the absolute lifetime there is nothing to extend",
			setup: func(e *env) string {
				e.store.putSession(domain.Session{ID: "old", UserID: idDave, CreatedAt: t0.Add(-12 * time.Hour), ExpiresAt: t0.Add(3 * time.Minute), AbsoluteExpiresAt: t0.Add(3 * time.Minute)})
				return e.tokens.tokenFor("old")
			},
			wantActor:   seededActor(idDave, "old"),
			wantExpires: t0.Add(3 * time.Minute),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			token := tc.setup(e)
			e.clock.Advance(tc.advance)
			now := e.clock.Now()
			h := commands.NewAuthenticateHandler(e.store, e.tokens, e.clock, e.policy)

			res, err := h.Handle(t.Context(), commands.Authenticate{Token: token})

			wantCode(t, err, tc.want)
			if tc.wantGone != "" {
				if _, ok := e.store.session(tc.wantGone); ok {
					t.Errorf("expired session %s is still stored", tc.wantGone)
				}
			}
			if tc.want != "" {
				if res != (commands.Authenticated{}) {
					t.Errorf("result on failure = %+v", res)
				}
				if len(e.tokens.all()) != 0 {
					t.Errorf("tokens issued on failure: %+v", e.tokens.all())
				}
				return
			}
			if res.Actor != tc.wantActor {
				t.Errorf("actor = %+v, want %+v", res.Actor, tc.wantActor)
			}
			if !res.ExpiresAt.Equal(tc.wantExpires) {
				t.Errorf("ExpiresAt = %v, want %v", res.ExpiresAt, tc.wantExpires)
			}
			stored, ok := e.store.session(tc.wantActor.SessionID)
			if !ok {
				t.Fatalf("session %s is gone", tc.wantActor.SessionID)
			}
			// The store keeps microseconds, as PostgreSQL does.
			if want := tc.wantExpires.Truncate(time.Microsecond); !stored.ExpiresAt.Equal(want) {
				t.Errorf("stored expiry %v, want %v", stored.ExpiresAt, want)
			}
			if stored.ExpiresAt.After(stored.AbsoluteExpiresAt) {
				t.Errorf("stored expiry %v is past the absolute %v", stored.ExpiresAt, stored.AbsoluteExpiresAt)
			}
			issued := e.tokens.all()
			if !tc.wantRefreshed {
				if res.RefreshedToken != "" || len(issued) != 0 {
					t.Errorf("refreshed token %q (issued %+v), want none", res.RefreshedToken, issued)
				}
				return
			}
			if len(issued) != 1 {
				t.Fatalf("tokens issued %+v, want one", issued)
			}
			tok := issued[0]
			if tok.sessionID != tc.wantActor.SessionID || !tok.expiresAt.Equal(tc.wantExpires) || !tok.issuedAt.Equal(now) {
				t.Errorf("token issued for %+v, want session %s, issued %v, expiring %v", tok, tc.wantActor.SessionID, now, tc.wantExpires)
			}
			if res.RefreshedToken != tok.token {
				t.Errorf("refreshed token %q, want the issued %q", res.RefreshedToken, tok.token)
			}
		})
	}
}

// A session in constant use slides forward, but not past its absolute lifetime.
func TestAuthenticateNeverPastTheAbsoluteLifetime(t *testing.T) {
	e := newEnv(t)
	login := commands.NewLoginHandler(e.store, e.hasher, e.tokens, e.throttle, e.budget, e.ids, e.clock, e.policy, e.sessionCap)
	auth := commands.NewAuthenticateHandler(e.store, e.tokens, e.clock, e.policy)
	lr, err := login.Handle(t.Context(), commands.Login{Username: "carol.user", Password: passwordOf("carol.user"), ClientAddr: clientAddr})
	wantCode(t, err, "")
	absolute := t0.Add(e.policy.MaxLifetime)

	token, refreshes := lr.Token, 0
	// Every 5 minutes: with a 30m TTL some request always finds less than 6m left.
	for {
		e.clock.Advance(5 * time.Minute)
		now := e.clock.Now()
		res, err := auth.Handle(t.Context(), commands.Authenticate{Token: token})
		if err != nil {
			wantCode(t, err, domain.CodeUnauthenticated)
			if now.Before(absolute) {
				t.Fatalf("session ended at %v, before its absolute lifetime %v", now, absolute)
			}
			break
		}
		if !now.Before(absolute) {
			t.Fatalf("session still works at %v, after its absolute lifetime %v", now, absolute)
		}
		if res.ExpiresAt.After(absolute) {
			t.Fatalf("session extended to %v, past %v", res.ExpiresAt, absolute)
		}
		if res.RefreshedToken != "" {
			token = res.RefreshedToken
			refreshes++
		}
	}
	if refreshes == 0 {
		t.Error("a session in constant use was never refreshed")
	}
}

// The role is read from the store on every request: a grant acts on the next one.
func TestAuthenticateReadsTheRoleEveryTime(t *testing.T) {
	e := newEnv(t)
	auth := commands.NewAuthenticateHandler(e.store, e.tokens, e.clock, e.policy)
	token := e.tokens.tokenFor(idCarol + "-s1")

	res, err := auth.Handle(t.Context(), commands.Authenticate{Token: token})
	wantCode(t, err, "")
	if res.Actor.Role != domain.RoleUser {
		t.Fatalf("role %q before the grant, want user", res.Actor.Role)
	}

	wantCode(t, grantAdmin(idRoot, idCarol)(t, e), "")

	res, err = auth.Handle(t.Context(), commands.Authenticate{Token: token})
	wantCode(t, err, "")
	if res.Actor.Role != domain.RoleAdmin {
		t.Fatalf("role %q after the grant, want admin", res.Actor.Role)
	}

	// Inactivation ends the session at once.
	wantCode(t, inactivate(idRoot, idCarol)(t, e), "")
	_, err = auth.Handle(t.Context(), commands.Authenticate{Token: token})
	wantCode(t, err, domain.CodeUnauthenticated)
}

func TestAuthenticateStoreFailures(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name    string
		fail    string
		advance time.Duration
		tokens  bool
	}{
		{name: "session lookup", fail: "sessions.GetWithUser"},
		{name: "deleting an expired session", fail: "sessions.DeleteIfExpired", advance: time.Hour},
		{name: "extending the session", fail: "sessions.Extend", advance: 15 * time.Minute},
		{name: "signing the refreshed token", advance: 15 * time.Minute, tokens: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.fail != "" {
				e.store.fail[tc.fail] = boom
			}
			token := e.tokens.tokenFor(idCarol + "-s1")
			if tc.tokens {
				e.tokens.issueErr = boom
			}
			e.clock.Advance(tc.advance)
			h := commands.NewAuthenticateHandler(e.store, e.tokens, e.clock, e.policy)
			res, err := h.Handle(t.Context(), commands.Authenticate{Token: token})
			if !errors.Is(err, boom) {
				t.Fatalf("got %v, want the store's error (not a 401 that would log the user out)", err)
			}
			if res.Actor != (domain.Actor{}) {
				t.Errorf("actor %+v returned with an error", res.Actor)
			}
		})
	}
}
