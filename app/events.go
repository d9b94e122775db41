package main

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// eventsModule delivers the events of the outbox: to the in-process reactions to
// them, each a consumer group of its own, and, when a broker is configured, to the
// broker for other services. It starts after the database and stops before it.
var eventsModule = fx.Module("events",
	fx.Provide(
		commands.NewEndSessionsOnUserInactivatedHandler,
		newEventRouter,
	),
	fx.Invoke(func(*outbox.Router) {}),
)

// eventsCloseTimeout bounds how long stopping waits for events being handled; an
// event cut off is handed again after the next start.
const eventsCloseTimeout = 5 * time.Second

// Consumer group names: the outbox keeps each group's position under its name, so
// a name must never change once deployed.
const groupEndSessions = "end_sessions_on_user_inactivated"

func newEventRouter(lc fx.Lifecycle, cfg Config, logger *zap.Logger, db *bun.DB, endSessions commands.EndSessionsOnUserInactivatedHandler) (*outbox.Router, error) {
	logger = logger.Named("events")
	r, err := outbox.NewRouter(db.DB, outbox.Config{
		PollInterval: cfg.Events.PollInterval.Duration,
		CloseTimeout: eventsCloseTimeout,
	}, logger, bus.NewWatermillLogger(logger))
	if err != nil {
		return nil, err
	}
	if err := r.Add(outbox.HandleEvents(groupEndSessions, endSessions.Handle, domain.EventUserInactivated)); err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return r.Start() },
		OnStop:  func(context.Context) error { return r.Close() },
	})
	return r, nil
}
