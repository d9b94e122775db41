package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// fakeStore ends a different number of sessions for each kind of delete, and runs
// transactions as they come.
type fakeStore struct{}

func (fakeStore) Users() commands.Users       { return nil }
func (fakeStore) Sessions() commands.Sessions { return fakeSessions{} }
func (s fakeStore) InTx(ctx context.Context, fn func(context.Context, commands.Repositories) error) error {
	return fn(ctx, s)
}

type fakeSessions struct{ commands.Sessions }

func (fakeSessions) Add(context.Context, *domain.Session) error { return nil }
func (fakeSessions) Delete(context.Context, string) (int, error) {
	return 1, nil
}
func (fakeSessions) DeleteIfExpired(context.Context, string, time.Time) (int, error) {
	return 1, nil
}
func (fakeSessions) DeleteByUser(context.Context, string, string) (int, error) { return 2, nil }
func (fakeSessions) DeleteBefore(context.Context, string, int64) (int, error)  { return 4, nil }
func (fakeSessions) DeleteExpired(context.Context, time.Time, int) (int, error) {
	return 5, nil
}
func (fakeSessions) DeleteOldest(context.Context, string, string, time.Time, int) (int, error) {
	return 3, nil
}

// Sessions are counted by the reason their delete tells, and those of a
// transaction only once it commits.
func TestStoreCountsSessionsOnceCommitted(t *testing.T) {
	m := New()
	store := m.Store(fakeStore{})
	ctx := t.Context()

	if _, err := store.Sessions().Delete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Sessions().DeleteIfExpired(ctx, "s2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Sessions().DeleteBefore(ctx, "u", 7); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Sessions().DeleteExpired(ctx, time.Now(), 100); err != nil {
		t.Fatal(err)
	}
	err := store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Sessions().Add(ctx, &domain.Session{}); err != nil {
			return err
		}
		_, err := tx.Sessions().DeleteOldest(ctx, "u", "s", time.Now(), 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rolledBack := errors.New("rolled back")
	err = store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		_, _ = tx.Sessions().DeleteByUser(ctx, "u", "")
		_ = tx.Sessions().Add(ctx, &domain.Session{})
		return rolledBack
	})
	if !errors.Is(err, rolledBack) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}

	for reason, want := range map[string]float64{"logout": 1, "expiry": 1, "inactivation": 4, "purge": 5, "limit": 3, "password": 0} {
		if got := testutil.ToFloat64(m.sessionsEnded.WithLabelValues(reason)); got != want {
			t.Errorf("sessions ended for %s = %v, want %v", reason, got, want)
		}
	}
	if got := testutil.ToFloat64(m.sessionsCreated); got != 1 {
		t.Errorf("sessions created = %v, want 1 (the rolled-back one does not count)", got)
	}
}
