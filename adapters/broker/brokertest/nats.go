package brokertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream is a throwaway JetStream destination: Name ("TEST_<RANDOM>") and Subject
// ("test.<random>.events") are fresh; the stream (created by whoever publishes,
// not by NewStream) is deleted when the test ends if it exists.
type Stream struct {
	Name, Subject string
	JS            jetstream.JetStream // a plain client, connected to NATSURL()
}

// NewStream reserves a stream name and subject for the test, and connects the
// plain client that looks at them. The stream is deleted when the test ends.
func NewStream(t testing.TB) *Stream {
	t.Helper()
	nc, err := nats.Connect(NATSURL())
	if err != nil {
		t.Fatalf("brokertest: NATS is unreachable at %s (set TEST_NATS_URL to a reachable server): %v",
			redacted(NATSURL()), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("brokertest: JetStream client: %v", err)
	}
	name := RandomName()
	s := &Stream{
		Name:    "TEST_" + strings.ToUpper(name),
		Subject: "test." + name + ".events",
		JS:      js,
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := js.DeleteStream(ctx, s.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Errorf("brokertest: delete stream %s: %v", s.Name, err)
		}
	})
	return s
}

// Messages waits (up to 10 s) until the stream exists and holds at least n
// messages, then reads every message stored with a plain ephemeral consumer and
// returns them in stream order (it fails the test if, after the wait, the count
// differs from n).
func (s *Stream) Messages(t testing.TB, n int) []jetstream.Msg {
	t.Helper()
	stream := s.await(t, n)
	if n == 0 {
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	consumer, err := stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		t.Fatalf("brokertest: create a consumer of stream %s: %v", s.Name, err)
	}
	msgs := make([]jetstream.Msg, 0, n)
	deadline := time.Now().Add(timeout)
	for len(msgs) < n {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		batch, err := consumer.Fetch(n-len(msgs), jetstream.FetchMaxWait(wait))
		if err != nil {
			t.Fatalf("brokertest: read stream %s: %v", s.Name, err)
		}
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("brokertest: read stream %s: %v", s.Name, err)
		}
	}
	if len(msgs) != n {
		t.Fatalf("brokertest: read %d messages of stream %s, want %d", len(msgs), s.Name, n)
	}
	return msgs
}

// await waits until the stream exists and holds at least n messages, and fails the
// test unless it then holds exactly n.
func (s *Stream) await(t testing.TB, n int) jetstream.Stream {
	t.Helper()
	if n < 0 {
		t.Fatalf("brokertest: want %d messages", n)
	}
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		stream, err := s.JS.Stream(ctx, s.Name)
		cancel()
		var stored uint64
		if err == nil {
			stored = stream.CachedInfo().State.Msgs
			if stored >= uint64(n) {
				if stored != uint64(n) {
					t.Fatalf("brokertest: stream %s holds %d messages, want %d", s.Name, stored, n)
				}
				return stream
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("brokertest: stream %s still missing after %s: %v", s.Name, timeout, err)
			}
			t.Fatalf("brokertest: stream %s holds %d messages after %s, want %d", s.Name, stored, timeout, n)
		}
		time.Sleep(poll)
	}
}
