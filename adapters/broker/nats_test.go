package broker_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/example/accounts/adapters/broker"
	"github.com/example/accounts/adapters/broker/brokertest"
)

func TestNATSPublishesTheContract(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	pub := env.publisher(t, brokertest.NATSURL())
	waitReady(t, pub)

	traced := newEvent()
	untraced := newEvent()
	delete(untraced.Metadata, "traceparent")
	delete(untraced.Metadata, "tracestate")
	if err := pub.Publish(env.cfg.Subject, traced, untraced); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// Published again, as after a lost acknowledgement: stored once.
	if err := pub.Publish(env.cfg.Subject, traced.Copy()); err != nil {
		t.Fatalf("publish again: %v", err)
	}

	msgs := env.Messages(t, 2)
	for i, sent := range []*message.Message{traced, untraced} {
		got := msgs[i]
		if got.Subject() != env.cfg.Subject {
			t.Errorf("subject %q, want %q", got.Subject(), env.cfg.Subject)
		}
		if string(got.Data()) != string(sent.Payload) {
			t.Errorf("payload %s, want %s", got.Data(), sent.Payload)
		}
		want := nats.Header{
			"Nats-Msg-Id":    {sent.UUID},
			"Content-Type":   {"application/json"},
			"correlation_id": {sent.Metadata.Get("correlation_id")},
		}
		if tp := sent.Metadata.Get("traceparent"); tp != "" {
			want["traceparent"] = []string{tp}
			want["tracestate"] = []string{sent.Metadata.Get("tracestate")}
		}
		if !reflect.DeepEqual(got.Headers(), want) {
			t.Errorf("headers\n got %v\nwant %v", got.Headers(), want)
		}
	}

	sc := env.streamConfig(t)
	if !slices.Equal(sc.Subjects, []string{env.cfg.Subject}) || sc.Storage != jetstream.FileStorage ||
		sc.Duplicates != 2*time.Minute {
		t.Errorf("stream declared with subjects %v, storage %v, duplicate window %s; want [%s], file, 2m",
			sc.Subjects, sc.Storage, sc.Duplicates, env.cfg.Subject)
	}
}

