package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// UserReader is queries.UserReader and queries.UserLister on PostgreSQL.
type UserReader struct {
	db *bun.DB
}

// NewUserReader returns a UserReader on db.
func NewUserReader(db *bun.DB) *UserReader {
	return &UserReader{db: db}
}

// User reads one user.
func (r *UserReader) User(ctx context.Context, id string) (queries.UserView, error) {
	if !isUUID(id) {
		return queries.UserView{}, domain.ErrNotFound
	}
	var row userViewRow
	if err := r.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return queries.UserView{}, mapError("read user", err)
	}
	return row.toView(), nil
}

// sortColumns is the only way a sort order reaches SQL: a field that is not in it
// is refused, so no request text is ever written into a query.
var sortColumns = map[queries.SortField]string{
	queries.SortByUsername:  "username",
	queries.SortByRole:      "role",
	queries.SortByIsActive:  "is_active",
	queries.SortByCreatedAt: "created_at",
	queries.SortByUpdatedAt: "updated_at",
}

// Users reads one page of users and the count of all of them. Ties are broken by id
// in the same direction, so that pages never overlap or skip a user. The count comes
// with the page (count(*) over ()) in one query; a page past the end has no rows to
// carry it, and only then is it counted separately.
func (r *UserReader) Users(ctx context.Context, q queries.ListUsers) ([]queries.UserView, int, error) {
	column, ok := sortColumns[q.SortField]
	if !ok {
		return nil, 0, fmt.Errorf("postgres: list users: unknown sort field %q", q.SortField)
	}
	direction := bun.Safe("ASC")
	if q.Descending {
		direction = bun.Safe("DESC")
	}

	var rows []userViewRow
	err := r.db.NewSelect().
		Model(&rows).
		ColumnExpr("?TableColumns").
		ColumnExpr("count(*) OVER () AS total").
		OrderExpr("? ?, id ?", bun.Ident(column), direction, direction).
		Limit(int64(q.Limit)).
		Offset(int64(q.Offset)).
		Scan(ctx)
	if err != nil {
		return nil, 0, mapError("list users", err)
	}

	if len(rows) == 0 {
		total, err := r.db.NewSelect().Model((*userViewRow)(nil)).Count(ctx)
		if err != nil {
			return nil, 0, mapError("count users", err)
		}
		return []queries.UserView{}, int(total), nil
	}
	page := make([]queries.UserView, len(rows))
	for i := range rows {
		page[i] = rows[i].toView()
	}
	return page, rows[0].Total, nil
}

// userViewRow is a user as the read side selects it: queries never need the
// password hash, so they never read it.
type userViewRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID        string      `bun:"id,pk"`
	Username  string      `bun:"username"`
	Role      domain.Role `bun:"role"`
	IsActive  bool        `bun:"is_active"`
	CreatedAt time.Time   `bun:"created_at"`
	UpdatedAt time.Time   `bun:"updated_at"`

	// Total is the list query's count(*) over (): every user, whatever the page.
	Total int `bun:"total,scanonly"`
}

func (r *userViewRow) toView() queries.UserView {
	return queries.UserView{
		ID:        r.ID,
		Username:  r.Username,
		Role:      r.Role,
		IsActive:  r.IsActive,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
}
