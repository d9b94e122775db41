package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

var _ commands.Store = (*postgres.Store)(nil)

func TestUsersRoundTrip(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()

	// Nanoseconds and a non-UTC zone on the way in; microseconds in UTC come back.
	paris := time.FixedZone("CET", 3600)
	u := &domain.User{
		ID:           userID(1),
		Username:     "Alice",
		PasswordHash: "hash-1",
		Role:         domain.RoleAdmin,
		IsActive:     true,
		CreatedAt:    time.Date(2026, 11, 24, 9, 30, 0, 123456789, paris),
		UpdatedAt:    time.Date(2026, 11, 24, 9, 31, 0, 999999999, paris),
	}
	addUser(t, store, u)
	want := *u
	want.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
	want.UpdatedAt = u.UpdatedAt.UTC().Truncate(time.Microsecond)

	got, err := store.Users().Get(ctx, u.ID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertUser(t, got, &want)
	// Ids in paths come in any letter case; the stored one is lower case.
	if got, err = store.Users().Get(ctx, strings.ToUpper(u.ID)); err != nil {
		t.Fatalf("Get in upper case: %v", err)
	}
	assertUser(t, got, &want)
	if got, err = store.Users().GetByUsername(ctx, "Alice"); err != nil {
		t.Fatalf("GetByUsername: %v", err)
	}
	assertUser(t, got, &want)

	got.PasswordHash = "hash-2"
	got.Role = domain.RoleUser
	got.IsActive = false
	got.UpdatedAt = at(45)
	if err := store.Users().Update(ctx, got); err != nil {
		t.Fatalf("Update: %v", err)
	}
	updated, err := store.Users().Get(ctx, u.ID)
	if err != nil {
		t.Fatalf("Get after Update: %v", err)
	}
	assertUser(t, updated, got)
}

func TestUsersNotFound(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()

	for name, lookup := range map[string]func() error{
		"Get":                func() error { _, err := store.Users().Get(ctx, userID(404)); return err },
		"Get malformed id":   func() error { _, err := store.Users().Get(ctx, "not-a-uuid"); return err },
		"GetByUsername":      func() error { _, err := store.Users().GetByUsername(ctx, "nobody"); return err },
		"Update missing":     func() error { return store.Users().Update(ctx, newUser(404, "nobody", domain.RoleUser)) },
		"GetWithUser":        func() error { _, _, err := store.Sessions().GetWithUser(ctx, "no-such-session"); return err },
		"Get with urn: form": func() error { _, err := store.Users().Get(ctx, "urn:uuid:"+userID(1)); return err },
	} {
		if err := lookup(); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("%s: got %v, want not found", name, err)
		}
	}
}

func TestUsernamesAreUniqueAndCaseSensitive(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()

	addUser(t, store, newUser(1, "Alice", domain.RoleUser))
	addUser(t, store, newUser(2, "alice", domain.RoleUser)) // another name: case counts

	err := store.Users().Add(ctx, newUser(3, "alice", domain.RoleAdmin))
	if !errors.Is(err, domain.ErrUsernameTaken) {
		t.Fatalf("Add of a taken username: got %v, want username taken", err)
	}
	if _, err := store.Users().GetByUsername(ctx, "ALICE"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("GetByUsername(ALICE): got %v, want not found", err)
	}
	got, err := store.Users().GetByUsername(ctx, "alice")
	if err != nil || got.ID != userID(2) {
		t.Fatalf("GetByUsername(alice) = %v, %v; want user 2", got, err)
	}
}

func TestInTxRollsBackOnError(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()
	stop := errors.New("stop")

	err := store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, newUser(1, "alice", domain.RoleUser)); err != nil {
			return err
		}
		if err := tx.Sessions().Add(ctx, newSession("s1", userID(1), 0)); err != nil {
			return err
		}
		return stop
	})
	if !errors.Is(err, stop) || err.Error() != stop.Error() {
		t.Fatalf("InTx returned %v, want fn's own error unchanged", err)
	}
	if _, err := store.Users().Get(ctx, userID(1)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("user after rollback: got %v, want not found", err)
	}
	if _, _, err := store.Sessions().GetWithUser(ctx, "s1"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("session after rollback: got %v, want not found", err)
	}
}

