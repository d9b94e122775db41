package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
)

// The tails follow the events as another service would, with the brokers' plain
// clients and nothing of this package but its configuration: they show consumers
// how, and let operators see what consumers get. Unlike a real consumer they keep
// no position: they start with the next event, and miss what is published while
// they do not run.

// Delivery is one event as a consumer receives it.
type Delivery struct {
	// Headers are the message's headers. For RabbitMQ they also hold the
	// properties message_id, content_type and type.
	Headers map[string]string
	// Payload is the event's JSON, as published.
	Payload []byte
}

// TailNATS passes each event stored in the stream from now on to fn, until ctx
// ends (it returns nil then), fn returns an error, or the connection fails for
// good: nats.go reconnects meanwhile (for about two minutes, its default), and
// the consumer resumes after the last event it delivered.
func TailNATS(ctx context.Context, cfg NATSConfig, fn func(Delivery) error) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	nc, err := nats.Connect(cfg.URL, nats.Name("accounts events tail"))
	if err != nil {
		return fmt.Errorf("connect to NATS: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}

	// An ordered consumer is ephemeral and needs no acks: right for a tail. A
	// service that must see every event uses a durable consumer instead, and acks
	// each event once processed.
	consumer, err := js.OrderedConsumer(ctx, cfg.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{cfg.Subject},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("consume stream %s: %w", cfg.Stream, err)
	}
	msgs, err := consumer.Messages()
	if err != nil {
		return fmt.Errorf("consume stream %s: %w", cfg.Stream, err)
	}
	defer msgs.Stop()

	for {
		msg, err := msgs.Next(jetstream.NextContext(ctx))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("consume stream %s: %w", cfg.Stream, err)
		}
		headers := make(map[string]string, len(msg.Headers()))
		for key, values := range msg.Headers() {
			headers[key] = values[0]
		}
		if err := fn(Delivery{Headers: headers, Payload: msg.Data()}); err != nil {
			return err
		}
	}
}

// TailAMQP passes each event published to the exchange from now on to fn, until
// ctx ends (it returns nil then), fn returns an error, or the connection fails:
// amqp091-go does not reconnect.
func TailAMQP(ctx context.Context, cfg AMQPConfig, fn func(Delivery) error) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("accounts events tail")
	conn, err := amqp.DialConfig(cfg.URL, amqp.Config{Properties: props})
	if err != nil {
		return fmt.Errorf("connect to RabbitMQ: %w", err)
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))

	// A queue of its own, named by the server, exclusive to this connection and
	// deleted with it: the fanout exchange copies every event into it. A service
	// that must see every event declares a durable queue of a fixed name instead,
	// so that events wait for it while it is away. Consumers never declare the
	// exchange: binding fails while the publisher has not.
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return fmt.Errorf("declare the tail's queue: %w", err)
	}
	if err := ch.QueueBind(q.Name, "", cfg.Exchange, false, nil); err != nil {
		return fmt.Errorf("bind to exchange %s: %w", cfg.Exchange, err)
	}
	// A bounded prefetch keeps a slow consumer from being flooded.
	if err := ch.Qos(16, 0, false); err != nil {
		return err
	}
	deliveries, err := ch.ConsumeWithContext(ctx, q.Name, "", false, true, false, false, nil)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}

	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return tailEnded(closed)
			}
			if err := fn(amqpDelivery(d)); err != nil {
				return err
			}
			if err := d.Ack(false); err != nil {
				return err
			}
		}
	}
}

// tailEnded says why the deliveries stopped. amqp091-go tells the channel's
// listeners before it stops the deliveries; with nothing to tell, the broker
// cancelled the consumer alone (its queue was deleted).
func tailEnded(closed <-chan *amqp.Error) error {
	select {
	case err := <-closed:
		return fmt.Errorf("the channel to RabbitMQ closed: %v", closeError(err))
	default:
		return errors.New("RabbitMQ cancelled the tail's consumer")
	}
}

func amqpDelivery(d amqp.Delivery) Delivery {
	headers := make(map[string]string, len(d.Headers)+3)
	for key, value := range d.Headers {
		headers[key] = fmt.Sprint(value)
	}
	for key, value := range map[string]string{
		"message_id": d.MessageId, "content_type": d.ContentType, "type": d.Type,
	} {
		if value != "" {
			headers[key] = value
		}
	}
	return Delivery{Headers: headers, Payload: d.Body}
}
