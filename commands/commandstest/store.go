package commandstest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// EventLog reads back every event a store has committed, in commit order, as a
// consumer of its outbox would see them.
type EventLog func(ctx context.Context) ([]domain.Event, error)

// StoreContract runs, as parallel subtests, the behaviour of commands.Store,
// commands.Users and commands.Sessions that commands rely on. newStore returns an
// empty store of its own for each subtest, and the log of its outbox.
//
// Every user write, and every DeleteByUser, goes through InTx, as in the commands
// themselves: user writes outside a transaction are refused, since the user's
// events must be written with it. Other session writes are single statements the
// interface allows on their own.
func StoreContract(t *testing.T, newStore func(t *testing.T) (commands.Store, EventLog)) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(*testing.T, commands.Store, EventLog)
	}{
		{"UsersRoundTrip", testUsersRoundTrip},
		{"UsersNotFound", testUsersNotFound},
		{"UsernamesAreUniqueAndCaseSensitive", testUsernamesUnique},
		{"UserIDsAreUnique", testUserIDsUnique},
		{"UpdateKeepsWhatNeverChanges", testUpdateKeepsWhatNeverChanges},
		{"InTxCommitsOnNil", testInTxCommits},
		{"InTxRollsBackOnError", testInTxRollsBack},
		{"WritesOutsideATxAreNotPartOfIt", testWritesOutsideTx},
		{"SessionsRoundTrip", testSessionsRoundTrip},
		{"SessionNeedsItsUser", testSessionNeedsUser},
		{"SessionIDsAreUnique", testSessionIDsUnique},
		{"ExtendSession", testExtend},
		{"DeleteSession", testDelete},
		{"DeleteSessionsByUser", testDeleteByUser},
		{"DeleteSessionIfExpired", testDeleteIfExpired},
		{"DeleteSessionsBeforeAVersion", testDeleteBefore},
		{"DeleteExpiredSessions", testDeleteExpired},
		{"DeleteOldestSessions", testDeleteOldest},
		{"EventsAreCommittedWithTheirChange", testEventsCommitted},
		{"EventsRollBackWithTheirChange", testEventsRolledBack},
		{"UserWritesOutsideATxAreRefused", testUserWritesOutsideTx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store, log := newStore(t)
			tc.run(t, store, log)
		})
	}
}

// errStop is what a transaction's function returns to have it rolled back.
var errStop = errors.New("commandstest: stop")

func testUsersRoundTrip(t *testing.T, store commands.Store, _ EventLog) {
	// Nanoseconds and another zone go in; microseconds in UTC come back, the
	// precision PostgreSQL keeps.
	paris := time.FixedZone("CET", 3600)
	rec := domain.UserRecord{
		// Hex letters, so that the upper-case lookup below differs from the id.
		ID:                "0190abcd-ef01-7abc-8def-0123456789ab",
		Username:          "Alice",
		PasswordHash:      "hash-1",
		Role:              domain.RoleAdmin,
		IsActive:          true,
		PasswordChangedAt: time.Date(2026, 11, 24, 9, 30, 30, 555555555, paris),
		CreatedAt:         time.Date(2026, 11, 24, 9, 30, 0, 123456789, paris),
		UpdatedAt:         time.Date(2026, 11, 24, 9, 31, 0, 999999999, paris),
		Version:           7,
		SessionsValidFrom: 5,
	}
	addUsers(t, store, domain.RestoreUser(rec))
	want := rec
	want.PasswordChangedAt = rec.PasswordChangedAt.UTC().Truncate(time.Microsecond)
	want.CreatedAt = rec.CreatedAt.UTC().Truncate(time.Microsecond)
	want.UpdatedAt = rec.UpdatedAt.UTC().Truncate(time.Microsecond)

	forEachRepositories(t, store, func(t *testing.T, ctx context.Context, repos commands.Repositories) {
		got, err := repos.Users().Get(ctx, rec.ID)
		assertUser(t, "Get", got, err, want)
		// Ids in paths come in any letter case; the stored one is lower case.
		got, err = repos.Users().Get(ctx, strings.ToUpper(rec.ID))
		assertUser(t, "Get in upper case", got, err, want)
		got, err = repos.Users().GetByUsername(ctx, "Alice")
		assertUser(t, "GetByUsername", got, err, want)
	})
}

