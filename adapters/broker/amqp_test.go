package broker_test

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/broker/brokertest"
)

func TestAMQPPublishesTheContract(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	pub := env.publisher(t, brokertest.AMQPURL())
	waitReady(t, pub)
	env.assertExchangeDeclared(t)
	deliveries := env.Subscribe(t)

	traced := newEvent()
	untraced := newEvent()
	delete(untraced.Metadata, "traceparent")
	delete(untraced.Metadata, "tracestate")
	before := time.Now().Truncate(time.Second)
	if err := pub.Publish(env.cfg.Exchange, traced, untraced); err != nil {
		t.Fatalf("publish: %v", err)
	}

	for _, sent := range []*message.Message{traced, untraced} {
		d := brokertest.Receive(t, deliveries)
		if string(d.Body) != string(sent.Payload) {
			t.Errorf("body %s, want %s", d.Body, sent.Payload)
		}
		if d.Exchange != env.cfg.Exchange || d.RoutingKey != "" {
			t.Errorf("published to exchange %q with routing key %q, want %q and none", d.Exchange, d.RoutingKey, env.cfg.Exchange)
		}
		if d.Timestamp.Before(before) || d.Timestamp.After(time.Now()) {
			t.Errorf("timestamp %s, want the time of publishing", d.Timestamp)
		}
		type properties struct {
			MessageID, ContentType, Type, CorrelationID, ContentEncoding, ReplyTo, Expiration, UserID, AppID string
			DeliveryMode, Priority                                                                           uint8
		}
		got := properties{d.MessageId, d.ContentType, d.Type, d.CorrelationId, d.ContentEncoding, d.ReplyTo, d.Expiration, d.UserId, d.AppId, d.DeliveryMode, d.Priority}
		want := properties{MessageID: sent.UUID, ContentType: "application/json", Type: "user.inactivated", DeliveryMode: amqp.Persistent}
		if got != want {
			t.Errorf("properties\n got %+v\nwant %+v", got, want)
		}
		wantHeaders := amqp.Table{"correlation_id": sent.Metadata.Get("correlation_id")}
		if tp := sent.Metadata.Get("traceparent"); tp != "" {
			wantHeaders["traceparent"] = tp
			wantHeaders["tracestate"] = sent.Metadata.Get("tracestate")
		}
		if !reflect.DeepEqual(d.Headers, wantHeaders) {
			t.Errorf("headers\n got %v\nwant %v", d.Headers, wantHeaders)
		}
	}
}

func TestAMQPRefusalsAreNotUnavailability(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	pub := env.publisher(t, brokertest.AMQPURL())
	waitReady(t, pub)

	noID := newEvent()
	noID.UUID = ""
	noType := newEvent()
	delete(noType.Metadata, "event_type")
	for name, publish := range map[string]func() error{
		"another topic": func() error { return pub.Publish("user.other", newEvent()) },
		"no event id":   func() error { return pub.Publish(env.cfg.Exchange, noID) },
		"no event type": func() error { return pub.Publish(env.cfg.Exchange, noType) },
	} {
		if err := publish(); err == nil || broker.IsUnavailable(err) {
			t.Errorf("%s: got %v, want an error that is not an unavailability", name, err)
		}
	}
}

func TestAMQPDownAtStart(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	proxy, proxied := brokertest.ViaProxy(t, brokertest.AMQPURL(), "5672")
	proxy.Cut()

	start := time.Now()
	pub := env.publisher(t, proxied)
	if took := time.Since(start); took > fast {
		t.Errorf("construction took %s with the broker down", took)
	}
	assertDownLogged(t, env.logs)
	if err := pub.Ready(); err == nil {
		t.Fatal("ready with the broker down")
	}
	assertFastUnavailable(t, func() error { return pub.Publish(env.cfg.Exchange, newEvent()) })

	proxy.Restore()
	waitReady(t, pub)
	env.assertExchangeDeclared(t)
	deliveries := env.Subscribe(t)
	sent := newEvent()
	if err := pub.Publish(env.cfg.Exchange, sent); err != nil {
		t.Fatalf("publish once the broker is up: %v", err)
	}
	if d := brokertest.Receive(t, deliveries); d.MessageId != sent.UUID {
		t.Errorf("received %s, want %s", d.MessageId, sent.UUID)
	}

	// The password never reaches the log.
	proxyURL, err := url.Parse(proxied)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range env.logs.All() {
		if u, ok := e.ContextMap()["url"]; ok && u != "amqp://guest:xxxxx@"+proxyURL.Host+"/" {
			t.Errorf("logged url %v, want the password hidden", u)
		}
	}
	if n := env.logs.FilterMessage("publishing events to RabbitMQ").Len(); n != 1 {
		t.Errorf("%d info lines on connection, want 1", n)
	}
}

