package postgres

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/example/accounts/commands"
)

// Store is commands.Store on PostgreSQL. Its own repositories work on the pool, one
// statement at a time; InTx hands out repositories bound to one transaction.
type Store struct {
	db *bun.DB
}

// NewStore returns a Store on db.
func NewStore(db *bun.DB) *Store {
	return &Store{db: db}
}

// Users returns the users repository outside any transaction.
func (s *Store) Users() commands.Users { return users{db: s.db} }

// Sessions returns the sessions repository outside any transaction.
func (s *Store) Sessions() commands.Sessions { return sessions{db: s.db} }

// InTx runs fn in one transaction. fn's own error comes back as it is (it is already
// a domain error or a mapped one); only a failure to begin or commit is mapped here.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx commands.Repositories) error) error {
	fnFailed := false
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		err := fn(ctx, txRepositories{tx: tx})
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
	tx bun.Tx
}

func (r txRepositories) Users() commands.Users       { return users{db: r.tx, lockRows: true} }
func (r txRepositories) Sessions() commands.Sessions { return sessions{db: r.tx} }

// TxOf returns the transaction behind repositories that InTx handed to its function,
// so that other adapters (an outbox writing events) can write in the same
// transaction as the change they record. It reports false for any other
// Repositories, such as the Store itself.
func TxOf(r commands.Repositories) (bun.Tx, bool) {
	t, ok := r.(txRepositories)
	return t.tx, ok
}
