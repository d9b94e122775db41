package broker_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/broker/brokertest"
)

func TestTailNATS(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	pub := env.publisher(t, brokertest.NATSURL())
	waitReady(t, pub)

	tail := func(ctx context.Context, fn func(broker.Delivery) error) error {
		return broker.TailNATS(ctx, env.cfg, fn)
	}
	sent, got := tailOne(t, tail, func(msg *message.Message) error { return pub.Publish(pub.Topic(), msg) })
	assertDelivery(t, sent, got, map[string]string{
		"Nats-Msg-Id":  sent.UUID,
		"Content-Type": "application/json",
	})
}

func TestTailAMQP(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	pub := env.publisher(t, brokertest.AMQPURL())
	waitReady(t, pub)

	tail := func(ctx context.Context, fn func(broker.Delivery) error) error {
		return broker.TailAMQP(ctx, env.cfg, fn)
	}
	sent, got := tailOne(t, tail, func(msg *message.Message) error { return pub.Publish(pub.Topic(), msg) })
	assertDelivery(t, sent, got, map[string]string{
		"message_id":   sent.UUID,
		"content_type": "application/json",
		"type":         "user.inactivated",
	})
}

// A tail never declares the exchange: it waits for the publisher to.
func TestTailAMQPWithoutExchange(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err := broker.TailAMQP(ctx, env.cfg, func(broker.Delivery) error { return nil })
	if err == nil {
		t.Fatal("the tail ran without the exchange")
	}
	// A passive declaration fails for a missing exchange, as it must be.
	if err := env.channel(t).ExchangeDeclarePassive(env.cfg.Exchange, "fanout", true, false, false, false, nil); err == nil {
		t.Error("the tail declared the exchange")
	}
}

var errStop = errors.New("stop the tail")

// tailOne runs tail and publishes until it delivers an event: a tail sees only
// what is published once it has started, and nothing tells when it has. It checks
// that the tail ends with fn's error, and with nil when ctx ends.
func tailOne(t *testing.T, tail func(context.Context, func(broker.Delivery) error) error,
	publish func(*message.Message) error,
) (sent *message.Message, got broker.Delivery) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	deliveries := make(chan broker.Delivery, 1)
	ended := make(chan error, 1)
	go func() {
		ended <- tail(ctx, func(d broker.Delivery) error {
			deliveries <- d
			return errStop
		})
	}()

	published := map[string]*message.Message{}
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for got.Headers == nil {
		select {
		case <-ticker.C:
			msg := newEvent()
			if err := publish(msg); err != nil {
				t.Fatalf("publish: %v", err)
			}
			published[msg.UUID] = msg
		case got = <-deliveries:
		case err := <-ended:
			select {
			case got = <-deliveries: // delivered before it ended, as it must
				ended <- err
			default:
				t.Fatalf("the tail ended before delivering: %v", err)
			}
		case <-ctx.Done():
			t.Fatal("timed out waiting for the tail to deliver")
		}
	}
	if err := <-ended; !errors.Is(err, errStop) {
		t.Errorf("the tail ended with %v, want fn's error", err)
	}

	// A tail whose context ends returns nil.
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if err := tail(short, func(broker.Delivery) error { return nil }); err != nil {
		t.Errorf("a tail whose context ended returned %v, want nil", err)
	}

	for _, msg := range published {
		if string(msg.Payload) == string(got.Payload) {
			return msg, got
		}
	}
	t.Fatalf("the tail delivered %s, which was not published", got.Payload)
	return nil, got
}

func assertDelivery(t *testing.T, sent *message.Message, got broker.Delivery, brokerHeaders map[string]string) {
	t.Helper()
	want := map[string]string{
		"correlation_id": sent.Metadata.Get("correlation_id"),
		"traceparent":    sent.Metadata.Get("traceparent"),
		"tracestate":     sent.Metadata.Get("tracestate"),
	}
	maps.Copy(want, brokerHeaders)
	if !maps.Equal(got.Headers, want) {
		t.Errorf("headers\n got %v\nwant %v", got.Headers, want)
	}
}