func TestAMQPOutage(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	proxy, proxied := brokertest.ViaProxy(t, brokertest.AMQPURL(), "5672")
	pub := env.publisher(t, proxied)
	waitReady(t, pub)
	if err := pub.Publish(env.cfg.Exchange, newEvent()); err != nil {
		t.Fatalf("publish before the outage: %v", err)
	}

	proxy.Cut()
	assertFastUnavailable(t, func() error { return pub.Publish(env.cfg.Exchange, newEvent()) })
	waitNotReady(t, pub)
	assertFastUnavailable(t, func() error { return pub.Publish(env.cfg.Exchange, newEvent()) })

	// Lost with the broker's data, say: the publisher must declare it again.
	if err := env.channel(t).ExchangeDelete(env.cfg.Exchange, false, false); err != nil {
		t.Fatal(err)
	}

	proxy.Restore()
	waitReady(t, pub)
	env.assertExchangeDeclared(t)
	deliveries := env.Subscribe(t)
	sent := newEvent()
	if err := pub.Publish(env.cfg.Exchange, sent); err != nil {
		t.Fatalf("publish after the outage: %v", err)
	}
	if d := brokertest.Receive(t, deliveries); d.MessageId != sent.UUID {
		t.Errorf("received %s, want %s", d.MessageId, sent.UUID)
	}
}

// An exchange deleted under a connected publisher is declared again: RabbitMQ
// closes the channel of the publish that finds it missing, an unavailability, and
// the publisher starts over.
func TestAMQPExchangeDeletedWhileConnected(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	pub := env.publisher(t, brokertest.AMQPURL())
	waitReady(t, pub)
	if err := env.channel(t).ExchangeDelete(env.cfg.Exchange, false, false); err != nil {
		t.Fatal(err)
	}

	if err := pub.Publish(env.cfg.Exchange, newEvent()); !broker.IsUnavailable(err) {
		t.Fatalf("publish without an exchange: got %v, want an unavailability", err)
	}
	eventually(t, "the exchange to be declared again", func() error {
		if err := pub.Ready(); err != nil {
			return err
		}
		return env.channel(t).ExchangeDeclarePassive(env.cfg.Exchange, amqp.ExchangeFanout, true, false, false, false, nil)
	})
	deliveries := env.Subscribe(t)
	sent := newEvent()
	if err := pub.Publish(env.cfg.Exchange, sent); err != nil {
		t.Fatalf("publish once declared again: %v", err)
	}
	if d := brokertest.Receive(t, deliveries); d.MessageId != sent.UUID {
		t.Errorf("received %s, want %s", d.MessageId, sent.UUID)
	}
}

func TestAMQPPublishWithoutAnswer(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	env.cfg.PublishTimeout = time.Second
	proxy, proxied := brokertest.ViaProxy(t, brokertest.AMQPURL(), "5672")
	pub := env.publisher(t, proxied)
	waitReady(t, pub)
	assertInterruptedPublishes(t, proxy, env.cfg.PublishTimeout, func() error {
		return pub.Publish(env.cfg.Exchange, newEvent())
	})
}

func TestAMQPConcurrentPublishes(t *testing.T) {
	t.Parallel()
	env := newAMQPEnv(t)
	pub := env.publisher(t, brokertest.AMQPURL())
	waitReady(t, pub)
	deliveries := env.Subscribe(t)
	ids := publishConcurrently(t, 20, func(msg *message.Message) error { return pub.Publish(pub.Topic(), msg) })
	for range ids {
		if d := brokertest.Receive(t, deliveries); !ids[d.MessageId] {
			t.Errorf("received %s, which was not published", d.MessageId)
		}
	}
}
