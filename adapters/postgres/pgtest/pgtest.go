package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/example/accounts/adapters/postgres"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// timeout bounds each step against the server, so that a hung server fails the test
// instead of hanging the whole run.
const timeout = 30 * time.Second

// AdminURL is the URL tests create their databases through: $TEST_DATABASE_URL, or
// the local server.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultAdminURL
}

// New returns an open database with the whole schema applied, closed and dropped
// when the test ends.
func New(t testing.TB) *bun.DB {
	t.Helper()
	dbURL := NewURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// A test needs a few connections at most; bounding them keeps many parallel
	// tests under the server's max_connections.
	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL, MaxOpenConns: 4})
	if err != nil {
		t.Fatalf("pgtest: open the test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// NewURL creates a database with the whole schema applied and returns its URL, for
// tests that start the whole program on it. It is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	name, dbURL := reserve(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	if err := onAdmin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create the test database: %v", err)
	}
	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatalf("pgtest: open the test database: %v", err)
	}
	defer func() { _ = db.Close() }()
	if _, err := postgres.MigrateUp(ctx, postgres.NewMigrator(db)); err != nil {
		t.Fatalf("pgtest: migrate the test database: %v", err)
	}
	return dbURL
}

// ReserveURL returns the URL of a database that does not exist yet, under a unique
// name, and drops it when the test ends if anything created it: for tests of
// creating and migrating databases.
func ReserveURL(t testing.TB) string {
	t.Helper()
	_, dbURL := reserve(t)
	return dbURL
}

// reserve picks a unique database name (test_<random hex>) and its URL on the admin
// URL's server, checks that the server answers, and drops the database at cleanup.
func reserve(t testing.TB) (name, dbURL string) {
	t.Helper()
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatal("pgtest: TEST_DATABASE_URL must be a postgres:// URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := onAdmin(ctx, "SELECT 1"); err != nil {
		t.Fatalf("pgtest: PostgreSQL is unreachable at %s (set TEST_DATABASE_URL to a reachable server): %v",
			u.Redacted(), err)
	}

	name = "test_" + randomHex()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		// FORCE ends connections the test left open, which would block the drop.
		if err := onAdmin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop the test database: %v", err)
		}
	})
	u.Path = "/" + name
	return name, u.String()
}

// onAdmin runs one statement on the admin URL's database.
func onAdmin(ctx context.Context, statement string) error {
	admin, err := postgres.Open(ctx, postgres.Config{URL: AdminURL(), MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer func() { _ = admin.Close() }()
	_, err = admin.ExecContext(ctx, statement)
	return err
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}
