package postgres

import (
	"context"
	"fmt"
	"slices"
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

// totalSQL reads the count of all users that the triggers on users keep (see
// migrations): a sum over a fixed number of slots, whatever the size of the table.
const totalSQL = "SELECT sum(n)::bigint FROM user_count"

// Users reads one page of users and the count of all of them. Every page is read off
// the index of its sort order: the first page and a page after a position as one
// range of it, from its start or from the position; a page at an offset by paging
// the ids on the index first and reading only the rows of the page (a deferred join),
// so that what it skips costs index entries rather than rows, and from the nearer
// end of the index. The count comes with the page, in one query; a page at an
// offset reads it first, to know the nearer end, and a page past the end has no
// rows to carry it.
func (r *UserReader) Users(ctx context.Context, q queries.ListUsers) ([]queries.UserView, int, error) {
	order, err := newSortOrder(q)
	if err != nil {
		return nil, 0, err
	}
	limit, offset := int64(q.Limit), int64(q.Offset)
	reversed := false

	var rows []userViewRow
	query := r.db.NewSelect().
		Model(&rows).
		ColumnExpr("?TableColumns").
		ColumnExpr("(" + totalSQL + ") AS total")
	switch {
	case q.After != nil:
		query = query.Apply(order.after("u", *q.After), order.by("u")).Limit(limit)
	case offset > 0:
		total, err := r.total(ctx)
		if err != nil {
			return nil, 0, err
		}
		if offset >= total {
			return []queries.UserView{}, int(total), nil
		}
		// A page past the middle is read from the other end of the index, so
		// that the rows skipped are those after it: the last page of a long list
		// costs what the first does. The rows come back in the reverse order.
		if offset > total/2 {
			reversed = true
			order = order.reversed()
			limit, offset = min(limit, total-offset), max(total-offset-limit, 0)
		}
		// Only the order's own columns, which its index holds: the rows the
		// offset skips cost index entries, not rows (none are read once the
		// table is vacuumed).
		keys := r.db.NewSelect().Table("users").Column(order.keyColumns()...).
			Apply(order.by("users")).Limit(limit).Offset(offset)
		query = query.Join("JOIN (?) AS page ON page.? = u.?", keys, order.key(), order.key()).Apply(order.by("page"))
	default:
		query = query.Apply(order.by("u")).Limit(limit)
	}
	if err := query.Scan(ctx); err != nil {
		return nil, 0, mapError("list users", err)
	}

	if len(rows) == 0 {
		total, err := r.total(ctx)
		return []queries.UserView{}, int(total), err
	}
	if reversed {
		slices.Reverse(rows)
	}
	page := make([]queries.UserView, len(rows))
	for i := range rows {
		page[i] = rows[i].toView()
	}
	return page, rows[0].Total, nil
}

// total reads the count of all users on its own, for a page that has no row to
// carry it or needs it before it is read.
func (r *UserReader) total(ctx context.Context) (int64, error) {
	var total int64
	if err := r.db.NewRaw(totalSQL).Scan(ctx, &total); err != nil {
		return 0, mapError("count users", err)
	}
	return total, nil
}

// sortOrder is one order of the user list as SQL: by its column and then by id, all
// in one direction, so that one index, read forwards or backwards, serves the order,
// the condition of a position and the paging of ids. Username is unique: an id after
// it would never decide anything, and would keep the order off the username's index,
// which has no id.
type sortOrder struct {
	field      queries.SortField
	column     string
	byID       bool
	descending bool
}

func newSortOrder(q queries.ListUsers) (sortOrder, error) {
	column, ok := sortColumns[q.SortField]
	if !ok {
		return sortOrder{}, fmt.Errorf("postgres: list users: unknown sort field %q", q.SortField)
	}
	return sortOrder{
		field:      q.SortField,
		column:     column,
		byID:       q.SortField != queries.SortByUsername,
		descending: q.Descending,
	}, nil
}

// reversed is the same order, the other way round.
func (o sortOrder) reversed() sortOrder {
	o.descending = !o.descending
	return o
}

// key is the column that names a row of the order: the id, or the username, which
// is unique and the whole order by itself.
func (o sortOrder) key() bun.Ident {
	if o.byID {
		return bun.Ident("id")
	}
	return bun.Ident(o.column)
}

// keyColumns are the order's columns, for a select of them alone.
func (o sortOrder) keyColumns() []string {
	if o.byID {
		return []string{o.column, "id"}
	}
	return []string{o.column}
}

// columns are the order's columns of table.
func (o sortOrder) columns(table string) []bun.Ident {
	columns := []bun.Ident{bun.Ident(table + "." + o.column)}
	if o.byID {
		columns = append(columns, bun.Ident(table+".id"))
	}
	return columns
}

// by sorts a query by the order's columns of table.
func (o sortOrder) by(table string) func(*bun.SelectQuery) *bun.SelectQuery {
	direction := bun.Safe("ASC")
	if o.descending {
		direction = bun.Safe("DESC")
	}
	return func(query *bun.SelectQuery) *bun.SelectQuery {
		for _, column := range o.columns(table) {
			query = query.OrderExpr("? ?", column, direction)
		}
		return query
	}
}

// after keeps the rows of table that come after p in the order. It compares the
// columns as one row value, (updated_at, id) > (…, …), which the index reads as a
// single range beginning at p.
func (o sortOrder) after(table string, p queries.Position) func(*bun.SelectQuery) *bun.SelectQuery {
	comparison := bun.Safe(">")
	if o.descending {
		comparison = bun.Safe("<")
	}
	key := []any{p.Key(o.field)}
	if o.byID {
		key = append(key, p.ID)
	}
	return func(query *bun.SelectQuery) *bun.SelectQuery {
		return query.Where("? ? ?", bun.Tuple(o.columns(table)), comparison, bun.Tuple(key))
	}
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

	// Total is the list query's count of every user, whatever the page.
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
