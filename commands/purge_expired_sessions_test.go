package commands_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// TestPurgeExpiredSessions: every session whose expiry has come is deleted, across
// more than one batch, and no session that still works is touched.
func TestPurgeExpiredSessions(t *testing.T) {
	e := newEnv(t)
	const expired = 2345 // more than two batches
	for i := range expired {
		e.store.putSession(domain.Session{
			ID: fmt.Sprintf("old-%04d", i), UserID: idDave, CreatedAt: t0.Add(-time.Hour),
			// The last one expires exactly now: expiry is exclusive.
			ExpiresAt: t0.Add(-time.Duration(expired-1-i) * time.Second), AbsoluteExpiresAt: t0.Add(time.Hour),
		})
	}
	e.store.putSession(domain.Session{
		ID: "just-alive", UserID: idDave, CreatedAt: t0.Add(-time.Hour),
		ExpiresAt: t0.Add(time.Microsecond), AbsoluteExpiresAt: t0.Add(time.Hour),
	})

	got, err := commands.NewPurgeExpiredSessionsHandler(e.store, e.clock).Handle(t.Context(), commands.PurgeExpiredSessions{})
	wantCode(t, err, "")
	if got.Count != expired {
		t.Errorf("purged %d sessions, want %d", got.Count, expired)
	}
	e.assertSessions(t, idDave, idDave+"-s1", idDave+"-s2", "just-alive")
	e.assertOtherSessionsIntact(t, idDave)

	// Nothing left to purge: zero, not an error.
	got, err = commands.NewPurgeExpiredSessionsHandler(e.store, e.clock).Handle(t.Context(), commands.PurgeExpiredSessions{})
	wantCode(t, err, "")
	if got.Count != 0 {
		t.Errorf("second purge deleted %d sessions, want 0", got.Count)
	}
}

// TestPurgeExpiredSessionsAfterIdleTimeout: once the idle timeout of every seeded
// session has passed, the purge leaves no session at all.
func TestPurgeExpiredSessionsAfterIdleTimeout(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(20 * time.Minute) // the seeded sessions' expiry
	got, err := commands.NewPurgeExpiredSessionsHandler(e.store, e.clock).Handle(t.Context(), commands.PurgeExpiredSessions{})
	wantCode(t, err, "")
	if want := 12; got.Count != want { // six active seeds, two sessions each
		t.Errorf("purged %d sessions, want %d", got.Count, want)
	}
	for _, s := range seeds {
		e.assertSessions(t, s.id)
	}
}

func TestPurgeExpiredSessionsStoreFailure(t *testing.T) {
	e := newEnv(t)
	boom := errors.New("connection reset")
	e.store.fail["sessions.DeleteExpired"] = boom
	_, err := commands.NewPurgeExpiredSessionsHandler(e.store, e.clock).Handle(t.Context(), commands.PurgeExpiredSessions{})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the store's error", err)
	}
}
