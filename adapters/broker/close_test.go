package broker_test

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.uber.org/goleak"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/broker/brokertest"
)

// Close leaves nothing of the publisher running, whatever it was doing. The test
// is not parallel, so that goleak sees no goroutine but this test's.
func TestCloseLeavesNothingRunning(t *testing.T) {
	t.Run("NATS, connected", func(t *testing.T) {
		env := newNATSEnv(t)
		others := goleak.IgnoreCurrent()
		pub := env.publisher(t, brokertest.NATSURL())
		waitReady(t, pub)
		if err := pub.Publish(pub.Topic(), newEvent()); err != nil {
			t.Fatal(err)
		}
		closeAndVerify(t, pub, others)
	})
	t.Run("NATS, retrying", func(t *testing.T) {
		env := newNATSEnv(t)
		others := goleak.IgnoreCurrent()
		pub := env.publisher(t, brokertest.ClosedURL(t, brokertest.NATSURL()))
		time.Sleep(100 * time.Millisecond) // a few retries
		closeAndVerify(t, pub, others)
	})
	t.Run("RabbitMQ, connected", func(t *testing.T) {
		env := newAMQPEnv(t)
		others := goleak.IgnoreCurrent()
		pub := env.publisher(t, brokertest.AMQPURL())
		waitReady(t, pub)
		if err := pub.Publish(pub.Topic(), newEvent()); err != nil {
			t.Fatal(err)
		}
		closeAndVerify(t, pub, others)
	})
	t.Run("RabbitMQ, retrying", func(t *testing.T) {
		env := newAMQPEnv(t)
		others := goleak.IgnoreCurrent()
		pub := env.publisher(t, brokertest.ClosedURL(t, brokertest.AMQPURL()))
		time.Sleep(100 * time.Millisecond)
		closeAndVerify(t, pub, others)
	})
}

type publisher interface {
	Publish(topic string, msgs ...*message.Message) error
	Close() error
	Topic() string
}

func closeAndVerify(t *testing.T, pub publisher, others goleak.Option) {
	t.Helper()
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, others)
	if err := pub.Publish(pub.Topic(), newEvent()); !broker.IsUnavailable(err) {
		t.Errorf("publish after Close: got %v, want an unavailability", err)
	}
}
