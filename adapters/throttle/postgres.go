package throttle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

var (
	_ commands.LoginThrottle = (*PostgresLoginThrottle)(nil)
	_ commands.HashBudget    = (*PostgresHashBudget)(nil)
)

// The kinds of key, as stored in rate_limits.kind.
const (
	kindLoginAccount = "login_account"
	kindLoginAddr    = "login_addr"
	kindHashAddr     = "hash_addr"
)

const (
	// claimLifetime is how long an attempt in progress holds its place when the
	// process that made it dies without settling it. Far longer than any attempt
	// (the request timeout bounds those), short enough that a crash does not hold
	// a username's logins up for long.
	claimLifetime = time.Minute
	// settleTimeout bounds recording an attempt's outcome. It runs after the
	// request may have ended, so it cannot use the request's deadline.
	settleTimeout = 5 * time.Second
	// emptiedKeys bounds the buckets remembered as too empty: a few megabytes.
	emptiedKeys = 65536
	// Polling for attempts in progress to end starts at pollFirst and doubles up
	// to pollMax.
	pollFirst = 10 * time.Millisecond
	pollMax   = 200 * time.Millisecond
)

// limit is one kind of key's token bucket in the terms of the generic cell rate
// algorithm: a token comes back every step, and a full bucket holds
// capacity/step tokens.
type limit struct {
	kind     string
	step     time.Duration
	capacity time.Duration
}

func newLimit(kind string, perMinute, burst int) limit {
	if perMinute <= 0 {
		return limit{kind: kind}
	}
	step := time.Minute / time.Duration(perMinute)
	return limit{kind: kind, step: step, capacity: step * time.Duration(burst)}
}

func (l limit) on() bool { return l.step > 0 }

// deficit is how far from full a bucket that is full at fullAt is at now.
func deficit(fullAt, now time.Time) time.Duration {
	return max(fullAt.Sub(now), 0)
}

// emptied remembers, in this process, the buckets the database has found too empty
// for a request, by the time each is full at. Tokens only come back with time and
// other instances only take them, so a bucket is never fuller than remembered: a
// request the remembered bucket cannot serve is refused without asking the
// database, and a flood from one address costs it one round trip per refusal
// window, not one per request. A request it can serve asks the database.
type emptied struct {
	fullAt *lru.Cache[string, time.Time]
}

func newEmptied() emptied {
	fullAt, err := lru.New[string, time.Time](emptiedKeys)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return emptied{fullAt: fullAt}
}

// wait is how long until the remembered bucket of key holds cost more, or 0 when
// it may already (or nothing is remembered).
func (e emptied) wait(l limit, key string, cost time.Duration, now time.Time) time.Duration {
	fullAt, ok := e.fullAt.Get(cacheKey(l.kind, key))
	if !ok {
		return 0
	}
	if !fullAt.After(now) {
		e.fullAt.Remove(cacheKey(l.kind, key))
		return 0
	}
	return max(deficit(fullAt, now)+cost-l.capacity, 0)
}

func (e emptied) remember(l limit, key string, fullAt time.Time) {
	e.fullAt.Add(cacheKey(l.kind, key), fullAt)
}

func cacheKey(kind, key string) string { return kind + "\x00" + key }

// PostgresLoginThrottle is LoginThrottle's behaviour kept in PostgreSQL (the tables
// rate_limits and rate_limit_claims), so that the limits hold for every instance of
// the service together. now is the clock, as for LoginThrottle; the instances'
// clocks are assumed to agree within a small fraction of a refill step (seconds).
type PostgresLoginThrottle struct {
	db      *sql.DB
	now     func() time.Time
	logger  *zap.Logger
	account limit
	addr    limit
	emptied emptied
}

// NewPostgresLoginThrottle allows perMinuteIP failed logins a minute per client
// address and perMinuteAccount per username, each also as a burst; 0 turns that
// kind of key off.
func NewPostgresLoginThrottle(db *sql.DB, perMinuteIP, perMinuteAccount int, now func() time.Time, logger *zap.Logger) *PostgresLoginThrottle {
	return &PostgresLoginThrottle{
		db:      db,
		now:     now,
		logger:  logger,
		account: newLimit(kindLoginAccount, perMinuteAccount, perMinuteAccount),
		addr:    newLimit(kindLoginAddr, perMinuteIP, perMinuteIP),
		emptied: newEmptied(),
	}
}

// bucketKey is one key of one kind, as the tables name it.
type bucketKey struct {
	limit
	key string
}

