package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Config says how to reach the database.
type Config struct {
	// URL is a PostgreSQL connection URL, postgres://user:password@host:port/name?….
	URL string
	// MaxOpenConns bounds the connection pool; 0 leaves it unbounded. Migrations hold
	// one connection for their lock while they work on another, so a bound below 2 is
	// raised to 2.
	MaxOpenConns int
	// CreateIfMissing creates the database when it does not exist, so that a fresh
	// environment needs no manual step before the first start.
	CreateIfMissing bool
	// StatementTimeout is the server's statement_timeout on every connection: the
	// longest one statement may run before PostgreSQL cancels it. A request that
	// gives up does not stop its statement on the server (the driver only drops the
	// connection), so this is what bounds the work a slow query costs the database.
	// 0 leaves the server's setting.
	StatementTimeout time.Duration
	// IdleInTransactionTimeout is the server's idle_in_transaction_session_timeout:
	// a connection that sits in an open transaction without a statement for that
	// long is closed by PostgreSQL, its transaction rolled back and its locks
	// released, so that a process that hangs (or a network that drops it without a
	// word) cannot hold rows locked for longer. 0 leaves the server's setting.
	IdleInTransactionTimeout time.Duration
}

// ForMigrations is c for the connection that migrates the schema: one at a time, and
// without the statement timeouts, which a migration (an index build on a large
// table) or its wait for another instance's migration lock may rightly exceed.
func (c Config) ForMigrations() Config {
	c.StatementTimeout, c.IdleInTransactionTimeout = 0, 0
	c.MaxOpenConns = 2
	return c
}

// Open connects to the database and checks that it answers. Its errors never quote
// the URL, which holds the password.
func Open(ctx context.Context, cfg Config) (*bun.DB, error) {
	connConfig, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's parse error quotes the URL, masking the password only on a best-effort
		// basis, so none of it is passed on.
		return nil, errors.New("postgres: the database URL cannot be parsed")
	}
	// bun writes every value into the SQL text itself, so almost every statement text
	// is new. pgx's default mode would prepare and cache each one: a second round
	// trip per query, for statements that are never reused.
	connConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// Sent in the startup message: set on every connection at no round trip.
	setRuntimeParam(connConfig, "statement_timeout", cfg.StatementTimeout)
	setRuntimeParam(connConfig, "idle_in_transaction_session_timeout", cfg.IdleInTransactionTimeout)

	db := newDB(connConfig, cfg.MaxOpenConns)
	err = db.PingContext(ctx)
	if sqlState(err) == invalidCatalogName && cfg.CreateIfMissing {
		if err = createDatabase(ctx, connConfig); err == nil {
			err = db.PingContext(ctx)
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, mapError(fmt.Sprintf("open database %q", connConfig.Database), err)
	}
	return db, nil
}

// setRuntimeParam sets a server setting in milliseconds, unless d is 0. A setting
// the URL already names (?statement_timeout=…) is overridden: the configuration
// says what the service relies on.
func setRuntimeParam(connConfig *pgx.ConnConfig, name string, d time.Duration) {
	if d > 0 {
		connConfig.RuntimeParams[name] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
	}
}

// Ping tells the readiness probe whether the database answers.
func Ping(ctx context.Context, db *bun.DB) error {
	return mapError("ping", db.PingContext(ctx))
}

func newDB(connConfig *pgx.ConnConfig, maxOpenConns int) *bun.DB {
	sqldb := stdlib.OpenDB(*connConfig)
	if maxOpenConns > 0 {
		n := max(maxOpenConns, 2)
		sqldb.SetMaxOpenConns(n)
		// Keep the whole pool open between bursts instead of database/sql's default
		// of two idle connections, which would reconnect on every burst.
		sqldb.SetMaxIdleConns(n)
	}
	return bun.NewDB(sqldb, pgdialect.New())
}

// createDatabase creates the database connConfig names, connected to the server's
// "postgres" database, which always exists. Another process creating it at the same
// moment is no error: either way, the database is there. PostgreSQL reports that
// race as duplicate_database or, when both creations overlap, as a unique violation
// in its catalog.
func createDatabase(ctx context.Context, connConfig *pgx.ConnConfig) error {
	admin := connConfig.Copy()
	admin.Database = "postgres"
	db := stdlib.OpenDB(*admin)
	defer func() { _ = db.Close() }()

	_, err := db.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{connConfig.Database}.Sanitize())
	switch state := sqlState(err); {
	case err == nil, state == duplicateDatabase, state == uniqueViolation:
		return nil
	default:
		return fmt.Errorf("create database: %w", err)
	}
}
