package main

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/throttle"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// sweeperModule is the housekeeping: it deletes the rows of expired sessions every
// [session] purge_interval, the outbox's delivered events older than [events]
// retention every [events] purge_interval, and the rate limits' rows that count
// nothing any more every minute, each starting at startup. It is not a
// request path: a failed purge is logged and tried again at the next tick.
var sweeperModule = fx.Module("sweeper",
	fx.Provide(commands.NewPurgeExpiredSessionsHandler),
	fx.Invoke(runSweepers),
)

func runSweepers(lc fx.Lifecycle, cfg Config, sessions commands.PurgeExpiredSessionsHandler, db *bun.DB, clock commands.Clock, logger *zap.Logger) {
	logger = logger.Named("sweeper")
	every(lc, cfg.Session.PurgeInterval.Duration, logger, "expired sessions", func(ctx context.Context) (int, error) {
		purged, err := sessions.Handle(ctx, commands.PurgeExpiredSessions{})
		return purged.Count, err
	})
	every(lc, cfg.Events.PurgeInterval.Duration, logger, "delivered events past retention", func(ctx context.Context) (int, error) {
		return outbox.Purge(ctx, db.DB, cfg.Events.Retention.Duration)
	})
	if cfg.RateLimit.Store == limitsInPostgres {
		every(lc, limitsPurgeInterval, logger, "rate limits full again", func(ctx context.Context) (int, error) {
			return throttle.PurgeLimits(ctx, db.DB, clock.Now())
		})
	}
}

// limitsPurgeInterval is how often the rows of rate limits that count nothing any
// more are deleted. A bucket is full again within a minute or two of its last use,
// so the tables hold about that much traffic.
const limitsPurgeInterval = time.Minute

// every runs purge at start and then every interval until the application stops.
// Stopping cancels a purge in flight: its batches are separate statements, so
// whatever it already deleted stays deleted and the rest waits for the next start.
func every(lc fx.Lifecycle, interval time.Duration, logger *zap.Logger, what string, purge func(context.Context) (int, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				ticker := time.NewTicker(interval)
				defer ticker.Stop()
				for {
					purgeOnce(ctx, interval, logger, what, purge)
					select {
					case <-ctx.Done():
						return
					case <-ticker.C:
					}
				}
			}()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-stop.Done():
				return stop.Err()
			}
		},
	})
}

// purgeOnce runs one purge under its own correlation id, bounded by the interval so
// that a stuck database cannot pile purges up.
func purgeOnce(ctx context.Context, interval time.Duration, logger *zap.Logger, what string, purge func(context.Context) (int, error)) {
	id := domain.NewCorrelationID()
	ctx, cancel := context.WithTimeout(domain.WithCorrelationID(ctx, id), interval)
	defer cancel()
	n, err := purge(ctx)
	log := logger.With(zap.String("correlation_id", id), zap.String("purged", what), zap.Int("rows", n))
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		// The service is stopping; the next start carries on.
	case err != nil:
		log.Warn("purge failed; retrying at the next interval", zap.Error(err))
	case n > 0:
		log.Info("purged")
	}
}
