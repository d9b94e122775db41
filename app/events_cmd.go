package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/outbox"
)

// eventsCommand runs `events tail|parked|replay`: the operator's view of the events
// the service publishes.
func eventsCommand(cfg Config, logger *zap.Logger, args []string, _ io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"events: want one of tail, parked, replay"}
	}
	switch action, rest := args[0], args[1:]; action {
	case "tail":
		if len(rest) > 0 {
			return usageError{fmt.Sprintf("events tail: unexpected argument %q", rest[0])}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return tailEvents(ctx, cfg, logger, stdout)
	case "parked":
		if len(rest) > 0 {
			return usageError{fmt.Sprintf("events parked: unexpected argument %q", rest[0])}
		}
		return listParked(cfg, logger, stdout)
	case "replay":
		ids, err := replayArgs(rest)
		if err != nil {
			return err
		}
		return replayParked(cfg, logger, ids, stdout)
	default:
		return usageError{fmt.Sprintf("events: unknown action %q (want tail, parked or replay)", action)}
	}
}

// replayArgs reads `--all` or one or more event ids; nil ids mean all.
func replayArgs(args []string) ([]string, error) {
	if len(args) == 1 && args[0] == "--all" {
		return nil, nil
	}
	if len(args) == 0 {
		return nil, usageError{"events replay: name the event ids to replay, or --all"}
	}
	for _, id := range args {
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			return nil, usageError{fmt.Sprintf("events replay: %q is not an event id", id)}
		}
	}
	return args, nil
}

// listParked prints every parked event as one JSON line, oldest first.
func listParked(cfg Config, logger *zap.Logger, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	parked, err := outbox.ListParked(ctx, db.DB)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, p := range parked {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// replayParked moves parked events back to the outbox, each for the consumer group
// that parked it, and says how many.
func replayParked(cfg Config, logger *zap.Logger, ids []string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	n, err := outbox.Replay(ctx, db.DB, ids)
	if err != nil {
		return err
	}
	logger.Info("parked events replayed", zap.Int("events", n))
	fmt.Fprintf(stdout, "replayed %d events\n", n)
	return nil
}

// tailEvents subscribes to the configured broker as another service would, and
// prints each event it receives from now on as one JSON line, {"headers":{…},
// "event":{…}}, until ctx ends.
func tailEvents(ctx context.Context, cfg Config, logger *zap.Logger, stdout io.Writer) error {
	enc := json.NewEncoder(stdout)
	printLine := func(d broker.Delivery) error {
		line := struct {
			Headers map[string]string `json:"headers"`
			Event   any               `json:"event"`
		}{Headers: d.Headers, Event: string(d.Payload)}
		if json.Valid(d.Payload) {
			line.Event = json.RawMessage(d.Payload)
		}
		return enc.Encode(line)
	}
	switch cfg.Events.Broker {
	case "nats":
		logger.Info("following the stream", zap.String("stream", cfg.Events.NATSStream), zap.String("subject", cfg.Events.NATSSubject))
		return broker.TailNATS(ctx, broker.NATSConfig{URL: cfg.Events.NATSURL, Stream: cfg.Events.NATSStream, Subject: cfg.Events.NATSSubject}, printLine)
	case "amqp":
		logger.Info("following the exchange", zap.String("exchange", cfg.Events.AMQPExchange))
		return broker.TailAMQP(ctx, broker.AMQPConfig{URL: cfg.Events.AMQPURL, Exchange: cfg.Events.AMQPExchange}, printLine)
	default:
		return errors.New(`events tail: no broker to follow: set [events] broker to "nats" or "amqp" (APP_EVENTS_BROKER)`)
	}
}