// Begin is LoginThrottle.Begin, with the state in the database. Attempts in progress
// elsewhere are waited for by polling, since no process tells another when its
// attempt ends.
func (t *PostgresLoginThrottle) Begin(ctx context.Context, username, clientAddr string) (time.Duration, func(failed bool), error) {
	var keys []bucketKey
	if t.account.on() {
		keys = append(keys, bucketKey{t.account, username})
	}
	if t.addr.on() {
		keys = append(keys, bucketKey{t.addr, addrKey(clientAddr)})
	}
	if len(keys) == 0 {
		return 0, func(bool) {}, nil
	}
	// Always locked in the same order, so that two attempts never wait on each other.
	slices.SortFunc(keys, func(a, b bucketKey) int {
		return strings.Compare(a.kind+"\x00"+a.key, b.kind+"\x00"+b.key)
	})
	poll := pollFirst
	for {
		var wait time.Duration
		for _, k := range keys {
			wait = max(wait, t.emptied.wait(k.limit, k.key, k.step, t.now()))
		}
		if wait > 0 {
			return wholeSeconds(wait), nil, nil
		}
		wait, claims, err := t.tryBegin(ctx, keys)
		switch {
		case err != nil:
			return 0, nil, err
		case wait > 0:
			return wholeSeconds(wait), nil, nil
		case claims != nil:
			return 0, t.settler(ctx, keys, claims), nil
		}
		select {
		case <-time.After(poll):
			poll = min(2*poll, pollMax)
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// tryBegin is one look at the keys' limits, in one transaction that locks their
// rows: a wait when the failures counted use a limit up, the claims made when there
// is room, or neither when attempts in progress hold the places left.
func (t *PostgresLoginThrottle) tryBegin(ctx context.Context, keys []bucketKey) (time.Duration, []int64, error) {
	now := t.now()
	kinds, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		kinds[i], names[i] = k.kind, k.key
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, dbError("begin a login attempt", err)
	}
	defer func() { _ = tx.Rollback() }()

	// A key without a row has its whole limit free: it gets a full bucket. Either
	// way the statement locks the key's rows until the transaction ends, in the
	// keys' order.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO rate_limits AS b (kind, key, full_at)
		SELECT kind, key, $3 FROM unnest($1::text[], $2::text[]) AS k(kind, key)
		ORDER BY kind, key
		ON CONFLICT (kind, key) DO UPDATE SET full_at = b.full_at`, kinds, names, now); err != nil {
		return 0, nil, dbError("begin a login attempt", err)
	}
	// Read in a statement of its own, which sees everything committed before the
	// locks were granted: the statement that waited for them works from a snapshot
	// taken before, which may miss a claim made meanwhile.
	rows, err := tx.QueryContext(ctx, `
		SELECT b.kind, b.key, b.full_at,
		       (SELECT count(*) FROM rate_limit_claims c
		        WHERE c.kind = b.kind AND c.key = b.key AND c.expires_at > $3)
		FROM rate_limits b
		WHERE (b.kind, b.key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, kinds, names, now)
	if err != nil {
		return 0, nil, dbError("begin a login attempt", err)
	}
	var wait time.Duration
	busy := false
	for rows.Next() {
		var kind, key string
		var fullAt time.Time
		var pending int64
		if err := rows.Scan(&kind, &key, &fullAt, &pending); err != nil {
			_ = rows.Close()
			return 0, nil, dbError("begin a login attempt", err)
		}
		l := t.account
		if kind == t.addr.kind {
			l = t.addr
		}
		// One more failure must fit: the bucket's deficit plus one step within its
		// capacity, first counting the failures alone, then the attempts in
		// progress too, each of which may yet fail.
		after := deficit(fullAt, now) + l.step
		if over := after - l.capacity; over > 0 {
			wait = max(wait, over)
			t.emptied.remember(l, key, fullAt)
		} else if after+time.Duration(pending)*l.step > l.capacity {
			busy = true
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, nil, dbError("begin a login attempt", err)
	}
	if wait > 0 || busy {
		return wait, nil, nil
	}

	claimRows, err := tx.QueryContext(ctx, `
		INSERT INTO rate_limit_claims (kind, key, expires_at)
		SELECT kind, key, $3 FROM unnest($1::text[], $2::text[]) AS k(kind, key)
		RETURNING id`, kinds, names, now.Add(claimLifetime))
	if err != nil {
		return 0, nil, dbError("claim a login attempt", err)
	}
	var claims []int64
	for claimRows.Next() {
		var id int64
		if err := claimRows.Scan(&id); err != nil {
			_ = claimRows.Close()
			return 0, nil, dbError("claim a login attempt", err)
		}
		claims = append(claims, id)
	}
	if err := errors.Join(claimRows.Err(), claimRows.Close()); err != nil {
		return 0, nil, dbError("claim a login attempt", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, dbError("claim a login attempt", err)
	}
	return 0, claims, nil
}

// settler returns the done of an attempt: it gives the attempt's claims back and,
// when it failed, counts the failure against each key, in one statement so that no
// other attempt sees the claim gone and the failure not yet counted. It may run
// after the request has ended (an attempt abandoned by its client counts as
// failed), so it has a deadline of its own. If the database cannot be reached, the
// claims lapse by themselves and the failure goes uncounted; that is logged.
func (t *PostgresLoginThrottle) settler(ctx context.Context, keys []bucketKey, claims []int64) func(failed bool) {
	kinds, names, steps := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		kinds[i], names[i], steps[i] = k.kind, k.key, k.step.Microseconds()
	}
	var once sync.Once
	return func(failed bool) {
		once.Do(func() {
			// Its own deadline: the attempt's request may be over by now.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
			defer cancel()
			_, err := t.db.ExecContext(ctx, `
				WITH counted AS (
					UPDATE rate_limits b
					SET full_at = greatest(b.full_at, $4) + s.step * interval '1 microsecond'
					FROM unnest($1::text[], $2::text[], $3::bigint[]) AS s(kind, key, step)
					WHERE $5 AND b.kind = s.kind AND b.key = s.key
				)
				DELETE FROM rate_limit_claims WHERE id = ANY($6::bigint[])`,
				kinds, names, steps, t.now(), failed, claims)
			if err != nil {
				t.logger.Warn("could not record the outcome of a login attempt; its claim lapses by itself",
					zap.String("correlation_id", domain.CorrelationID(ctx)), zap.Bool("failed", failed), zap.Error(err))
			}
		})
	}
}

// PostgresHashBudget is HashBudget kept in PostgreSQL (the table rate_limits), so
// that the budget holds for every instance of the service together.
type PostgresHashBudget struct {
	db      *sql.DB
	now     func() time.Time
	limit   limit
	burst   int
	emptied emptied
}

// NewPostgresHashBudget allows each client address perMinute hashes a minute, and up
// to burst at once; a perMinute of 0 turns the budget off.
func NewPostgresHashBudget(db *sql.DB, perMinute, burst int, now func() time.Time) *PostgresHashBudget {
	burst = max(burst, 1)
	return &PostgresHashBudget{db: db, now: now, limit: newLimit(kindHashAddr, perMinute, burst), burst: burst, emptied: newEmptied()}
}

// Spend is HashBudget.Spend, with the bucket in the database: one statement takes
// the tokens when they are there, and only a refusal reads the bucket again, for
// the wait.
func (h *PostgresHashBudget) Spend(ctx context.Context, clientAddr string, n int) (time.Duration, error) {
	if !h.limit.on() || n <= 0 {
		return 0, nil
	}
	key := addrKey(clientAddr)
	now := h.now()
	cost := h.limit.step * time.Duration(min(n, h.burst))
	if wait := h.emptied.wait(h.limit, key, cost, now); wait > 0 {
		return wholeSeconds(wait), nil
	}
	var fullAt time.Time
	err := h.db.QueryRowContext(ctx, `
		INSERT INTO rate_limits AS b (kind, key, full_at)
		VALUES ($1, $2, $3::timestamptz + $4 * interval '1 microsecond')
		ON CONFLICT (kind, key) DO UPDATE
		SET full_at = greatest(b.full_at, $3) + $4 * interval '1 microsecond'
		WHERE greatest(b.full_at, $3) + $4 * interval '1 microsecond' <= $3::timestamptz + $5 * interval '1 microsecond'
		RETURNING full_at`,
		kindHashAddr, key, now, cost.Microseconds(), h.limit.capacity.Microseconds()).Scan(&fullAt)
	switch {
	case err == nil:
		return 0, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, dbError("spend the hashing budget", err)
	}
	// Refused: the bucket holds fewer than n tokens.
	err = h.db.QueryRowContext(ctx, `SELECT full_at FROM rate_limits WHERE kind = $1 AND key = $2`, kindHashAddr, key).Scan(&fullAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Purged in between: full again. The next request will find it so.
		return time.Second, nil
	case err != nil:
		return 0, dbError("read the hashing budget", err)
	}
	h.emptied.remember(h.limit, key, fullAt)
	return wholeSeconds(max(deficit(fullAt, now)+cost-h.limit.capacity, time.Nanosecond)), nil
}

// PurgeLimits deletes the rows that say nothing any more: buckets that are full
// again with no attempt in progress, and claims past their lifetime. It deletes in
// batches, each a statement of its own, and returns how many rows went.
func PurgeLimits(ctx context.Context, db *sql.DB, now time.Time) (int, error) {
	const batch = 1000
	total := 0
	for _, statement := range []string{
		`DELETE FROM rate_limit_claims WHERE id IN (
			SELECT id FROM rate_limit_claims WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
		`DELETE FROM rate_limits WHERE (kind, key) IN (
			SELECT kind, key FROM rate_limits b WHERE full_at <= $1
			AND NOT EXISTS (SELECT 1 FROM rate_limit_claims c WHERE c.kind = b.kind AND c.key = b.key)
			LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	} {
		for {
			res, err := db.ExecContext(ctx, statement, now, batch)
			if err != nil {
				return total, dbError("purge rate limits", err)
			}
			n, _ := res.RowsAffected()
			total += int(n)
			if n < batch {
				break
			}
		}
	}
	return total, nil
}

// dbError is what the use cases see of a database failure here. A cancelled
// request passes through. An error PostgreSQL reports about the statement itself is
// a bug, and internal; anything else (the connection, the server shutting down or
// out of resources, a statement timeout) is the database being unavailable, with
// the driver's text kept for the logs only.
func dbError(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !slices.Contains([]string{"08", "53", "57"}, pgErr.Code[:2]) {
		return fmt.Errorf("throttle: %s: %w", op, err)
	}
	return fmt.Errorf("throttle: %s: %w (%v)", op, domain.Unavailable("The database is unavailable; try again shortly.", time.Second), err)
}
