package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// newTestPubSub returns a pub/sub closed when the test ends.
func newTestPubSub(t *testing.T) *pubSub {
	t.Helper()
	p := newPubSub()
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func subscribe(t *testing.T, p *pubSub, ctx context.Context, topic string) <-chan *message.Message {
	t.Helper()
	messages, err := p.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return messages
}

func receive(t *testing.T, messages <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-messages:
		if !ok {
			t.Fatal("subscription closed, want a message")
		}
		return msg
	case <-time.After(time.Second):
		t.Fatal("no message within a second")
		return nil
	}
}

// requireClosed fails unless messages is closed soon, with nothing left in it.
func requireClosed(t *testing.T, messages <-chan *message.Message) {
	t.Helper()
	select {
	case msg, ok := <-messages:
		if ok {
			t.Fatalf("got message %s, want the subscription closed", msg.UUID)
		}
	case <-time.After(time.Second):
		t.Fatal("subscription still open after a second")
	}
}

type testKey struct{}

func TestPubSubDeliversWithThePublishersContext(t *testing.T) {
	p := newTestPubSub(t)
	messages := subscribe(t, p, t.Context(), "topic")

	msg := message.NewMessage("m1", []byte("payload"))
	msg.Metadata.Set("k", "v")
	msg.SetContext(context.WithValue(t.Context(), testKey{}, "value"))
	if err := p.Publish("topic", msg); err != nil {
		t.Fatal(err)
	}

	got := receive(t, messages)
	if got.UUID != "m1" || string(got.Payload) != "payload" || got.Metadata.Get("k") != "v" {
		t.Errorf("got %s %q %v, want m1 \"payload\" with k=v", got.UUID, got.Payload, got.Metadata)
	}
	if v := got.Context().Value(testKey{}); v != "value" {
		t.Errorf("context value = %v, want the publisher's", v)
	}
}

func TestPubSubGivesEachSubscriberItsOwnCopy(t *testing.T) {
	p := newTestPubSub(t)
	first := subscribe(t, p, t.Context(), "topic")
	second := subscribe(t, p, t.Context(), "topic")
	other := subscribe(t, p, t.Context(), "other")

	msg := message.NewMessage("m1", nil)
	msg.SetContext(context.WithValue(t.Context(), testKey{}, "value"))
	if err := p.Publish("topic", msg); err != nil {
		t.Fatal(err)
	}

	a, b := receive(t, first), receive(t, second)
	if a == b {
		t.Fatal("both subscribers got the same *message.Message; each must ack its own")
	}
	for _, got := range []*message.Message{a, b} {
		if got.UUID != "m1" || got.Context().Value(testKey{}) != "value" {
			t.Errorf("copy %s lost its id or context", got.UUID)
		}
	}
	a.Ack()
	select {
	case <-b.Acked():
		t.Error("acking one subscriber's copy acked the other's")
	default:
	}
	select {
	case msg := <-other:
		t.Errorf("a subscriber of another topic got %s", msg.UUID)
	default:
	}
}

func TestPubSubRefusesATopicNobodySubscribesTo(t *testing.T) {
	p := newTestPubSub(t)
	if err := p.Publish("nobody", message.NewMessage("m1", nil)); err == nil {
		t.Error("Publish to a topic without subscribers succeeded; the message would be lost")
	}
}

func TestPubSubEndsASubscriptionWithItsContext(t *testing.T) {
	p := newTestPubSub(t)
	ctx, cancel := context.WithCancel(t.Context())
	messages := subscribe(t, p, ctx, "topic")

	cancel()
	requireClosed(t, messages)
	// The subscription has left the topic by the time its channel is closed.
	if err := p.Publish("topic", message.NewMessage("m1", nil)); err == nil {
		t.Error("Publish reached a subscription that had ended")
	}
}

func TestPubSubClose(t *testing.T) {
	p := newPubSub()
	messages := subscribe(t, p, t.Context(), "topic")

	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	requireClosed(t, messages)
	if err := p.Publish("topic", message.NewMessage("m1", nil)); !errors.Is(err, errClosed) {
		t.Errorf("Publish after Close: %v, want %v", err, errClosed)
	}
	if _, err := p.Subscribe(t.Context(), "topic"); !errors.Is(err, errClosed) {
		t.Errorf("Subscribe after Close: %v, want %v", err, errClosed)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPubSubReleasesAPublishWaitingForRoom: a subscriber that stopped reading
// must not hold its publishers, nor the pub/sub's Close, for ever.
func TestPubSubReleasesAPublishWaitingForRoom(t *testing.T) {
	p := newPubSub()
	subscribe(t, p, t.Context(), "topic") // never read
	for i := range subscriptionBuffer {
		if err := p.Publish("topic", message.NewMessage(string(rune(i)), nil)); err != nil {
			t.Fatal(err)
		}
	}

	published := make(chan error)
	go func() { published <- p.Publish("topic", message.NewMessage("one too many", nil)) }()
	select {
	case err := <-published:
		t.Fatalf("Publish to a full subscription returned at once (%v), want it to wait", err)
	case <-time.After(20 * time.Millisecond):
	}

	closed := make(chan error)
	go func() { closed <- p.Close() }()
	for _, done := range []chan error{published, closed} {
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(time.Second):
			t.Fatal("Close did not release the waiting Publish")
		}
	}
}
