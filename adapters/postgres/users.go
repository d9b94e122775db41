package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/example/accounts/domain"
)

// users is commands.Users on the pool or on one transaction (bun.IDB is either).
// lockRows makes reads SELECT … FOR UPDATE; it is set inside transactions only, where
// the lock lasts until commit.
type users struct {
	db       bun.IDB
	lockRows bool
}

func (r users) Add(ctx context.Context, u *domain.User) error {
	_, err := r.db.NewInsert().Model(newUserRow(u)).Exec(ctx)
	return mapError("add user", err)
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

// Update writes every column that can change after creation; id, username and
// created_at never do.
func (r users) Update(ctx context.Context, u *domain.User) error {
	res, err := r.db.NewUpdate().
		Model(newUserRow(u)).
		Column("password_hash", "password_changed_at", "role", "is_active", "updated_at").
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
	return nil
}

// isUUID reports whether id can name a user at all. Anything else is simply not
// found, rather than a database error about a malformed uuid.
func isUUID(id string) bool {
	// uuid.Parse also takes forms PostgreSQL refuses (urn:uuid:…); only the
	// canonical 36 characters are passed on.
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}
