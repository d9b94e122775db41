package brokertest

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Exchange is a throwaway RabbitMQ fanout exchange name; the exchange (declared by
// whoever publishes) is deleted when the test ends.
type Exchange struct {
	Name string
	Conn *amqp.Connection // a plain connection to AMQPURL()
}

// NewExchange reserves an exchange name ("test.<random>") for the test, and opens
// the plain connection that looks at it. The exchange is deleted when the test
// ends.
func NewExchange(t testing.TB) *Exchange {
	t.Helper()
	conn, err := amqp.Dial(AMQPURL())
	if err != nil {
		t.Fatalf("brokertest: RabbitMQ is unreachable at %s (set TEST_AMQP_URL to a reachable broker): %v",
			redacted(AMQPURL()), err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	e := &Exchange{Name: "test." + RandomName(), Conn: conn}
	t.Cleanup(func() {
		// Deleting an exchange that does not exist succeeds.
		ch, err := conn.Channel()
		if err == nil {
			err = ch.ExchangeDelete(e.Name, false, false)
			_ = ch.Close()
		}
		if err != nil {
			t.Errorf("brokertest: delete exchange %s: %v", e.Name, err)
		}
	})
	return e
}

// Subscribe waits (up to 10 s) until the exchange exists (passive declare, each
// attempt on a fresh channel since a failed passive declare closes the channel),
// then declares a server-named exclusive auto-delete queue bound to it and returns
// its deliveries (auto-ack).
func (e *Exchange) Subscribe(t testing.TB) <-chan amqp.Delivery {
	t.Helper()
	ch := e.await(t)
	t.Cleanup(func() { _ = ch.Close() })
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatalf("brokertest: declare a queue: %v", err)
	}
	if err := ch.QueueBind(q.Name, "", e.Name, false, nil); err != nil {
		t.Fatalf("brokertest: bind to exchange %s: %v", e.Name, err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatalf("brokertest: consume from exchange %s: %v", e.Name, err)
	}
	return deliveries
}

// await waits until the exchange exists, and returns the channel that found it.
func (e *Exchange) await(t testing.TB) *amqp.Channel {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ch, err := e.Conn.Channel()
		if err != nil {
			t.Fatalf("brokertest: open a channel: %v", err)
		}
		err = ch.ExchangeDeclarePassive(e.Name, amqp.ExchangeFanout, true, false, false, false, nil)
		if err == nil {
			return ch
		}
		_ = ch.Close() // already closed by the broker
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: exchange %s still missing after %s: %v", e.Name, timeout, err)
		}
		time.Sleep(poll)
	}
}

// Receive returns the next delivery or fails the test after 10 s.
func Receive(t testing.TB, deliveries <-chan amqp.Delivery) amqp.Delivery {
	t.Helper()
	select {
	case d, ok := <-deliveries:
		if !ok {
			t.Fatal("brokertest: the deliveries ended: their channel or connection closed")
		}
		return d
	case <-time.After(timeout):
		t.Fatal("brokertest: timed out waiting for the message")
		return amqp.Delivery{}
	}
}
