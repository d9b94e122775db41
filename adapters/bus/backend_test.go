package bus

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"go.uber.org/zap"
)

// inboxes counts the Sends registered as waiting for a reply.
func inboxes(b *Bus) int {
	n := 0
	b.waiting.m.Range(func(any, any) bool { n++; return true })
	return n
}

// subscriptions counts the pub/sub's subscriptions, by topic.
func subscriptions(b *Bus) map[string]int {
	b.pubSub.mu.RLock()
	defer b.pubSub.mu.RUnlock()
	counts := map[string]int{}
	for topic, subs := range b.pubSub.topics {
		counts[topic] = len(subs)
	}
	return counts
}

// TestRequestsInFlightCostNoSubscriptions: a request waits in the registry, not on
// a subscription of its own, and its reply is handed to it alone.
func TestRequestsInFlightCostNoSubscriptions(t *testing.T) {
	const inFlight = 50
	arrived, release := make(chan struct{}, inFlight), make(chan struct{})
	b := startBus(t, Config{}, zap.NewNop(),
		on(func(ctx context.Context, m Double) (Doubled, error) {
			arrived <- struct{}{}
			<-release
			return double(ctx, m)
		}),
		on(greet),
	)
	before := subscriptions(b)
	if len(before) != 2 || before["bus.Double"] != 1 || before["bus.Greet"] != 1 {
		t.Fatalf("subscriptions = %v, want one per operation", before)
	}

	send := NewSender[Double, Doubled](b)
	var wg sync.WaitGroup
	for i := range inFlight {
		wg.Go(func() {
			if got, err := send.Send(t.Context(), Double{N: i}); err != nil || got.N != 2*i {
				t.Errorf("Double{%d} = %+v, %v", i, got, err)
			}
		})
	}
	for range inFlight {
		<-arrived
	}
	if during := subscriptions(b); len(during) != 2 || during["bus.Double"] != 1 {
		t.Errorf("subscriptions with %d requests in flight = %v, want one per operation", inFlight, during)
	}
	if n := inboxes(b); n != inFlight {
		t.Errorf("%d inboxes registered, want %d", n, inFlight)
	}
	close(release)
	wg.Wait()

	if n := inboxes(b); n != 0 {
		t.Errorf("%d inboxes left behind", n)
	}
}

// TestTheBackendServesSendWithReplies: the bus's senders register their inbox
// themselves, but the backend is a requestreply.Backend like any other.
func TestTheBackendServesSendWithReplies(t *testing.T) {
	b := startBus(t, Config{}, zap.NewNop(), on(double))
	backend := NewSender[Double, Doubled](b).op.backend

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cmd := &command[Double]{op: "bus.Double", operationID: "direct-1", msg: Double{N: 21}}
	replies, stop, err := requestreply.SendWithReplies[reply[Doubled]](ctx, b.commands, backend, cmd)
	if err != nil {
		t.Fatal(err)
	}
	rep := <-replies
	if rep.Error != nil || rep.HandlerResult.Err != nil || rep.HandlerResult.Result.N != 42 {
		t.Errorf("reply = %+v, want 42", rep)
	}

	stop()
	deadline := time.Now().Add(time.Second)
	for inboxes(b) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the inbox outlived SendWithReplies's stop")
		}
		time.Sleep(time.Millisecond)
	}
	if _, open := <-replies; open {
		t.Error("the replies channel is still open after stop")
	}
}

func TestAnOperationIDWaitsOnce(t *testing.T) {
	b := newBus(t, Config{}, zap.NewNop(), on(double))
	backend := NewSender[Double, Doubled](b).op.backend

	in, err := backend.listen("op-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backend.listen("op-1"); err == nil {
		t.Error("a second Send registered under the same operation id")
	}
	backend.forget("op-1", in)
	if _, open := <-in; open {
		t.Error("forget left the inbox open")
	}
	err = backend.OnCommandProcessed(t.Context(), requestreply.BackendOnCommandProcessedParams[reply[Doubled]]{
		CommandMessage: commandMessage("op-1"),
	})
	if err != nil {
		t.Errorf("a reply nobody waits for any more: %v, want it dropped", err)
	}
}

func TestAReplyWithoutAnOperationIDIsAnError(t *testing.T) {
	b := newBus(t, Config{}, zap.NewNop(), on(double))
	backend := NewSender[Double, Doubled](b).op.backend

	err := backend.OnCommandProcessed(t.Context(), requestreply.BackendOnCommandProcessedParams[reply[Doubled]]{
		CommandMessage: commandMessage(""),
	})
	if err == nil {
		t.Error("OnCommandProcessed took a command without an operation id")
	}
}

// commandMessage returns a command's message as the handler's side sees it.
func commandMessage(operationID string) *message.Message {
	msg := message.NewMessage("m1", nil)
	if operationID != "" {
		msg.Metadata.Set(requestreply.OperationIDMetadataKey, operationID)
	}
	return msg
}