func testUsersNotFound(t *testing.T, store commands.Store, _ EventLog) {
	addUsers(t, store, newUser(1, "alice"))

	forEachRepositories(t, store, func(t *testing.T, ctx context.Context, repos commands.Repositories) {
		for name, id := range map[string]string{
			"missing id": UserID(404),
			// Not a uuid at all: still simply not found, not a database error.
			"malformed id":   "not-a-uuid",
			"empty id":       "",
			"urn: form":      "urn:uuid:" + UserID(1),
			"braced form":    "{" + UserID(1) + "}",
			"trailing space": UserID(1) + " ",
		} {
			_, err := repos.Users().Get(ctx, id)
			wantNotFound(t, "Get, "+name, err)
		}
		_, err := repos.Users().GetByUsername(ctx, "nobody")
		wantNotFound(t, "GetByUsername", err)
		_, _, err = repos.Sessions().GetWithUser(ctx, "no-such-session")
		wantNotFound(t, "GetWithUser", err)
	})

	err := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		return tx.Users().Update(ctx, newUser(404, "nobody"))
	})
	wantNotFound(t, "Update of a missing user", err)
}

func testUsernamesUnique(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	addUsers(t, store, newUser(1, "Alice"), newUser(2, "alice")) // case counts

	err := store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		return tx.Users().Add(ctx, newUser(3, "alice"))
	})
	if !errors.Is(err, domain.ErrUsernameTaken) {
		t.Fatalf("Add of a taken username: got %v, want username taken", err)
	}
	_, err = store.Users().Get(ctx, UserID(3))
	wantNotFound(t, "Get of the refused user", err)
	_, err = store.Users().GetByUsername(ctx, "ALICE")
	wantNotFound(t, "GetByUsername(ALICE)", err)
	got, err := store.Users().GetByUsername(ctx, "alice")
	if err != nil || got.ID() != UserID(2) {
		t.Fatalf("GetByUsername(alice) = %+v, %v; want user %s", got, err, UserID(2))
	}
}

// An id clash is a bug, not a taken username: a client must not be told to pick
// another name.
func testUserIDsUnique(t *testing.T, store commands.Store, _ EventLog) {
	alice := newUser(1, "alice")
	addUsers(t, store, alice)

	err := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		return tx.Users().Add(ctx, newUser(1, "bobby"))
	})
	if err == nil || errors.Is(err, domain.ErrUsernameTaken) {
		t.Fatalf("Add of a taken id: got %v, want an error other than username taken", err)
	}
	got, err := store.Users().Get(t.Context(), alice.ID())
	assertUser(t, "Get after the refused Add", got, err, alice.Record())
}

func testUpdateKeepsWhatNeverChanges(t *testing.T, store commands.Store, _ EventLog) {
	alice := newUser(1, "alice")
	addUsers(t, store, alice)

	want := alice.Record()
	want.PasswordHash = "hash-2"
	want.PasswordChangedAt = At(45)
	want.Role = domain.RoleAdmin
	want.IsActive = false
	want.UpdatedAt = At(45)
	want.Version = 4
	want.SessionsValidFrom = 4
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.SetPassword("hash-2", UserID(9), At(45))
		u.SetRole(domain.RoleAdmin, UserID(9), At(45))
		u.Inactivate(UserID(9), At(45).Add(789*time.Nanosecond).In(time.FixedZone("X", -7200)))
		// No use case changes these; a store that wrote them would let a buggy one
		// rename a user past the unique index's back.
		renamed := u.Record()
		renamed.Username = "mallory"
		renamed.CreatedAt = At(50)
		return tx.Users().Update(ctx, domain.RestoreUser(renamed))
	})
	got, err := store.Users().Get(t.Context(), alice.ID())
	assertUser(t, "Get after Update", got, err, want)
	_, err = store.Users().GetByUsername(t.Context(), "mallory")
	wantNotFound(t, "GetByUsername of the name Update left out", err)
}

