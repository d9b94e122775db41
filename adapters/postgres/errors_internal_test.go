package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/example/accounts/domain"
)

func TestMapError(t *testing.T) {
	statementFailure := &pgconn.PgError{Code: "42P01", Message: `relation "nope" does not exist`}
	for _, tc := range []struct {
		name string
		err  error
		want error // matched with errors.Is
	}{
		{"no rows", sql.ErrNoRows, domain.ErrNotFound},
		{"username taken", &pgconn.PgError{Code: "23505", ConstraintName: "users_username_key"}, domain.ErrUsernameTaken},
		{"connection exception", &pgconn.PgError{Code: "08006"}, domain.ErrUnavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, domain.ErrUnavailable},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, domain.ErrUnavailable},
		{"starting up", &pgconn.PgError{Code: "57P03"}, domain.ErrUnavailable},
		{"bad connection", driver.ErrBadConn, domain.ErrUnavailable},
		{"connection done", sql.ErrConnDone, domain.ErrUnavailable},
		{"dropped connection", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), domain.ErrUnavailable},
		{"closed connection", io.EOF, domain.ErrUnavailable},
		{"deadline", fmt.Errorf("timeout: %w", context.DeadlineExceeded), domain.ErrUnavailable},
		{"network", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, domain.ErrUnavailable},
		{"closed pool", errors.New("sql: database is closed"), domain.ErrUnavailable},
		{"other statement failure", statementFailure, statementFailure},
		// A unique violation elsewhere is a bug, not a taken username.
		{"other unique violation", &pgconn.PgError{Code: "23505", ConstraintName: "sessions_pkey"}, nil},
	} {
		got := mapError("do something", tc.err)
		if tc.want != nil && !errors.Is(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if _, isDomain := domain.AsError(got); tc.want == nil && isDomain {
			t.Errorf("%s: got domain error %v, want an internal one", tc.name, got)
		}
	}
}

func TestMapErrorUnavailable(t *testing.T) {
	got := mapError("get user", driver.ErrBadConn)
	e, ok := domain.AsError(got)
	if !ok || e.Code != domain.CodeUnavailable || e.RetryAfter != time.Second {
		t.Fatalf("got %#v, want unavailable with a one-second retry hint", got)
	}
	if errors.Is(got, driver.ErrBadConn) {
		t.Error("the driver error is still wrapped")
	}
	if !strings.HasPrefix(got.Error(), "postgres: get user: ") {
		t.Errorf("text %q does not name the operation", got)
	}
}

func TestMapErrorWrapsOtherErrors(t *testing.T) {
	cause := errors.New("boom")
	got := mapError("update user", cause)
	if !errors.Is(got, cause) || got.Error() != "postgres: update user: boom" {
		t.Fatalf("got %q, want the cause wrapped with the operation", got)
	}
}

func TestMapErrorLetsCancellationThrough(t *testing.T) {
	canceled := fmt.Errorf("query: %w", context.Canceled)
	if got := mapError("get user", canceled); !errors.Is(got, context.Canceled) || got.Error() != canceled.Error() {
		t.Fatalf("got %v, want the cancellation unchanged", got)
	}
	if got := mapError("get user", nil); got != nil {
		t.Fatalf("mapError(nil) = %v", got)
	}
}
