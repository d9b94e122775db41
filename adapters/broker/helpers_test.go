package broker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/broker/brokertest"
)

// The tests run against real brokers, $TEST_NATS_URL and $TEST_AMQP_URL or the
// local ones. A test that cannot reach its broker fails, never skips: a CI job
// without its brokers must go red, not silently green. Every test works on
// destinations of its own, random and deleted at the end (see brokertest), so
// tests run in parallel and never touch real events. What reached the broker is
// checked with the plain clients, never with this package.

const (
	// waitTimeout bounds every wait on a broker, so that a test fails instead of
	// hanging.
	waitTimeout = 10 * time.Second
	// fast is how quickly a publish must fail while the broker is unavailable.
	fast = 500 * time.Millisecond
)

// TestMain fails the run if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newEvent is an event as the outbox hands it over, with metadata that must not
// reach the broker besides the keys that must.
func newEvent() *message.Message {
	id := uuid.NewString()
	payload := fmt.Sprintf(`{"event_id":%q,"type":"user.inactivated","version":1,"occurred_at":"2026-11-24T08:00:00.123456Z","user_id":%q,"sequence":7,"actor_id":null,"data":{}}`,
		id, uuid.NewString())
	msg := message.NewMessage(id, []byte(payload))
	msg.Metadata.Set("correlation_id", "req-"+id[:8])
	msg.Metadata.Set("event_type", "user.inactivated")
	msg.Metadata.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	msg.Metadata.Set("tracestate", "rojo=00f067aa0ba902b7")
	msg.Metadata.Set("handler_name", "outbox")
	msg.Metadata.Set("_watermill_received", "yes")
	return msg
}

// newLogger records the publisher's log, and prints it if the test fails.
func newLogger(t *testing.T) (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	t.Cleanup(func() {
		if t.Failed() {
			for _, e := range logs.All() {
				t.Logf("log: %s %s %v", e.Level, e.Message, e.ContextMap())
			}
		}
	})
	return zap.New(core), logs
}

// readier is what both publishers have.
type readier interface{ Ready() error }

func waitReady(t *testing.T, p readier) {
	t.Helper()
	eventually(t, "the publisher to be ready", p.Ready)
}

func waitNotReady(t *testing.T, p readier) {
	t.Helper()
	eventually(t, "the publisher to notice the outage", func() error {
		if p.Ready() == nil {
			return errors.New("still ready")
		}
		return nil
	})
}

func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertFastUnavailable publishes and expects an unavailability, quickly.
func assertFastUnavailable(t *testing.T, publish func() error) {
	t.Helper()
	start := time.Now()
	err := publish()
	if took := time.Since(start); took > fast {
		t.Errorf("a publish while unavailable took %s, want under %s", took, fast)
	}
	if !broker.IsUnavailable(err) {
		t.Fatalf("publish while unavailable: got %v, want an unavailability", err)
	}
}