func TestInTxCommitsOnNil(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()

	err := store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, newUser(1, "alice", domain.RoleUser)); err != nil {
			return err
		}
		// The transaction is not committed yet: the pool does not see the user,
		// the transaction TxOf returns does.
		if _, err := store.Users().Get(ctx, userID(1)); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("uncommitted user seen outside the transaction: %v", err)
		}
		bunTx, ok := postgres.TxOf(tx)
		if !ok {
			t.Fatal("TxOf: not a transaction")
		}
		n, err := bunTx.NewSelect().Table("users").Where("id = ?", userID(1)).Count(ctx)
		if err != nil || n != 1 {
			t.Errorf("user through TxOf: count %d, %v; want 1", n, err)
		}
		return tx.Sessions().Add(ctx, newSession("s1", userID(1), 0))
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if _, _, err := store.Sessions().GetWithUser(ctx, "s1"); err != nil {
		t.Fatalf("session after commit: %v", err)
	}
	if _, ok := postgres.TxOf(store); ok {
		t.Fatal("TxOf(store) reported a transaction")
	}
}

// A Get inside a transaction locks the row: a second transaction's Get waits for the
// first to commit, then reads what it wrote.
func TestGetInTxLocksTheRow(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := postgres.NewStore(db)
	ctx := t.Context()
	addUser(t, store, newUser(1, "alice", domain.RoleUser))

	locked, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
			u, err := tx.Users().Get(ctx, userID(1))
			if err != nil {
				return err
			}
			close(locked)
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			u.SetRole(domain.RoleAdmin, at(1))
			return tx.Users().Update(ctx, u)
		})
	}()
	select {
	case <-locked:
	case err := <-firstDone:
		t.Fatalf("first transaction: %v", err)
	}

	type result struct {
		u   *domain.User
		err error
	}
	secondDone := make(chan result, 1)
	go func() {
		var r result
		r.err = store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
			r.u, r.err = tx.Users().Get(ctx, userID(1))
			return r.err
		})
		secondDone <- r
	}()

	waitForLockWaiter(t, db)
	select {
	case r := <-secondDone:
		t.Fatalf("second Get returned while the row was locked: %v, %v", r.u, r.err)
	default:
	}

	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first transaction: %v", err)
	}
	r := <-secondDone
	if r.err != nil {
		t.Fatalf("second transaction: %v", r.err)
	}
	if r.u.Role != domain.RoleAdmin {
		t.Fatalf("second Get read role %q, want the first transaction's committed %q", r.u.Role, domain.RoleAdmin)
	}
}