func testInTxCommits(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	a1 := NewSession("a1", alice.ID(), 0)

	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, alice); err != nil {
			return err
		}
		if err := tx.Sessions().Add(ctx, a1); err != nil {
			return err
		}
		// The transaction sees its own writes; nobody else does before the commit.
		u, err := tx.Users().Get(ctx, alice.ID())
		assertUser(t, "Get inside the transaction", u, err, alice.Record())
		_, err = store.Users().Get(ctx, alice.ID())
		wantNotFound(t, "Get of an uncommitted user outside the transaction", err)
		return nil
	})

	got, err := store.Users().Get(ctx, alice.ID())
	assertUser(t, "Get after commit", got, err, alice.Record())
	AssertSessions(t, store, map[string]bool{"a1": true})
}

// Everything fn wrote is undone, whatever repository wrote it: a command that fails
// halfway must leave no half-done change behind.
func testInTxRollsBack(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	addSessions(t, store, NewSession("a1", alice.ID(), 0), NewSession("a2", alice.ID(), 1))

	err := store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, newUser(2, "bobby")); err != nil {
			return err
		}
		if err := tx.Sessions().Add(ctx, NewSession("b1", UserID(2), 2)); err != nil {
			return err
		}
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.SetRole(domain.RoleSuperAdmin, "", At(9))
		if err := tx.Users().Update(ctx, u); err != nil {
			return err
		}
		if _, err := tx.Sessions().Delete(ctx, "a1"); err != nil {
			return err
		}
		if _, err := tx.Sessions().DeleteByUser(ctx, alice.ID(), ""); err != nil {
			return err
		}
		return errStop
	})
	// fn's error is already what the caller must see (a domain error, usually): it
	// comes back unwrapped.
	if !errors.Is(err, errStop) || err.Error() != errStop.Error() {
		t.Fatalf("InTx returned %v, want fn's own error unchanged", err)
	}
	_, err = store.Users().Get(ctx, UserID(2))
	wantNotFound(t, "user added in the rolled-back transaction", err)
	got, err := store.Users().Get(ctx, alice.ID())
	assertUser(t, "user updated in the rolled-back transaction", got, err, alice.Record())
	AssertSessions(t, store, map[string]bool{"a1": true, "a2": true, "b1": false})
}

// A logout while another request's transaction is open is its own write: the other
// transaction's commit must not bring the session back, nor its rollback undo the
// logout.
func testWritesOutsideTx(t *testing.T, store commands.Store, _ EventLog) {
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	addSessions(t, store, NewSession("a1", alice.ID(), 0), NewSession("a2", alice.ID(), 1))

	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, newUser(2, "bobby")); err != nil {
			return err
		}
		if _, err := store.Sessions().Delete(ctx, "a1"); err != nil {
			return err
		}
		return store.Sessions().Add(ctx, NewSession("a3", alice.ID(), 2))
	})
	AssertSessions(t, store, map[string]bool{"a1": false, "a2": true, "a3": true})

	err := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		if _, err := store.Sessions().Delete(ctx, "a2"); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx returned %v, want %v", err, errStop)
	}
	AssertSessions(t, store, map[string]bool{"a2": false, "a3": true})
}

