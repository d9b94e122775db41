package postgres

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/accounts/domain"
)

// sessions is commands.Sessions on the pool or on one transaction.
type sessions struct {
	db bun.IDB
}

func (r sessions) Add(ctx context.Context, s *domain.Session) error {
	_, err := r.db.NewInsert().Model(newSessionRow(s)).Exec(ctx)
	return mapError("add session", err)
}

// GetWithUser joins the user in the same query: it runs on every authenticated
// request, and one round trip is half the latency of two.
func (r sessions) GetWithUser(ctx context.Context, id string) (*domain.Session, *domain.User, error) {
	var row sessionRow
	err := r.db.NewSelect().
		Model(&row).
		Relation("User").
		Where("s.id = ?", id).
		Scan(ctx)
	if err != nil {
		return nil, nil, mapError("get session", err)
	}
	return row.toDomain(), row.User.toDomain(), nil
}

// Extend of a session that is gone is no error, like Delete: it was ended
// concurrently (a logout), and the next request finds it gone.
func (r sessions) Extend(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := r.db.NewUpdate().
		Model((*sessionRow)(nil)).
		Set("expires_at = ?", expiresAt.UTC()).
		Where("id = ?", id).
		Exec(ctx)
	return mapError("extend session", err)
}

func (r sessions) Delete(ctx context.Context, id string) error {
	_, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("id = ?", id).
		Exec(ctx)
	return mapError("delete session", err)
}

func (r sessions) DeleteByUser(ctx context.Context, userID, keep string) error {
	q := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("user_id = ?", userID)
	if keep != "" {
		q = q.Where("id <> ?", keep)
	}
	_, err := q.Exec(ctx)
	return mapError("delete sessions of user", err)
}

func (r sessions) DeleteBefore(ctx context.Context, userID string, version int64) (int, error) {
	res, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("user_id = ?", userID).
		Where("user_version < ?", version).
		Exec(ctx)
	if err != nil {
		return 0, mapError("delete sessions of user before version", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapError("delete sessions of user before version", err)
}

// DeleteExpired picks the oldest expired rows by the expires_at index and skips rows
// another transaction holds, so that two replicas purging at once split the work
// instead of queueing behind each other.
func (r sessions) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	expired := r.db.NewSelect().
		Model((*sessionRow)(nil)).
		Column("id").
		Where("expires_at <= ?", now.UTC()).
		OrderExpr("expires_at").
		Limit(int64(limit)).
		For("UPDATE SKIP LOCKED")
	res, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("id IN (?)", expired).
		Exec(ctx)
	if err != nil {
		return 0, mapError("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapError("delete expired sessions", err)
}
