package main

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/metrics"
	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/adapters/wmlog"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// eventsModule delivers the events of the outbox: to the in-process reactions to
// them, each a consumer group of its own, and, when a broker is configured, to the
// broker for other services. It starts after the database and stops before it.
var eventsModule = fx.Module("events",
	fx.Provide(
		commands.NewEndSessionsOnUserInactivatedHandler,
		newBroker,
		newEventRouter,
	),
	fx.Invoke(func(*outbox.Router) {}),
)

// brokerAckDeadline bounds the broker group's hold on one event, and so on the
// transaction it keeps open meanwhile: a publish timeout (5s), and a second. When
// the broker goes away in the middle of a batch, the group hands the event back
// until then, and then records the events of the batch it did publish.
const brokerAckDeadline = 6 * time.Second

// eventsCloseTimeout bounds how long stopping waits for the batches of events under
// way. It outlasts brokerAckDeadline, so that even a batch cut short by a broker
// outage records what it published before the service stops, rather than hand it
// all again after the restart.
const eventsCloseTimeout = brokerAckDeadline + time.Second

// minIdleInTransaction is the shortest database.idle_in_transaction_timeout the
// events allow: the broker group's transaction sits idle while the broker
// acknowledges, up to brokerAckDeadline, and the server must not end it meanwhile.
const minIdleInTransaction = brokerAckDeadline + time.Second

// Consumer group names: the outbox keeps each group's position under its name, so
// a name must never change once deployed. Each broker has a group of its own, so
// that switching brokers starts the new one from the oldest event retained.
const (
	groupEndSessions = "end_sessions_on_user_inactivated"
	groupPublishTo   = "publish_to_" // + the broker: nats, amqp
)

// brokerPublisher is where events go for other services: a Watermill publisher
// that connects in the background and says whether it can publish now.
type brokerPublisher interface {
	message.Publisher
	Ready() error
	Topic() string
}

// newBroker returns the configured broker's publisher, or nil for "none". It
// connects in the background: a broker that is down at start delays no request.
func newBroker(lc fx.Lifecycle, cfg Config, logger *zap.Logger) (brokerPublisher, error) {
	logger = logger.Named("broker")
	var pub brokerPublisher
	var err error
	switch cfg.Events.Broker {
	case "nats":
		pub, err = broker.NewNATSPublisher(broker.NATSConfig{
			URL: cfg.Events.NATSURL, Stream: cfg.Events.NATSStream, Subject: cfg.Events.NATSSubject,
		}, logger)
	case "amqp":
		pub, err = broker.NewAMQPPublisher(broker.AMQPConfig{URL: cfg.Events.AMQPURL, Exchange: cfg.Events.AMQPExchange}, logger)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Stopped after the event router, which publishes through it: the router
	// needs the publisher, so Fx starts it later and stops it sooner.
	lc.Append(fx.Hook{OnStop: func(context.Context) error { return pub.Close() }})
	return pub, nil
}

func newEventRouter(lc fx.Lifecycle, cfg Config, logger *zap.Logger, db *bun.DB, m *metrics.Metrics, endSessions commands.EndSessionsOnUserInactivatedHandler, pub brokerPublisher, tr *tracing.Provider) (*outbox.Router, error) {
	logger = logger.Named("events")
	outboxCfg := outbox.Config{
		PollInterval: cfg.Events.PollInterval.Duration,
		CloseTimeout: eventsCloseTimeout,
		Tracing:      outboxTracing(tr),
	}
	if m != nil {
		outboxCfg.Observer = m
	}
	r, err := outbox.NewRouter(db.DB, outboxCfg, logger, wmlog.Quiet(logger))
	if err != nil {
		return nil, err
	}
	if err := r.Add(outbox.HandleEvents(groupEndSessions, endSessions.Handle, domain.EventUserInactivated)); err != nil {
		return nil, err
	}
	if pub != nil {
		forward := outbox.ForwardEvents(groupPublishTo+cfg.Events.Broker, pub, pub.Topic())
		// While the broker is down this group waits, holding nothing open, and
		// the events wait in the outbox; an event whose publish the outage cut
		// short is handed again rather than parked.
		forward.Ready = pub.Ready
		forward.Transient = broker.IsUnavailable
		forward.AckDeadline = brokerAckDeadline
		forward.Broker = cfg.Events.Broker
		if err := r.Add(forward); err != nil {
			return nil, err
		}
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return r.Start() },
		OnStop:  func(context.Context) error { return r.Close() },
	})
	return r, nil
}