func testSessionsRoundTrip(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	addUsers(t, store, alice)

	// Nanoseconds and another zone go in; microseconds in UTC come back.
	zone := time.FixedZone("X", 5*3600)
	a1 := &domain.Session{
		ID:                "a1",
		UserID:            alice.ID(),
		UserVersion:       3,
		CreatedAt:         At(0).Add(789 * time.Nanosecond).In(zone),
		ExpiresAt:         At(30).Add(999 * time.Nanosecond).In(zone),
		AbsoluteExpiresAt: At(59).In(zone),
	}
	addSessions(t, store, a1)
	// Login adds its session in the transaction that checked the user.
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		return tx.Sessions().Add(ctx, NewSession("a2", alice.ID(), 1))
	})

	forEachRepositories(t, store, func(t *testing.T, ctx context.Context, repos commands.Repositories) {
		s, u, err := repos.Sessions().GetWithUser(ctx, "a1")
		wantA1 := NewSession("a1", alice.ID(), 0)
		wantA1.UserVersion = 3
		assertSession(t, "GetWithUser(a1)", s, err, wantA1)
		assertUser(t, "GetWithUser(a1)'s user", u, err, alice.Record())
		s, _, err = repos.Sessions().GetWithUser(ctx, "a2")
		assertSession(t, "GetWithUser(a2)", s, err, NewSession("a2", alice.ID(), 1))
	})

	// The user comes as it is now, not as it was when the session began: an
	// inactivated user's session must stop working at once.
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.Inactivate("", At(5))
		return tx.Users().Update(ctx, u)
	})
	_, u, err := store.Sessions().GetWithUser(ctx, "a1")
	if err != nil || u.IsActive() {
		t.Fatalf("GetWithUser after inactivation: user %+v, %v; want it inactive", u, err)
	}
}

func testSessionNeedsUser(t *testing.T, store commands.Store, _ EventLog) {
	if err := store.Sessions().Add(t.Context(), NewSession("s1", UserID(404), 0)); err == nil {
		t.Fatal("Add of a session of a missing user succeeded")
	}
	AssertSessions(t, store, map[string]bool{"s1": false})
}

func testSessionIDsUnique(t *testing.T, store commands.Store, _ EventLog) {
	alice, bob := newUser(1, "alice"), newUser(2, "bobby")
	addUsers(t, store, alice, bob)
	addSessions(t, store, NewSession("s1", alice.ID(), 0))

	if err := store.Sessions().Add(t.Context(), NewSession("s1", bob.ID(), 5)); err == nil {
		t.Fatal("Add of a taken session id succeeded")
	}
	s, u, err := store.Sessions().GetWithUser(t.Context(), "s1")
	assertSession(t, "GetWithUser after the refused Add", s, err, NewSession("s1", alice.ID(), 0))
	assertUser(t, "GetWithUser's user after the refused Add", u, err, alice.Record())
}

func testExtend(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	addSessions(t, store, NewSession("a1", alice.ID(), 0), NewSession("a2", alice.ID(), 1))

	if err := store.Sessions().Extend(ctx, "a1", At(50).Add(999*time.Nanosecond).In(time.FixedZone("X", -7200))); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	want := NewSession("a1", alice.ID(), 0)
	want.ExpiresAt = At(50)
	s, _, err := store.Sessions().GetWithUser(ctx, "a1")
	assertSession(t, "GetWithUser after Extend", s, err, want)
	s, _, err = store.Sessions().GetWithUser(ctx, "a2")
	assertSession(t, "the other session after Extend", s, err, NewSession("a2", alice.ID(), 1))

	// A session ended concurrently (a logout) is no error: the next request finds
	// it gone.
	if err := store.Sessions().Extend(ctx, "gone", At(50)); err != nil {
		t.Fatalf("Extend of a missing session: %v", err)
	}
	AssertSessions(t, store, map[string]bool{"gone": false})
}

func testDelete(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	addSessions(t, store, NewSession("a1", alice.ID(), 0), NewSession("a2", alice.ID(), 1))

	if n, err := store.Sessions().Delete(ctx, "a1"); err != nil || n != 1 {
		t.Fatalf("Delete = %d, %v; want 1, nil", n, err)
	}
	// Logging out twice is not an error.
	if n, err := store.Sessions().Delete(ctx, "a1"); err != nil || n != 0 {
		t.Fatalf("Delete of a missing session = %d, %v; want 0, nil", n, err)
	}
	AssertSessions(t, store, map[string]bool{"a1": false, "a2": true})

	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		_, err := tx.Sessions().Delete(ctx, "a2")
		return err
	})
	AssertSessions(t, store, map[string]bool{"a2": false})
}

