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
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/example/accounts/domain"
)

// SQLSTATE codes this package reacts to (PostgreSQL manual, appendix A).
const (
	uniqueViolation          = "23505"
	invalidCatalogName       = "3D000" // the database does not exist
	duplicateDatabase        = "42P04"
	connectionExceptionClass = "08"
	adminShutdown            = "57P01"
	crashShutdown            = "57P02"
	cannotConnectNow         = "57P03"
	queryCanceled            = "57014" // statement_timeout, or a cancel request
)

// usernameConstraint is the unique constraint on users.username (see migrations):
// only a violation of it means "username taken". Any other unique violation would be
// a bug, and is reported as one.
const usernameConstraint = "users_username_key"

// errDBClosedText is the text of the error database/sql returns once the pool is
// closed, for instance to a request still running during shutdown. database/sql does
// not export that error, so its text is all there is to match.
const errDBClosedText = "sql: database is closed"

// unavailable is what a client is told when the database cannot be reached: a 503
// with a retry hint, and nothing of the driver's text.
func unavailable() *domain.Error {
	return domain.Unavailable("The database is unavailable; try again shortly.", 1*time.Second)
}

// mapError is the one place that looks inside driver errors; op names the operation
// for the logs. A cancelled context passes through unchanged: the caller gave up, so
// the failure is theirs, not the database's.
func mapError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return domain.ErrNotFound
	case isUsernameTaken(err):
		return domain.ErrUsernameTaken
	case isConnectionFailure(err):
		// The domain error is what callers match and clients see; the driver's text
		// stays in the message, for the logs.
		return fmt.Errorf("postgres: %s: %w (%v)", op, unavailable(), err)
	default:
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
}

func isUsernameTaken(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.ConstraintName == usernameConstraint
}

// isConnectionFailure reports failures of the connection rather than of the
// statement: the server is down, restarting, unreachable or too slow (a statement
// cancelled by statement_timeout), and the same request may well succeed a moment
// later.
func isConnectionFailure(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case adminShutdown, crashShutdown, cannotConnectNow, queryCanceled:
			return true
		}
		return strings.HasPrefix(pgErr.Code, connectionExceptionClass)
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), errDBClosedText)
}

// sqlState returns the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
