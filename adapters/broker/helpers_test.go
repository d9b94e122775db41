package broker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/example/accounts/adapters/broker"
)

// The tests run against real brokers, $TEST_NATS_URL and $TEST_AMQP_URL or the
// local ones. A test that cannot reach its broker fails, never skips: a CI job
// without its brokers must go red, not silently green. Every test works on
// destinations of its own, random and deleted at the end, so tests run in
// parallel and never touch real events. What reached the broker is checked with
// the plain clients, never with this package.

const (
	defaultNATSURL = "nats://127.0.0.1:4222"
	defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/"

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

func natsURL() string { return envOr("TEST_NATS_URL", defaultNATSURL) }
func amqpURL() string { return envOr("TEST_AMQP_URL", defaultAMQPURL) }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
func assertInterruptedPublishes(t *testing.T, proxy *proxy, timeout time.Duration, publish func() error) {
	t.Helper()
	proxy.freeze()
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
	proxy.cut()
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

type natsEnv struct {
	cfg  broker.NATSConfig
	js   jetstream.JetStream
	logs *observer.ObservedLogs
}

// newNATSEnv gives the test a stream of its own, deleted when it ends, and a plain
// JetStream client to look at it.
func newNATSEnv(t *testing.T) *natsEnv {
	t.Helper()
	nc, err := nats.Connect(natsURL())
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", natsURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	name := randomName()
	cfg := broker.NATSConfig{
		URL:              natsURL(),
		Stream:           "TEST_" + strings.ToUpper(name),
		Subject:          "test." + name + ".events",
		PublishTimeout:   2 * time.Second,
		ReconnectWait:    10 * time.Millisecond,
		MaxReconnectWait: 200 * time.Millisecond,
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := js.DeleteStream(ctx, cfg.Stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("delete stream %s: %v", cfg.Stream, err)
		}
	})
	return &natsEnv{cfg: cfg, js: js}
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

// messages reads the whole stream with a plain ephemeral consumer, expecting n
// messages.
func (e *natsEnv) messages(t *testing.T, n int) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	stream, err := e.js.Stream(ctx, e.cfg.Stream)
	if err != nil {
		t.Fatalf("stream %s: %v", e.cfg.Stream, err)
	}
	if stored := stream.CachedInfo().State.Msgs; stored != uint64(n) {
		t.Fatalf("the stream holds %d messages, want %d", stored, n)
	}
	consumer, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	batch, err := consumer.Fetch(n, jetstream.FetchMaxWait(waitTimeout))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil || len(msgs) != n {
		t.Fatalf("received %d messages (%v), want %d", len(msgs), err, n)
	}
	return msgs
}

func (e *natsEnv) streamConfig(t *testing.T) jetstream.StreamConfig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	s, err := e.js.Stream(ctx, e.cfg.Stream)
	if err != nil {
		t.Fatalf("stream %s: %v", e.cfg.Stream, err)
	}
	return s.CachedInfo().Config
}

// RabbitMQ

type amqpEnv struct {
	cfg  broker.AMQPConfig
	conn *amqp.Connection
	logs *observer.ObservedLogs
}

// newAMQPEnv gives the test an exchange name of its own, the exchange deleted when
// the test ends, and a plain connection to look at it.
func newAMQPEnv(t *testing.T) *amqpEnv {
	t.Helper()
	conn, err := amqp.Dial(amqpURL())
	if err != nil {
		t.Fatalf("connect to RabbitMQ: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	cfg := broker.AMQPConfig{
		URL:              amqpURL(),
		Exchange:         "test." + randomName(),
		PublishTimeout:   2 * time.Second,
		ReconnectWait:    10 * time.Millisecond,
		MaxReconnectWait: 200 * time.Millisecond,
	}
	e := &amqpEnv{cfg: cfg, conn: conn}
	t.Cleanup(func() {
		ch, err := conn.Channel()
		if err == nil {
			err = ch.ExchangeDelete(cfg.Exchange, false, false)
			_ = ch.Close()
		}
		if err != nil {
			t.Errorf("delete exchange %s: %v", cfg.Exchange, err)
		}
	})
	return e
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
	ch, err := e.conn.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

// subscribe binds a queue of the test's own to the exchange, as a consumer would.
func (e *amqpEnv) subscribe(t *testing.T) <-chan amqp.Delivery {
	t.Helper()
	ch := e.channel(t)
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "", e.cfg.Exchange, false, nil); err != nil {
		t.Fatalf("bind to exchange %s: %v", e.cfg.Exchange, err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return deliveries
}

func receive(t *testing.T, deliveries <-chan amqp.Delivery) amqp.Delivery {
	t.Helper()
	select {
	case d := <-deliveries:
		return d
	case <-time.After(waitTimeout):
		t.Fatal("timed out waiting for the message")
		return amqp.Delivery{}
	}
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

// proxy forwards TCP connections to a broker. Cutting it closes every connection
// and stops listening; restoring it listens again on the same port: a broker that
// goes away and comes back, seen from the publisher. Freezing it drops all the
// traffic but keeps the connections: a broker that no longer answers.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	frozen atomic.Bool

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns []net.Conn
	wg    sync.WaitGroup
}

// viaProxy returns a proxy to the broker of rawURL, and the URL that goes through
// it.
func viaProxy(t *testing.T, rawURL string, defaultPort string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), defaultPort)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, target: target, addr: ln.Addr().String()}
	p.serve(ln)
	t.Cleanup(p.cut)
	u.Host = p.addr
	return p, u.String()
}

func (p *proxy) freeze() { p.frozen.Store(true) }

func (p *proxy) restore() {
	p.t.Helper()
	p.frozen.Store(false)
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *proxy) cut() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.forward(ln, client)
		}
	}()
}

func (p *proxy) forward(ln net.Listener, client net.Conn) {
	upstream, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln { // cut meanwhile
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	p.conns = append(p.conns, client, upstream)
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.frozen.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	p.wg.Add(2)
	go pipe(upstream, client)
	go pipe(client, upstream)
}

// closedURL is rawURL with the address of a port nobody listens on.
func closedURL(t *testing.T, rawURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}