// assertDownLogged waits for the warning that the broker is down, then checks
// that the retries that follow, many in the test's short backoff, log no more.
func assertDownLogged(t *testing.T, logs *observer.ObservedLogs) {
	t.Helper()
	warnings := func() int { return logs.FilterLevelExact(zapcore.WarnLevel).Len() }
	eventually(t, "a warning that the broker is down", func() error {
		if warnings() == 0 {
			return errors.New("no warning yet")
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	if n := warnings(); n != 1 {
		t.Errorf("%d warnings while the broker was down, want 1", n)
	}
}

// assertInterruptedPublishes checks the publishes that wait for an answer that
// does not come: one ends as unavailable at PublishTimeout; one ends as soon as the
// connection drops.
func assertInterruptedPublishes(t *testing.T, proxy *brokertest.Proxy, timeout time.Duration, publish func() error) {
	t.Helper()
	proxy.Freeze()
	start := time.Now()
	err := publish()
	if took := time.Since(start); took < timeout || took > timeout+fast {
		t.Errorf("a publish without an answer took %s, want PublishTimeout, %s", took, timeout)
	}
	if !broker.IsUnavailable(err) {
		t.Errorf("a publish without an answer: got %v, want an unavailability", err)
	}

	ended := make(chan error, 1)
	go func() { ended <- publish() }()
	time.Sleep(timeout / 4) // the publish is waiting
	proxy.Cut()
	select {
	case err := <-ended:
		if !broker.IsUnavailable(err) {
			t.Errorf("a publish whose connection dropped: got %v, want an unavailability", err)
		}
	case <-time.After(fast):
		err := <-ended // nothing may outlive the test
		t.Errorf("a publish whose connection dropped did not end within %s, but with %v", fast, err)
	}
}

// publishConcurrently publishes n events from as many goroutines, as a router
// with several handlers would, and returns their ids.
func publishConcurrently(t *testing.T, n int, publish func(*message.Message) error) map[string]bool {
	t.Helper()
	var wg sync.WaitGroup
	ids := make(map[string]bool, n)
	errs := make(chan error, n)
	for range n {
		msg := newEvent()
		ids[msg.UUID] = true
		wg.Go(func() { errs <- publish(msg) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent publish: %v", err)
		}
	}
	return ids
}

// NATS

// natsEnv is a stream of the test's own and the configuration of a publisher of
// it.
type natsEnv struct {
	*brokertest.Stream
	cfg  broker.NATSConfig
	logs *observer.ObservedLogs
}

// newNATSEnv gives the test a stream of its own, deleted when it ends, and a plain
// JetStream client to look at it.
func newNATSEnv(t *testing.T) *natsEnv {
	t.Helper()
	s := brokertest.NewStream(t)
	cfg := broker.NATSConfig{
		URL:              brokertest.NATSURL(),
		Stream:           s.Name,
		Subject:          s.Subject,
		PublishTimeout:   2 * time.Second,
		ReconnectWait:    10 * time.Millisecond,
		MaxReconnectWait: 200 * time.Millisecond,
	}
	return &natsEnv{Stream: s, cfg: cfg}
}

// publisher is a publisher of the test's stream through url, closed when the test
// ends.
func (e *natsEnv) publisher(t *testing.T, url string) *broker.NATSPublisher {
	t.Helper()
	cfg := e.cfg
	cfg.URL = url
	logger, logs := newLogger(t)
	p, err := broker.NewNATSPublisher(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.logs = logs
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func (e *natsEnv) streamConfig(t *testing.T) jetstream.StreamConfig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := e.JS.Stream(ctx, e.cfg.Stream)
	if err != nil {
		t.Fatalf("stream %s: %v", e.cfg.Stream, err)
	}
	return s.CachedInfo().Config
}

// RabbitMQ

// amqpEnv is an exchange of the test's own and the configuration of a publisher
// to it.
type amqpEnv struct {
	*brokertest.Exchange
	cfg  broker.AMQPConfig
	logs *observer.ObservedLogs
}

// newAMQPEnv gives the test an exchange name of its own, the exchange deleted when
// the test ends, and a plain connection to look at it.
func newAMQPEnv(t *testing.T) *amqpEnv {
	t.Helper()
	x := brokertest.NewExchange(t)
	cfg := broker.AMQPConfig{
		URL:              brokertest.AMQPURL(),
		Exchange:         x.Name,
		PublishTimeout:   2 * time.Second,
		ReconnectWait:    10 * time.Millisecond,
		MaxReconnectWait: 200 * time.Millisecond,
	}
	return &amqpEnv{Exchange: x, cfg: cfg}
}

func (e *amqpEnv) publisher(t *testing.T, url string) *broker.AMQPPublisher {
	t.Helper()
	cfg := e.cfg
	cfg.URL = url
	logger, logs := newLogger(t)
	p, err := broker.NewAMQPPublisher(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	e.logs = logs
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// channel is a new channel of the plain connection: RabbitMQ closes a channel on
// any error, so each check gets its own.
func (e *amqpEnv) channel(t *testing.T) *amqp.Channel {
	t.Helper()
	ch, err := e.Conn.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

// assertExchangeDeclared checks the exchange exists as a durable fanout: declaring
// it again with other properties would fail with PRECONDITION_FAILED.
func (e *amqpEnv) assertExchangeDeclared(t *testing.T) {
	t.Helper()
	if err := e.channel(t).ExchangeDeclarePassive(e.cfg.Exchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		t.Fatalf("exchange %s: %v", e.cfg.Exchange, err)
	}
	if err := e.channel(t).ExchangeDeclare(e.cfg.Exchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		t.Fatalf("exchange %s is not a durable fanout: %v", e.cfg.Exchange, err)
	}
}