// DeleteIfExpired is the request path's: a session found expired goes, one that a
// refresh has just extended stays.
func testDeleteIfExpired(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	a1 := NewSession("a1", alice.ID(), 0)
	addSessions(t, store, a1)

	before := a1.ExpiresAt.Add(-time.Microsecond)
	if n, err := store.Sessions().DeleteIfExpired(ctx, "a1", before); err != nil || n != 0 {
		t.Fatalf("DeleteIfExpired before expiry = %d, %v; want 0, nil", n, err)
	}
	AssertSessions(t, store, map[string]bool{"a1": true})
	if n, err := store.Sessions().DeleteIfExpired(ctx, "a1", a1.ExpiresAt); err != nil || n != 1 {
		t.Fatalf("DeleteIfExpired at expiry = %d, %v; want 1, nil", n, err)
	}
	AssertSessions(t, store, map[string]bool{"a1": false})
	if n, err := store.Sessions().DeleteIfExpired(ctx, "a1", a1.ExpiresAt); err != nil || n != 0 {
		t.Fatalf("DeleteIfExpired of a missing session = %d, %v; want 0, nil", n, err)
	}
}

func testDeleteByUser(t *testing.T, store commands.Store, _ EventLog) {
	alice, bob, carol := newUser(1, "alice"), newUser(2, "bobby"), newUser(3, "carol")
	addUsers(t, store, alice, bob, carol)
	addSessions(t, store,
		NewSession("a1", alice.ID(), 0),
		NewSession("a2", alice.ID(), 1),
		NewSession("a3", alice.ID(), 2),
		NewSession("b1", bob.ID(), 3),
	)
	deleteByUser := func(userID, keep string, want int) {
		t.Helper()
		inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
			n, err := tx.Sessions().DeleteByUser(ctx, userID, keep)
			if err == nil && n != want {
				t.Errorf("DeleteByUser(%s, %q) deleted %d sessions, want %d", userID, keep, n, want)
			}
			return err
		})
	}

	deleteByUser(alice.ID(), "a2", 2)
	AssertSessions(t, store, map[string]bool{"a1": false, "a2": true, "a3": false, "b1": true})

	// keep names another user's session: it protects nothing of alice's, and bob's
	// session is not alice's to end anyway.
	deleteByUser(alice.ID(), "b1", 1)
	AssertSessions(t, store, map[string]bool{"a2": false, "b1": true})

	deleteByUser(bob.ID(), "", 1)
	AssertSessions(t, store, map[string]bool{"b1": false})

	deleteByUser(carol.ID(), "", 0) // no sessions at all
	deleteByUser(UserID(404), "", 0)
}

func testDeleteBefore(t *testing.T, store commands.Store, _ EventLog) {
	alice, bob := newUser(1, "alice"), newUser(2, "bobby")
	addUsers(t, store, alice, bob)
	at := func(id, userID string, version int64) *domain.Session {
		s := NewSession(id, userID, 0)
		s.UserVersion = version
		return s
	}
	addSessions(t, store, at("a1", alice.ID(), 1), at("a2", alice.ID(), 2), at("a3", alice.ID(), 3), at("b1", bob.ID(), 1))

	deleteBefore := func(userID string, version int64, want int) {
		t.Helper()
		n, err := store.Sessions().DeleteBefore(t.Context(), userID, version)
		if err != nil || n != want {
			t.Fatalf("DeleteBefore(%s, %d) = %d, %v; want %d", userID, version, n, err, want)
		}
	}
	deleteBefore(alice.ID(), 3, 2)
	AssertSessions(t, store, map[string]bool{"a1": false, "a2": false, "a3": true, "b1": true})
	deleteBefore(alice.ID(), 3, 0) // again: nothing left to do
	deleteBefore(UserID(404), 9, 0)
	AssertSessions(t, store, map[string]bool{"a3": true, "b1": true})
}

