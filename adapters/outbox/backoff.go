package outbox

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"
)

// warnEvery spaces out the warnings of a group that cannot read the outbox: one
// when it starts failing, then one now and then while it goes on, each saying how
// many events wait.
const warnEvery = 30 * time.Second

// maxBackoff bounds the wait between two attempts of a failing group, so that it
// notices soon enough that its broker or database is back.
const maxBackoff = 5 * time.Second

// backoff decides how long a consumer group waits before it reads the outbox
// again: the poll interval when there was nothing to read, not at all when there
// was, and a growing, jittered wait while reading fails.
type backoff struct {
	poll   time.Duration
	logger *zap.Logger
	lag    func(context.Context) (Lag, error)

	mu       sync.Mutex
	failures int
	warned   time.Time
}

func newBackoff(poll time.Duration, logger *zap.Logger, lag func(context.Context) (Lag, error)) *backoff {
	return &backoff{poll: poll, logger: logger, lag: lag}
}

func (b *backoff) HandleError(_ watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		if b.failures > 0 {
			b.logger.Info("reading the outbox again", zap.Int("failed_attempts", b.failures))
		}
		b.failures = 0
		if noMsg {
			return b.poll
		}
		return 0
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, errStopping) {
		return b.poll // the group is stopping
	}
	if anotherInstanceHasTheGroup(err) {
		// Another instance handled a batch of this group meanwhile: read again at
		// once, from where it left off.
		return 0
	}
	b.failures++
	if b.failures == 1 || time.Since(b.warned) >= warnEvery {
		b.warned = time.Now()
		b.warn(err)
	}
	wait := b.poll << min(b.failures, 8)
	wait = min(wait, maxBackoff)
	// Full jitter on half the wait: instances that failed together spread out.
	return wait/2 + rand.N(wait/2+1)
}

func (b *backoff) warn(err error) {
	fields := []zap.Field{zap.Error(err), zap.Int("failed_attempts", b.failures)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if lag, lagErr := b.lag(ctx); lagErr == nil {
		fields = append(fields, zap.Int("events_waiting", lag.Events), zap.Duration("oldest_waiting", lag.OldestAge))
	}
	if errors.Is(err, errPaused) {
		b.logger.Warn("events wait in the outbox: their destination is unavailable", fields...)
		return
	}
	b.logger.Warn("reading the outbox failed; retrying", fields...)
}

// anotherInstanceHasTheGroup reports the failure a group's read meets when another
// instance held the group's row and moved it on: PostgreSQL cannot serialize the
// two under repeatable read, and says so.
func anotherInstanceHasTheGroup(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