// waitForLockWaiter waits until a connection to the test's database is blocked on a
// lock: proof, from the server itself, that the second Get is waiting.
func waitForLockWaiter(t *testing.T, db *bun.DB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").
			Scan(t.Context(), &waiting)
		if err != nil {
			t.Fatalf("reading pg_stat_activity: %v", err)
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction never waited for the row lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()
	alice := addUser(t, store, newUser(1, "alice", domain.RoleAdmin))
	bob := addUser(t, store, newUser(2, "bob", domain.RoleUser))
	for _, s := range []*domain.Session{
		newSession("a1", alice.ID, 0),
		newSession("a2", alice.ID, 1),
		newSession("a3", alice.ID, 2),
		newSession("b1", bob.ID, 3),
	} {
		if err := store.Sessions().Add(ctx, s); err != nil {
			t.Fatalf("Add session %s: %v", s.ID, err)
		}
	}

	s, u, err := store.Sessions().GetWithUser(ctx, "a1")
	if err != nil {
		t.Fatalf("GetWithUser: %v", err)
	}
	if want := newSession("a1", alice.ID, 0); !reflect.DeepEqual(s, want) {
		t.Errorf("session = %+v, want %+v", s, want)
	}
	assertUser(t, u, alice)

	if err := store.Sessions().Extend(ctx, "a1", at(50).In(time.FixedZone("X", -7200))); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	if s, _, _ := store.Sessions().GetWithUser(ctx, "a1"); !s.ExpiresAt.Equal(at(50)) || s.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt after Extend = %v, want %v", s.ExpiresAt, at(50))
	}
	if err := store.Sessions().Extend(ctx, "gone", at(50)); err != nil {
		t.Errorf("Extend of a missing session: %v", err)
	}

	if err := store.Sessions().Delete(ctx, "a1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := store.Sessions().Delete(ctx, "a1"); err != nil {
		t.Fatalf("Delete of a missing session: %v", err)
	}
	assertSessions(t, store, map[string]bool{"a1": false, "a2": true, "a3": true, "b1": true})

	if err := store.Sessions().DeleteByUser(ctx, alice.ID, "a2"); err != nil {
		t.Fatalf("DeleteByUser keeping a2: %v", err)
	}
	assertSessions(t, store, map[string]bool{"a2": true, "a3": false, "b1": true})

	if err := store.Sessions().DeleteByUser(ctx, alice.ID, ""); err != nil {
		t.Fatalf("DeleteByUser keeping none: %v", err)
	}
	assertSessions(t, store, map[string]bool{"a2": false, "b1": true})
}

func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	store := postgres.NewStore(pgtest.New(t))
	ctx := t.Context()
	alice := addUser(t, store, newUser(1, "alice", domain.RoleUser))
	// Sessions created at minutes 0..4 expire at minutes 30..34.
	for i := range 5 {
		if err := store.Sessions().Add(ctx, newSession(fmt.Sprint("s", i), alice.ID, i)); err != nil {
			t.Fatalf("Add session: %v", err)
		}
	}

	// At minute 33, s0..s3 have expired (expiry is inclusive); the limit takes the
	// oldest first.
	n, err := store.Sessions().DeleteExpired(ctx, at(33), 2)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired(limit 2) = %d, %v; want 2", n, err)
	}
	assertSessions(t, store, map[string]bool{"s0": false, "s1": false, "s2": true, "s3": true, "s4": true})

	n, err = store.Sessions().DeleteExpired(ctx, at(33), 100)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired(limit 100) = %d, %v; want 2", n, err)
	}
	assertSessions(t, store, map[string]bool{"s2": false, "s3": false, "s4": true})

	if n, err = store.Sessions().DeleteExpired(ctx, at(33), 100); err != nil || n != 0 {
		t.Fatalf("DeleteExpired with nothing expired = %d, %v; want 0", n, err)
	}
}

func TestDeletingAUserDeletesItsSessions(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := postgres.NewStore(db)
	ctx := t.Context()
	alice := addUser(t, store, newUser(1, "alice", domain.RoleUser))
	if err := store.Sessions().Add(ctx, newSession("a1", alice.ID, 0)); err != nil {
		t.Fatalf("Add session: %v", err)
	}

	if _, err := db.NewDelete().Table("users").Where("id = ?", alice.ID).Exec(ctx); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	assertSessions(t, store, map[string]bool{"a1": false})
}

func assertUser(t *testing.T, got, want *domain.User) {
	t.Helper()
	// DeepEqual also checks that timestamps are in UTC: a time in another zone,
	// even at the same instant, differs.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("user =\n %+v\nwant\n %+v", got, want)
	}
}

// assertSessions checks which sessions exist (true) and which do not (false).
func assertSessions(t *testing.T, store *postgres.Store, want map[string]bool) {
	t.Helper()
	for id, exists := range want {
		_, _, err := store.Sessions().GetWithUser(t.Context(), id)
		switch {
		case exists && err != nil:
			t.Errorf("session %s: %v, want it to exist", id, err)
		case !exists && !errors.Is(err, domain.ErrNotFound):
			t.Errorf("session %s: got %v, want not found", id, err)
		}
	}
}
