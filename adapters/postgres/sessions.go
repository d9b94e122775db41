package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/example/accounts/domain"
)

// sessions is commands.Sessions on the pool or on one transaction. sql is the same
// pool or transaction without bun, for the statement every request runs.
type sessions struct {
	db  bun.IDB
	sql queryRower
}

// queryRower is what *sql.DB and *sql.Tx share.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// prepared asks pgx to prepare a statement once per connection and reuse it, for
// the few statements every request runs: bun writes values into the SQL text, so
// its statements cannot be reused and the pool runs them unprepared.
var prepared = pgx.QueryExecModeCacheStatement

// storedID is what the sessions table holds for a session id: its SHA-256, in hex.
// The id is the session's bearer secret, so a read of the table (a backup, a
// replica, an injected SELECT) must not hand out working sessions; every method
// takes the id and hashes it here, and no id ever reaches the database. A plain
// hash is enough: the ids are 256 random bits, which neither a salt nor a slow hash
// would make harder to guess. Migration 20261130110000_hash_session_ids computes
// the same in SQL for the rows it converts.
func storedID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (r sessions) Add(ctx context.Context, s *domain.Session) error {
	row := newSessionRow(s)
	row.ID = storedID(s.ID)
	_, err := r.db.NewInsert().Model(row).Exec(ctx)
	return mapError("add session", err)
}

// getWithUser is the one statement authentication runs: the session and its user,
// prepared once per connection. It leaves out the session's id: the row holds only
// its hash, and the caller already has the id.
const getWithUser = `
	SELECT s.user_id, s.user_version, s.created_at, s.expires_at, s.absolute_expires_at,
	       u.username, u.password_hash, u.password_changed_at, u.role, u.is_active,
	       u.created_at, u.updated_at, u.version, u.sessions_valid_from
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.id = $1`

// GetWithUser joins the user in the same statement: it runs on every
// authenticated request, and one round trip is half the latency of two.
func (r sessions) GetWithUser(ctx context.Context, id string) (*domain.Session, *domain.User, error) {
	ctx, span := querySpan(ctx, "SELECT", "sessions", getWithUser)
	var s sessionRow
	var u userRow
	err := r.sql.QueryRowContext(ctx, getWithUser, prepared, storedID(id)).Scan(
		&s.UserID, &s.UserVersion, &s.CreatedAt, &s.ExpiresAt, &s.AbsoluteExpiresAt,
		&u.Username, &u.PasswordHash, &u.PasswordChangedAt, &u.Role, &u.IsActive,
		&u.CreatedAt, &u.UpdatedAt, &u.Version, &u.SessionsValidFrom)
	endQuery(span, err)
	if err != nil {
		return nil, nil, mapError("get session", err)
	}
	s.ID, u.ID = id, s.UserID
	return s.toDomain(), u.toDomain(), nil
}

// Extend of a session that is gone is no error, like Delete: it was ended
// concurrently (a logout), and the next request finds it gone.
func (r sessions) Extend(ctx context.Context, id string, expiresAt time.Time) error {
	_, err := r.db.NewUpdate().
		Model((*sessionRow)(nil)).
		Set("expires_at = ?", expiresAt.UTC()).
		Where("id = ?", storedID(id)).
		Exec(ctx)
	return mapError("extend session", err)
}

func (r sessions) Delete(ctx context.Context, id string) (int, error) {
	res, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("id = ?", storedID(id)).
		Exec(ctx)
	return deleted("delete session", res, err)
}

func (r sessions) DeleteIfExpired(ctx context.Context, id string, now time.Time) (int, error) {
	res, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("id = ?", storedID(id)).
		Where("expires_at <= ?", now.UTC()).
		Exec(ctx)
	return deleted("delete expired session", res, err)
}

func (r sessions) DeleteByUser(ctx context.Context, userID, keep string) (int, error) {
	q := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("user_id = ?", userID)
	if keep != "" {
		q = q.Where("id <> ?", storedID(keep))
	}
	res, err := q.Exec(ctx)
	return deleted("delete sessions of user", res, err)
}

// deleted is how many rows a DELETE removed.
func deleted(op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, mapError(op, err)
	}
	n, err := res.RowsAffected()
	return int(n), mapError(op, err)
}

func (r sessions) DeleteBefore(ctx context.Context, userID string, version int64) (int, error) {
	res, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("user_id = ?", userID).
		Where("user_version < ?", version).
		Exec(ctx)
	return deleted("delete sessions of user before version", res, err)
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
	return deleted("delete expired sessions", res, err)
}

// DeleteOldest runs in the login's transaction, which holds the user's row lock, so
// concurrent logins of one user trim in turn. Beyond keep, the live sessions past the
// newest limit-1 go, and the user's expired ones with them: they count for nothing.
// A user has about limit sessions, found on the user_id index.
func (r sessions) DeleteOldest(ctx context.Context, userID, keep string, now time.Time, limit int) (int, error) {
	keepID, now := storedID(keep), now.UTC()
	beyond := r.db.NewSelect().
		Model((*sessionRow)(nil)).
		Column("id").
		Where("user_id = ?", userID).
		Where("id <> ?", keepID).
		Where("expires_at > ?", now).
		OrderExpr("created_at DESC, id DESC").
		Offset(int64(max(limit-1, 0)))
	res, err := r.db.NewDelete().
		Model((*sessionRow)(nil)).
		Where("user_id = ?", userID).
		Where("id <> ?", keepID).
		WhereGroup(" AND ", func(q *bun.DeleteQuery) *bun.DeleteQuery {
			return q.Where("expires_at <= ?", now).WhereOr("id IN (?)", beyond)
		}).
		Exec(ctx)
	return deleted("delete oldest sessions of user", res, err)
}
