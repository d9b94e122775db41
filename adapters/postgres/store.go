package postgres

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// Outbox writes the events a change recorded in the transaction of that change.
type Outbox interface {
	Write(ctx context.Context, tx *sql.Tx, events []domain.Event) error
}

// Store is commands.Store on PostgreSQL. Its own repositories work on the pool, one
// statement at a time; InTx hands out repositories bound to one transaction.
type Store struct {
	db     *bun.DB
	outbox Outbox
}

// NewStore returns a Store on db whose user writes put their events in outbox.
func NewStore(db *bun.DB, outbox Outbox) *Store {
	return &Store{db: db, outbox: outbox}
}

// Users returns the users repository outside any transaction, where it can read
// but not write: a user is saved with its events, in one transaction.
func (s *Store) Users() commands.Users { return users{db: s.db} }

// Sessions returns the sessions repository outside any transaction.
func (s *Store) Sessions() commands.Sessions { return sessions{db: s.db, sql: s.db.DB} }

// InTx runs fn in one transaction. fn's own error comes back as it is (it is already
// a domain error or a mapped one); only a failure to begin or commit is mapped here.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx commands.Repositories) error) error {
	fnFailed := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := fn(ctx, txRepositories{tx: tx, outbox: s.outbox})
		fnFailed = err != nil
		return err
	})
	if fnFailed {
		return err
	}
	return mapError("transaction", err)
}

// txRepositories are the repositories of one transaction. Their reads of a user lock
// its row until commit, so that concurrent changes to one user queue up instead of
// overwriting each other.
type txRepositories struct {
	tx     bun.Tx
	outbox Outbox
}

func (r txRepositories) Users() commands.Users {
	return users{db: r.tx, tx: r.tx.Tx, outbox: r.outbox, lockRows: true}
}
func (r txRepositories) Sessions() commands.Sessions { return sessions{db: r.tx, sql: r.tx.Tx} }