func testDeleteExpired(t *testing.T, store commands.Store, _ EventLog) {
	ctx := t.Context()
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	// s4..s0 expire at minutes 30..34: the id order is the reverse of the expiry
	// order, so a store that took ids in order would show.
	for i := range 5 {
		addSessions(t, store, NewSession(fmt.Sprint("s", 4-i), alice.ID(), i))
	}

	// At minute 33, s4..s1 have expired (expiry is inclusive); the limit takes the
	// oldest first, so that a backlog drains in order.
	deleteExpired := func(limit, want int) {
		t.Helper()
		n, err := store.Sessions().DeleteExpired(ctx, At(33), limit)
		if err != nil || n != want {
			t.Fatalf("DeleteExpired(at 33, limit %d) = %d, %v; want %d", limit, n, err, want)
		}
	}
	deleteExpired(2, 2)
	AssertSessions(t, store, map[string]bool{"s4": false, "s3": false, "s2": true, "s1": true, "s0": true})
	deleteExpired(100, 2)
	AssertSessions(t, store, map[string]bool{"s2": false, "s1": false, "s0": true})
	deleteExpired(100, 0)
	AssertSessions(t, store, map[string]bool{"s0": true})
}

// DeleteOldest is the session cap: a login adds its session, then leaves the user
// no more than the cap, the oldest going first, in the login's transaction.
func testDeleteOldest(t *testing.T, store commands.Store, _ EventLog) {
	alice, bob := newUser(1, "alice"), newUser(2, "bobby")
	addUsers(t, store, alice, bob)
	// Ids in the reverse order of age, so that a store that took ids for age would
	// show; k is the session the login has just added.
	addSessions(t, store,
		NewSession("a4", alice.ID(), 0),
		NewSession("a3", alice.ID(), 1),
		NewSession("a2", alice.ID(), 2),
		NewSession("a1", alice.ID(), 3),
		NewSession("k", alice.ID(), 4),
		NewSession("b1", bob.ID(), 0),
	)
	deleteOldest := func(userID, keep string, now time.Time, limit, want int) {
		t.Helper()
		inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
			n, err := tx.Sessions().DeleteOldest(ctx, userID, keep, now, limit)
			if err != nil || n != want {
				t.Fatalf("DeleteOldest(%s, keep %s, limit %d) = %d, %v; want %d", userID, keep, limit, n, err, want)
			}
			return nil
		})
	}

	deleteOldest(alice.ID(), "k", At(10), 3, 2)
	AssertSessions(t, store, map[string]bool{"a4": false, "a3": false, "a2": true, "a1": true, "k": true, "b1": true})
	deleteOldest(alice.ID(), "k", At(10), 3, 0) // under the cap: nothing to do

	// keep stays however old it is, and counts towards the limit.
	deleteOldest(alice.ID(), "a2", At(10), 2, 1)
	AssertSessions(t, store, map[string]bool{"a2": true, "a1": false, "k": true, "b1": true})

	// Expired sessions count for nothing and go, the newest one included; expiry is
	// inclusive, as everywhere.
	late := NewSession("late", alice.ID(), 9)
	late.ExpiresAt = At(12)
	addSessions(t, store, late)
	deleteOldest(alice.ID(), "k", At(12), 2, 1)
	AssertSessions(t, store, map[string]bool{"late": false, "a2": true, "k": true, "b1": true})

	// A limit of one leaves keep alone.
	deleteOldest(alice.ID(), "k", At(12), 1, 1)
	AssertSessions(t, store, map[string]bool{"a2": false, "k": true, "b1": true})

	deleteOldest(UserID(404), "", At(12), 1, 0)
	AssertSessions(t, store, map[string]bool{"k": true, "b1": true})
}

