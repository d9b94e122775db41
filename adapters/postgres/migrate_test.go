package postgres_test

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/migrations"
)

func TestMigrateUpStatusDownUp(t *testing.T) {
	t.Parallel()
	db := openEmpty(t)
	m := postgres.NewMigrator(db)
	ctx := t.Context()
	all := allMigrations()

	assertStatus(t, m, false)
	applied, err := postgres.MigrateUp(ctx, m)
	if err != nil || !slices.Equal(applied, all) {
		t.Fatalf("MigrateUp = %v, %v; want %v", applied, err, all)
	}
	assertStatus(t, m, true)
	if applied, err := postgres.MigrateUp(ctx, m); err != nil || len(applied) != 0 {
		t.Fatalf("second MigrateUp = %v, %v; want nothing to do", applied, err)
	}

	// The first run applied everything as one group, so down takes it all back,
	// the newest first.
	newestFirst := slices.Clone(all)
	slices.Reverse(newestFirst)
	if rolledBack, err := postgres.MigrateDown(ctx, m); err != nil || !slices.Equal(rolledBack, newestFirst) {
		t.Fatalf("MigrateDown = %v, %v; want %v", rolledBack, err, newestFirst)
	}
	assertStatus(t, m, false)
	if _, err := db.NewSelect().Table("users").Count(ctx); err == nil {
		t.Fatal("table users survived MigrateDown")
	}

	if applied, err := postgres.MigrateUp(ctx, m); err != nil || !slices.Equal(applied, all) {
		t.Fatalf("MigrateUp after MigrateDown = %v, %v; want %v", applied, err, all)
	}
	if _, err := db.NewSelect().Table("users", "sessions").Count(ctx); err != nil {
		t.Fatalf("the tables are not back after down and up: %v", err)
	}
}

// Instances starting at once, each with its own pool, migrate one after the other:
// every migration is applied exactly once, and none of them fails.
func TestConcurrentMigrateUp(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.ReserveURL(t)
	openEmptyAt(t, dbURL) // create the database

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied []string
	)
	for range 4 {
		db := openEmptyAt(t, dbURL)
		wg.Go(func() {
			names, err := postgres.MigrateUp(t.Context(), postgres.NewMigrator(db))
			if err != nil {
				t.Errorf("MigrateUp: %v", err)
			}
			mu.Lock()
			applied = append(applied, names...)
			mu.Unlock()
		})
	}
	wg.Wait()

	slices.Sort(applied)
	if want := allMigrations(); !slices.Equal(applied, want) {
		t.Fatalf("applied %v in total, want each of %v once", applied, want)
	}
}

func assertStatus(t *testing.T, m *migrate.Migrator, applied bool) {
	t.Helper()
	states, err := postgres.MigrationStatus(t.Context(), m)
	if err != nil {
		t.Fatalf("MigrationStatus: %v", err)
	}
	var want []postgres.MigrationState
	for _, name := range allMigrations() {
		want = append(want, postgres.MigrationState{Name: name, Applied: applied})
	}
	if !slices.Equal(states, want) {
		t.Fatalf("MigrationStatus = %v, want %v", states, want)
	}
}

func allMigrations() []string {
	var names []string
	for _, m := range migrations.Migrations.Sorted() {
		names = append(names, m.String())
	}
	return names
}

// openEmpty opens a new database without any schema.
func openEmpty(t *testing.T) *bun.DB {
	t.Helper()
	return openEmptyAt(t, pgtest.ReserveURL(t))
}

