package main

import (
	"context"
	"errors"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// sweeperModule deletes the rows of expired sessions every [session] purge_interval,
// starting at startup. It is housekeeping, not a request path: a failed purge is
// logged and tried again at the next tick.
var sweeperModule = fx.Module("sweeper",
	fx.Provide(commands.NewPurgeExpiredSessionsHandler),
	fx.Invoke(runSweeper),
)

func runSweeper(lc fx.Lifecycle, cfg Config, h commands.PurgeExpiredSessionsHandler, logger *zap.Logger) {
	logger = logger.Named("sweeper")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				sweep(ctx, cfg.Session.PurgeInterval.Duration, h, logger)
			}()
			return nil
		},
		// Stopping cancels a purge in flight: its batches are separate statements,
		// so whatever it already deleted stays deleted and the rest waits for the
		// next start.
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

func sweep(ctx context.Context, interval time.Duration, h commands.PurgeExpiredSessionsHandler, logger *zap.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		purgeOnce(ctx, interval, h, logger)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// purgeOnce runs one purge under its own correlation id, bounded by the interval so
// that a stuck database cannot pile purges up.
func purgeOnce(ctx context.Context, interval time.Duration, h commands.PurgeExpiredSessionsHandler, logger *zap.Logger) {
	id := domain.NewCorrelationID()
	ctx, cancel := context.WithTimeout(domain.WithCorrelationID(ctx, id), interval)
	defer cancel()
	purged, err := h.Handle(ctx, commands.PurgeExpiredSessions{})
	log := logger.With(zap.String("correlation_id", id), zap.Int("sessions", purged.Count))
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		// The service is stopping; the next start carries on.
	case err != nil:
		log.Warn("purging expired sessions failed; retrying at the next interval", zap.Error(err))
	case purged.Count > 0:
		log.Info("purged expired sessions")
	}
}
