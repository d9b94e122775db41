package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

const password = "s3cret-Passw0rd"

func TestOpenUnreachableServerIsUnavailable(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), postgres.Config{
		URL: "postgres://postgres:" + password + "@127.0.0.1:1/accounts?sslmode=disable&connect_timeout=5",
	})
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("got %v, want unavailable", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Fatalf("error text reveals the password: %q", err)
	}
}

func TestOpenBadURLDoesNotRevealThePassword(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(t.Context(), postgres.Config{
		URL: "postgres://postgres:" + password + "@127.0.0.1:notaport/accounts",
	})
	if err == nil {
		t.Fatal("Open accepted a malformed URL")
	}
	if strings.Contains(err.Error(), password) {
		t.Fatalf("error text reveals the password: %q", err)
	}
}

func TestClosedDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	store, reader := newStore(db), postgres.NewUserReader(db)

	for name, call := range map[string]func() error{
		"Ping":      func() error { return postgres.Ping(ctx, db) },
		"Users.Get": func() error { _, err := store.Users().Get(ctx, "01900000-0000-7000-8000-000000000001"); return err },
		"Sessions.Add": func() error {
			return store.Sessions().Add(ctx, commandstest.NewSession("s", commandstest.UserID(1), 0))
		},
		"InTx": func() error { return store.InTx(ctx, nil) },
		"UserReader.Users": func() error {
			_, _, err := reader.Users(ctx, queries.ListUsers{Limit: 1, SortField: queries.SortByUsername})
			return err
		},
	} {
		if err := call(); !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s: got %v, want unavailable", name, err)
		}
	}
}

func TestCancelledContextPassesThrough(t *testing.T) {
	t.Parallel()
	store := newStore(pgtest.New(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := store.Users().Get(ctx, commandstest.UserID(1))
	if !errors.Is(err, context.Canceled) || errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("got %v, want the cancellation", err)
	}
}
