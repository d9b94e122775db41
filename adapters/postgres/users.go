package postgres

import (
	"context"
	"database/sql"
	"errors"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/example/accounts/domain"
)

// users is commands.Users on the pool or on one transaction (bun.IDB is either).
// Inside a transaction, tx is that transaction and outbox receives the events of
// every user written; lockRows makes reads SELECT … FOR UPDATE, a lock that lasts
// until commit.
type users struct {
	db       bun.IDB
	tx       *sql.Tx
	outbox   Outbox
	lockRows bool
}

// errWriteOutsideTx refuses a user write on the pool: its events could not be
// written with it. It is a bug of the caller, never a client's doing.
var errWriteOutsideTx = errors.New("postgres: a user is written inside InTx only, with its events")

func (r users) Add(ctx context.Context, u *domain.User) error {
	if r.tx == nil {
		return errWriteOutsideTx
	}
	if _, err := r.db.NewInsert().Model(newUserRow(u)).Exec(ctx); err != nil {
		return mapError("add user", err)
	}
	return r.writeEvents(ctx, u)
}

// writeEvents puts the events u recorded in the outbox, in this transaction.
func (r users) writeEvents(ctx context.Context, u *domain.User) error {
	return mapError("write events", r.outbox.Write(ctx, r.tx, u.PopEvents()))
}

func (r users) Get(ctx context.Context, id string) (*domain.User, error) {
	if !isUUID(id) {
		return nil, domain.ErrNotFound
	}
	return r.getBy(ctx, "get user", "id", id)
}

func (r users) GetByUsername(ctx context.Context, username string) (*domain.User, error) {
	return r.getBy(ctx, "get user by username", "username", username)
}

func (r users) getBy(ctx context.Context, op, column, value string) (*domain.User, error) {
	var row userRow
	q := r.db.NewSelect().Model(&row).Where("? = ?", bun.Ident(column), value)
	if r.lockRows {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, mapError(op, err)
	}
	return row.toDomain(), nil
}

// Update writes every column that can change after creation, and the events of
// the changes; id, username and created_at never change.
func (r users) Update(ctx context.Context, u *domain.User) error {
	if r.tx == nil {
		return errWriteOutsideTx
	}
	res, err := r.db.NewUpdate().
		Model(newUserRow(u)).
		Column("password_hash", "password_changed_at", "role", "is_active", "updated_at", "version", "sessions_valid_from").
		WherePK().
		Exec(ctx)
	if err != nil {
		return mapError("update user", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mapError("update user", err)
	}
	if n == 0 {
		return domain.ErrNotFound
	}
	return r.writeEvents(ctx, u)
}

// isUUID reports whether id can name a user at all. Anything else is simply not
// found, rather than a database error about a malformed uuid.
func isUUID(id string) bool {
	// uuid.Parse also takes forms PostgreSQL refuses (urn:uuid:…); only the
	// canonical 36 characters are passed on.
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}