func TestNATSUpdatesAnExistingStream(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	other := env.cfg.Subject + ".other"
	_, err := env.JS.CreateStream(ctx, jetstream.StreamConfig{
		Name:       env.cfg.Stream,
		Subjects:   []string{other},
		Storage:    jetstream.FileStorage,
		Duplicates: 10 * time.Second,
		MaxAge:     time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}

	pub := env.publisher(t, brokertest.NATSURL())
	waitReady(t, pub)

	sc := env.streamConfig(t)
	if !slices.Equal(sc.Subjects, []string{other, env.cfg.Subject}) {
		t.Errorf("subjects %v, want the subject added", sc.Subjects)
	}
	if sc.Duplicates != 2*time.Minute {
		t.Errorf("duplicate window %s, want 2m", sc.Duplicates)
	}
	if sc.MaxAge != time.Hour {
		t.Errorf("max age %s, want the operator's 1h kept", sc.MaxAge)
	}
}

func TestNATSRefusalsAreNotUnavailability(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	pub := env.publisher(t, brokertest.NATSURL())
	waitReady(t, pub)

	noID := newEvent()
	noID.UUID = ""
	tooBig := newEvent()
	tooBig.Payload = []byte(`"` + strings.Repeat("x", 2<<20) + `"`)
	for name, publish := range map[string]func() error{
		"another topic":  func() error { return pub.Publish("user.other", newEvent()) },
		"no event id":    func() error { return pub.Publish(env.cfg.Subject, noID) },
		"over max bytes": func() error { return pub.Publish(env.cfg.Subject, tooBig) },
	} {
		if err := publish(); err == nil || broker.IsUnavailable(err) {
			t.Errorf("%s: got %v, want an error that is not an unavailability", name, err)
		}
	}
	if err := pub.Publish(pub.Topic(), newEvent()); err != nil {
		t.Errorf("publish after the refusals: %v", err)
	}
	env.Messages(t, 1)
}

func TestNATSDownAtStart(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	proxy, url := brokertest.ViaProxy(t, brokertest.NATSURL(), "4222")
	proxy.Cut()

	start := time.Now()
	pub := env.publisher(t, url)
	if took := time.Since(start); took > fast {
		t.Errorf("construction took %s with the server down", took)
	}
	assertDownLogged(t, env.logs)
	if err := pub.Ready(); err == nil {
		t.Fatal("ready with the server down")
	}
	assertFastUnavailable(t, func() error { return pub.Publish(env.cfg.Subject, newEvent()) })

	proxy.Restore()
	waitReady(t, pub)
	sent := newEvent()
	if err := pub.Publish(env.cfg.Subject, sent); err != nil {
		t.Fatalf("publish once the server is up: %v", err)
	}
	// Only that one: the publish that failed was not kept to be sent on connection.
	if got := env.Messages(t, 1)[0]; string(got.Data()) != string(sent.Payload) {
		t.Errorf("stored %s, want %s", got.Data(), sent.Payload)
	}

	if n := env.logs.FilterMessage("publishing events to NATS JetStream").Len(); n != 1 {
		t.Errorf("%d info lines on connection, want 1", n)
	}
}

func TestNATSOutage(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	proxy, url := brokertest.ViaProxy(t, brokertest.NATSURL(), "4222")
	pub := env.publisher(t, url)
	waitReady(t, pub)
	if err := pub.Publish(env.cfg.Subject, newEvent()); err != nil {
		t.Fatalf("publish before the outage: %v", err)
	}

	proxy.Cut()
	assertFastUnavailable(t, func() error { return pub.Publish(env.cfg.Subject, newEvent()) })
	waitNotReady(t, pub)
	assertFastUnavailable(t, func() error { return pub.Publish(env.cfg.Subject, newEvent()) })

	// Lost with the server's data, say: the publisher must declare it again.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := env.JS.DeleteStream(ctx, env.cfg.Stream); err != nil {
		t.Fatal(err)
	}

	proxy.Restore()
	waitReady(t, pub)
	sent := newEvent()
	if err := pub.Publish(env.cfg.Subject, sent); err != nil {
		t.Fatalf("publish after the outage: %v", err)
	}
	if got := env.Messages(t, 1)[0]; string(got.Data()) != string(sent.Payload) {
		t.Errorf("stored %s, want %s", got.Data(), sent.Payload)
	}
	if sc := env.streamConfig(t); sc.Duplicates != 2*time.Minute {
		t.Errorf("stream declared again with a duplicate window of %s, want 2m", sc.Duplicates)
	}
}

// A stream deleted under a connected publisher is declared again: the publish
// that finds it missing fails as an unavailability, a later one goes through.
func TestNATSStreamDeletedWhileConnected(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	pub := env.publisher(t, brokertest.NATSURL())
	waitReady(t, pub)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := env.JS.DeleteStream(ctx, env.cfg.Stream); err != nil {
		t.Fatal(err)
	}

	if err := pub.Publish(env.cfg.Subject, newEvent()); !broker.IsUnavailable(err) {
		t.Fatalf("publish without a stream: got %v, want an unavailability", err)
	}
	waitReady(t, pub)
	if err := pub.Publish(env.cfg.Subject, newEvent()); err != nil {
		t.Fatalf("publish once declared again: %v", err)
	}
	env.Messages(t, 1)
}

func TestNATSPublishWithoutAnswer(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	env.cfg.PublishTimeout = time.Second
	proxy, url := brokertest.ViaProxy(t, brokertest.NATSURL(), "4222")
	pub := env.publisher(t, url)
	waitReady(t, pub)
	assertInterruptedPublishes(t, proxy, env.cfg.PublishTimeout, func() error {
		return pub.Publish(env.cfg.Subject, newEvent())
	})
}

func TestNATSConcurrentPublishes(t *testing.T) {
	t.Parallel()
	env := newNATSEnv(t)
	pub := env.publisher(t, brokertest.NATSURL())
	waitReady(t, pub)
	ids := publishConcurrently(t, 20, func(msg *message.Message) error { return pub.Publish(pub.Topic(), msg) })
	for _, m := range env.Messages(t, len(ids)) {
		if !ids[m.Headers().Get("Nats-Msg-Id")] {
			t.Errorf("stored %s, which was not published", m.Headers().Get("Nats-Msg-Id"))
		}
	}
}