func openEmptyAt(t *testing.T, dbURL string) *bun.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), postgres.Config{URL: dbURL, MaxOpenConns: 3, CreateIfMissing: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestPasswordChangedAtBackfill: users created before password_changed_at existed
// get their updated_at, the latest moment their password can have changed.
func TestPasswordChangedAtBackfill(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()
	store := newStore(db)
	rec := userRecord(1, "old.timer", domain.RoleUser)
	rec.UpdatedAt = rec.CreatedAt.Add(time.Hour)
	addUser(t, store, domain.RestoreUser(rec))
	// Back to the schema before the migration, then the migration itself.
	runMigrationFile(t, db, "20261124120300_add_password_changed_at.tx.down.sql")
	runMigrationFile(t, db, "20261124120300_add_password_changed_at.tx.up.sql")
	got, err := store.Users().Get(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PasswordChangedAt().Equal(rec.UpdatedAt) {
		t.Errorf("password_changed_at = %v, want updated_at %v", got.PasswordChangedAt(), rec.UpdatedAt)
	}
}

// TestUserVersionsMigration: users from before versions start at version 1, and
// their sessions keep working: the migration logs nobody out.
func TestUserVersionsMigration(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()
	runMigrationFile(t, db, "20261130090000_add_user_versions.tx.down.sql")
	for _, statement := range []string{
		`INSERT INTO users (id, username, password_hash, password_changed_at, role, is_active, created_at, updated_at)
			VALUES ('` + commandstest.UserID(1) + `', 'old.timer', 'x', now(), 'user', true, now(), now())`,
		`INSERT INTO sessions (id, user_id, created_at, expires_at, absolute_expires_at)
			VALUES (encode(sha256('old-session'), 'hex'), '` + commandstest.UserID(1) + `', now(), now() + interval '1 hour', now() + interval '2 hours')`,
	} {
		if _, err := db.ExecContext(ctx, statement); err != nil {
			t.Fatal(err)
		}
	}
	runMigrationFile(t, db, "20261130090000_add_user_versions.tx.up.sql")

	s, u, err := newStore(db).Sessions().GetWithUser(ctx, "old-session")
	if err != nil {
		t.Fatal(err)
	}
	if u.Version() != 1 || !u.Accepts(s) {
		t.Errorf("after the migration: user %+v, session %+v; want version 1 and the session accepted", u.Record(), s)
	}
}

// TestHashSessionIDsMigration: sessions begun before the table kept hashes keep
// working after it, and none of them is left in the table by its id. Going back
// ends every session, since the ids cannot be recovered from their hashes.
func TestHashSessionIDsMigration(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()
	store := newStore(db)
	alice := addUser(t, store, newUser(1, "alice", domain.RoleUser))
	if err := store.Sessions().Add(ctx, commandstest.NewSession("hashed-session", alice.ID(), 0)); err != nil {
		t.Fatal(err)
	}

	runMigrationFile(t, db, "20261130110000_hash_session_ids.tx.down.sql")
	if n, err := db.NewSelect().Table("sessions").Count(ctx); err != nil || n != 0 {
		t.Fatalf("%d sessions left after the down migration (%v), want none", n, err)
	}
	const oldID = "Qn4Yh0vX3m9kTz2LwE5rJc8aUd1sFp6bGi7oNy-_RtM" // as the service issues them
	_, err := db.ExecContext(ctx, `INSERT INTO sessions (id, user_id, user_version, created_at, expires_at, absolute_expires_at)
		VALUES (?, ?, 1, now(), now() + interval '1 hour', now() + interval '2 hours')`, oldID, alice.ID())
	if err != nil {
		t.Fatal(err)
	}
	runMigrationFile(t, db, "20261130110000_hash_session_ids.tx.up.sql")

	s, u, err := store.Sessions().GetWithUser(ctx, oldID)
	if err != nil {
		t.Fatalf("the session begun before the migration: %v", err)
	}
	if s.ID != oldID || u.ID() != alice.ID() || !u.Accepts(s) {
		t.Errorf("after the migration: session %+v of user %s; want %s of %s, accepted", s, u.ID(), oldID, alice.ID())
	}
	if ids := storedSessionIDs(t, db); len(ids) != 1 || ids[0] == oldID {
		t.Errorf("sessions.id = %q after the migration, want only the hash of %q", ids, oldID)
	}
}

func runMigrationFile(t *testing.T, db *bun.DB, file string) {
	t.Helper()
	sql, err := os.ReadFile(filepath.Join("..", "..", "migrations", file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), string(sql)); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}