// Saving a user writes the events it recorded in the same transaction, in order,
// each with the user's version after it; a save that changed nothing writes none.
func testEventsCommitted(t *testing.T, store commands.Store, log EventLog) {
	const admin = "01900000-0000-7000-8000-0000000000ad"
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.SetRole(domain.RoleAdmin, admin, At(10))
		// Nanoseconds and another zone go in; microseconds in UTC come back.
		u.Inactivate(admin, At(11).Add(999*time.Nanosecond).In(time.FixedZone("X", 3600)))
		return tx.Users().Update(ctx, u)
	})
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.SetRole(domain.RoleAdmin, admin, At(12)) // no change, no event
		return tx.Users().Update(ctx, u)
	})
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		// Saved twice in one transaction: each event is written once.
		u.Reactivate(admin, At(13))
		if err := tx.Users().Update(ctx, u); err != nil {
			return err
		}
		u.SetPassword("hash-2", alice.ID(), At(14))
		return tx.Users().Update(ctx, u)
	})
	AssertEvents(t, log,
		domain.Event{UserID: alice.ID(), Sequence: 1, OccurredAt: At(0), Data: domain.UserSignedUp{Username: "alice", Role: domain.RoleUser}},
		domain.Event{UserID: alice.ID(), Sequence: 2, ActorID: admin, OccurredAt: At(10), Data: domain.UserRoleChanged{From: domain.RoleUser, To: domain.RoleAdmin}},
		domain.Event{UserID: alice.ID(), Sequence: 3, ActorID: admin, OccurredAt: At(11), Data: domain.UserInactivated{}},
		domain.Event{UserID: alice.ID(), Sequence: 4, ActorID: admin, OccurredAt: At(13), Data: domain.UserReactivated{}},
		domain.Event{UserID: alice.ID(), Sequence: 5, ActorID: alice.ID(), OccurredAt: At(14), Data: domain.UserPasswordChanged{By: domain.ChangedBySelf}},
	)
	got, err := store.Users().Get(t.Context(), alice.ID())
	if err != nil || got.Version() != 5 {
		t.Errorf("stored user %+v, %v; want version 5", got.Record(), err)
	}
}

// A change that is rolled back leaves no event, and a change committed later keeps
// the sequence without a gap.
func testEventsRolledBack(t *testing.T, store commands.Store, log EventLog) {
	alice := newUser(1, "alice")
	addUsers(t, store, alice)
	err := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, newUser(2, "bobby")); err != nil {
			return err
		}
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.Inactivate("", At(5))
		if err := tx.Users().Update(ctx, u); err != nil {
			return err
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("InTx returned %v, want %v", err, errStop)
	}
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		u, err := tx.Users().Get(ctx, alice.ID())
		if err != nil {
			return err
		}
		u.SetRole(domain.RoleAdmin, "", At(6))
		return tx.Users().Update(ctx, u)
	})
	AssertEvents(t, log,
		domain.Event{UserID: alice.ID(), Sequence: 1, OccurredAt: At(0), Data: domain.UserSignedUp{Username: "alice", Role: domain.RoleUser}},
		domain.Event{UserID: alice.ID(), Sequence: 2, OccurredAt: At(6), Data: domain.UserRoleChanged{From: domain.RoleUser, To: domain.RoleAdmin}},
	)
}

// A user written outside a transaction could not have its events written with it:
// the write is refused whole.
func testUserWritesOutsideTx(t *testing.T, store commands.Store, log EventLog) {
	ctx := t.Context()
	if err := store.Users().Add(ctx, newUser(1, "alice")); err == nil {
		t.Error("Add outside a transaction succeeded")
	}
	_, err := store.Users().Get(ctx, UserID(1))
	wantNotFound(t, "Get of the user added outside a transaction", err)

	bob := newUser(2, "bobby")
	addUsers(t, store, bob)
	u, err := store.Users().Get(ctx, bob.ID())
	if err != nil {
		t.Fatal(err)
	}
	u.Inactivate("", At(5))
	if err := store.Users().Update(ctx, u); err == nil {
		t.Error("Update outside a transaction succeeded")
	}
	got, err := store.Users().Get(ctx, bob.ID())
	assertUser(t, "Get after the refused Update", got, err, bob.Record())
	AssertEvents(t, log,
		domain.Event{UserID: bob.ID(), Sequence: 1, OccurredAt: At(0), Data: domain.UserSignedUp{Username: "bobby", Role: domain.RoleUser}})
}

