package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"sync"
	"testing"

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
