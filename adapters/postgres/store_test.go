package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
)

var _ commands.Store = (*postgres.Store)(nil)

// A Get inside a transaction locks the row: a second transaction's Get waits for the
// first to commit, then reads what it wrote.
func TestGetInTxLocksTheRow(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(db)
	ctx := t.Context()
	addUser(t, store, newUser(1, "alice", domain.RoleUser))

	locked, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- store.InTx(ctx, func(ctx context.Context, tx commands.Repositories) error {
			u, err := tx.Users().Get(ctx, commandstest.UserID(1))
			if err != nil {
				return err
			}
			close(locked)
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			u.SetRole(domain.RoleAdmin, "", commandstest.At(1))
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
			r.u, r.err = tx.Users().Get(ctx, commandstest.UserID(1))
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
	if r.u.Role() != domain.RoleAdmin {
		t.Fatalf("second Get read role %q, want the first transaction's committed %q", r.u.Role(), domain.RoleAdmin)
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

func TestDeletingAUserDeletesItsSessions(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(db)
	ctx := t.Context()
	alice := addUser(t, store, newUser(1, "alice", domain.RoleUser))
	if err := store.Sessions().Add(ctx, commandstest.NewSession("a1", alice.ID(), 0)); err != nil {
		t.Fatalf("Add session: %v", err)
	}

	if _, err := db.NewDelete().Table("users").Where("id = ?", alice.ID()).Exec(ctx); err != nil {
		t.Fatalf("delete user: %v", err)
	}
	commandstest.AssertSessions(t, store, map[string]bool{"a1": false})
}

// The session lookup, which every authenticated request runs, is prepared once per
// connection and reused, not parsed and planned each time.
func TestSessionLookupIsPreparedOnce(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(t.Context(), postgres.Config{URL: pgtest.NewURL(t), MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, so that the check below sees its statements
	store := newStore(db)
	alice := addUser(t, store, newUser(1, "alice", domain.RoleUser))
	if err := store.Sessions().Add(t.Context(), commandstest.NewSession("a1", alice.ID(), 0)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, _, err := store.Sessions().GetWithUser(t.Context(), "a1"); err != nil {
			t.Fatal(err)
		}
	}
	var prepared int
	err = db.NewRaw(`SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM sessions s JOIN users u%'`).Scan(t.Context(), &prepared)
	if err != nil || prepared != 1 {
		t.Errorf("%d prepared session lookups on the connection (%v), want 1", prepared, err)
	}
}

// The sessions table keeps a hash of each session id, never the id: what a read of
// the table hands out names no session, and the id still finds its session.
func TestSessionIDsAreNotStored(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(db)
	ctx := t.Context()
	alice := addUser(t, store, newUser(1, "alice", domain.RoleUser))
	const id = "Qn4Yh0vX3m9kTz2LwE5rJc8aUd1sFp6bGi7oNy-_RtM"
	if err := store.Sessions().Add(ctx, commandstest.NewSession(id, alice.ID(), 0)); err != nil {
		t.Fatal(err)
	}

	stored := storedSessionIDs(t, db)
	sum := sha256.Sum256([]byte(id))
	// The hex SHA-256 is what the migration that hashed the existing rows wrote too.
	if len(stored) != 1 || strings.Contains(stored[0], id) || stored[0] != hex.EncodeToString(sum[:]) {
		t.Fatalf("sessions.id = %q, want only the hex SHA-256 of %q", stored, id)
	}
	if _, _, err := store.Sessions().GetWithUser(ctx, stored[0]); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("GetWithUser(the stored value) = %v, want not found", err)
	}
	s, u, err := store.Sessions().GetWithUser(ctx, id)
	if err != nil || s.ID != id || u.ID() != alice.ID() {
		t.Fatalf("GetWithUser(id) = %+v, %v, %v; want the session under its own id", s, u, err)
	}

	// Ending the session by its id reaches the row too.
	if _, err := store.Sessions().Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if stored := storedSessionIDs(t, db); len(stored) != 0 {
		t.Errorf("sessions.id = %q after Delete, want none", stored)
	}
}

// storedSessionIDs is the id column of the sessions table, read straight from it.
func storedSessionIDs(t *testing.T, db *bun.DB) []string {
	t.Helper()
	var ids []string
	if err := db.NewRaw("SELECT id FROM sessions ORDER BY id").Scan(t.Context(), &ids); err != nil {
		t.Fatal(err)
	}
	return ids
}