// ---- Helpers --------------------------------------------------------------------

// UserID returns a valid UUIDv7 whose order follows n: stores may keep ids as uuids.
func UserID(n int) string {
	return fmt.Sprintf("01900000-0000-7000-8000-%012d", n)
}

// At is a fixed instant with microseconds, the precision PostgreSQL keeps.
func At(minute int) time.Time {
	return time.Date(2026, 11, 24, 8, minute, 0, 123456000, time.UTC)
}

// newUser is a new user, as signup makes one: it has its creation event to write.
func newUser(n int, username string) *domain.User {
	u, err := domain.NewUser(domain.Registration{
		ID: UserID(n), Username: username, PasswordHash: "hash-" + username, Role: domain.RoleUser, SignUp: true,
	}, At(0))
	if err != nil {
		panic(err) // the usernames of this file follow the rules
	}
	return u
}

// NewSession returns a session begun at minute, idle until minute+30.
func NewSession(id, userID string, minute int) *domain.Session {
	return &domain.Session{
		ID:                id,
		UserID:            userID,
		CreatedAt:         At(minute),
		ExpiresAt:         At(minute + 30),
		AbsoluteExpiresAt: At(minute + 59),
	}
}

// inTx runs fn in a transaction that must commit.
func inTx(t *testing.T, store commands.Store, fn func(context.Context, commands.Repositories) error) {
	t.Helper()
	if err := store.InTx(t.Context(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// addUsers adds users in one transaction: user writes belong in one.
func addUsers(t *testing.T, store commands.Store, users ...*domain.User) {
	t.Helper()
	inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
		for _, u := range users {
			if err := tx.Users().Add(ctx, u); err != nil {
				return fmt.Errorf("add user %s: %w", u.Username(), err)
			}
		}
		return nil
	})
}

// addSessions adds sessions outside any transaction, as the interface allows.
func addSessions(t *testing.T, store commands.Store, sessions ...*domain.Session) {
	t.Helper()
	for _, s := range sessions {
		if err := store.Sessions().Add(t.Context(), s); err != nil {
			t.Fatalf("add session %s: %v", s.ID, err)
		}
	}
}

// forEachRepositories runs check on the store's own repositories and on those of a
// transaction: reads must answer alike in both, though only the latter lock rows.
func forEachRepositories(t *testing.T, store commands.Store, check func(*testing.T, context.Context, commands.Repositories)) {
	t.Helper()
	t.Run("outside a transaction", func(t *testing.T) {
		check(t, t.Context(), store)
	})
	t.Run("inside a transaction", func(t *testing.T) {
		inTx(t, store, func(ctx context.Context, tx commands.Repositories) error {
			check(t, ctx, tx)
			return nil
		})
	})
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("%s: got %v, want not found", what, err)
	}
}

// assertUser checks a read's result. DeepEqual also checks that timestamps are in
// UTC: a time in another zone, even at the same instant, differs.
func assertUser(t *testing.T, what string, got *domain.User, err error, want domain.UserRecord) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s: %v", what, err)
	case !reflect.DeepEqual(got.Record(), want):
		t.Errorf("%s: user =\n %+v\nwant\n %+v", what, got.Record(), want)
	}
}

func assertSession(t *testing.T, what string, got *domain.Session, err error, want *domain.Session) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s: %v", what, err)
	case !reflect.DeepEqual(got, want):
		t.Errorf("%s: session =\n %+v\nwant\n %+v", what, got, want)
	}
}

// AssertSessions checks which sessions exist (true) and which do not (false).
func AssertSessions(t *testing.T, store commands.Store, want map[string]bool) {
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

// AssertEvents fails unless log holds exactly want, in order.
func AssertEvents(t *testing.T, log EventLog, want ...domain.Event) {
	t.Helper()
	got, err := log(t.Context())
	if err != nil {
		t.Fatalf("reading the event log: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events =\n %+v\nwant\n %+v", got, want)
	}
}
