package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/domain"
)

func TestOpenCreatesAMissingDatabase(t *testing.T) {
	t.Parallel()
	// Mixed case and a hyphen: created unquoted, the name would be folded to lower
	// case or refused.
	dbURL := reserveURLNamed(t, "Mixed-Case_"+rand.Text())

	if _, err := postgres.Open(t.Context(), postgres.Config{URL: dbURL}); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Open of a missing database without CreateIfMissing: got %v, want unavailable", err)
	}

	// Several instances starting at once all find the database there.
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), postgres.Config{URL: dbURL, CreateIfMissing: true})
			if err == nil {
				err = postgres.Ping(t.Context(), db)
				_ = db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Open with CreateIfMissing: %v", err)
		}
	}
}

// reserveURLNamed is pgtest.ReserveURL with a chosen name, dropped when the test
// ends.
func reserveURLNamed(t *testing.T, name string) string {
	t.Helper()
	u, err := url.Parse(pgtest.AdminURL())
	if err != nil {
		t.Fatalf("admin URL: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background() // the test's own context is over by now
		admin, err := postgres.Open(ctx, postgres.Config{URL: pgtest.AdminURL()})
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer func() { _ = admin.Close() }()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// The configured timeouts are the server's own settings on every connection, the
// URL's notwithstanding, and the migrations' connection has none.
func TestOpenSetsTheStatementTimeouts(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	withParam, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := withParam.Query()
	q.Set("statement_timeout", "1")
	withParam.RawQuery = q.Encode()
	cfg := postgres.Config{
		URL:                      withParam.String(),
		MaxOpenConns:             8,
		StatementTimeout:         1500 * time.Millisecond,
		IdleInTransactionTimeout: 20 * time.Second,
	}
	show := func(cfg postgres.Config) (statement, idle string) {
		db, err := postgres.Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = db.Close() }()
		if err := db.QueryRowContext(t.Context(),
			"SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')").
			Scan(&statement, &idle); err != nil {
			t.Fatal(err)
		}
		return statement, idle
	}
	if statement, idle := show(cfg); statement != "1500ms" || idle != "20s" {
		t.Errorf("service connection: statement_timeout %s, idle_in_transaction_session_timeout %s; want 1500ms, 20s", statement, idle)
	}
	migrations := cfg.ForMigrations()
	migrations.URL = dbURL
	if statement, idle := show(migrations); statement != "0" || idle != "0" {
		t.Errorf("migration connection: statement_timeout %s, idle_in_transaction_session_timeout %s; want 0, 0", statement, idle)
	}
}

// A statement that runs past statement_timeout (here, waiting for a lock another
// connection holds) is cancelled by the server and reported as the database being
// unavailable (503, retry), and the pool goes on.
func TestStatementTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	db, err := postgres.Open(t.Context(), postgres.Config{URL: dbURL, MaxOpenConns: 2, StatementTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	locker, err := postgres.Open(t.Context(), postgres.Config{URL: dbURL, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = locker.Close() }()
	tx, err := locker.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}

	reader := postgres.NewUserReader(db)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = reader.User(ctx, "0190a8b2-7c3e-7d41-9a8e-5f2b6c1d3e4f")
	if !errors.Is(err, domain.ErrUnavailable) || ctx.Err() != nil {
		t.Errorf("a read blocked past statement_timeout: %v, want unavailable well before 5s", err)
	}
	_ = tx.Rollback()
	if _, err := reader.User(ctx, "0190a8b2-7c3e-7d41-9a8e-5f2b6c1d3e4f"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("the pool after a cancelled statement: %v, want not found", err)
	}
}

// A transaction left idle past idle_in_transaction_session_timeout is rolled back
// by the server, its locks released, and the pool goes on with a new connection.
func TestIdleTransactionIsEndedByTheServer(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(t.Context(), postgres.Config{URL: pgtest.NewURL(t), MaxOpenConns: 2, IdleInTransactionTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := tx.Commit(); err == nil {
		t.Fatal("a transaction idle for 1s committed under a 200ms idle_in_transaction_session_timeout")
	}
	// The lock is gone: another connection reads the table at once.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Errorf("after the idle transaction ended: %v", err)
	}
}
