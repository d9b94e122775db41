package bus

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/domain"
)

func TestTheCodecHandsTheCommandOverTyped(t *testing.T) {
	cmd := &command[Double]{op: "bus.Double", operationID: "op-1", msg: Double{N: 21}}
	msg, err := codec{}.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := (codec{}).attach(msg, cmd); err != nil {
		t.Fatal(err)
	}
	if got := (codec{}).NameFromMessage(msg); got != "bus.Double" {
		t.Errorf("NameFromMessage = %q, want bus.Double", got)
	}
	if got := msg.Metadata.Get(requestreply.OperationIDMetadataKey); got != "op-1" {
		t.Errorf("operation id = %q, want op-1", got)
	}
	for v, want := range map[any]string{cmd: "bus.Double", new(Double): "bus.Double", &Greet{}: "bus.Greet"} {
		if got := (codec{}).Name(v); got != want {
			t.Errorf("Name(%T) = %q, want %q", v, got, want)
		}
	}

	var got Double
	if err := (codec{}).Unmarshal(msg, &got); err != nil {
		t.Fatal(err)
	}
	if got.N != 21 {
		t.Errorf("Unmarshal = %+v, want N 21", got)
	}
}

// TestTheCodecRefusesAMessageWithoutItsCommand: the command rides in the context,
// so a message without one must fail to unmarshal, never unmarshal to a zero value.
func TestTheCodecRefusesAMessageWithoutItsCommand(t *testing.T) {
	other := &command[Double]{op: "bus.Double", operationID: "op-other", msg: Double{N: 1}}
	greet := &command[Greet]{op: "bus.Greet", operationID: "op-1", msg: Greet{Name: "alice"}}
	tests := map[string]context.Context{
		"no command":                context.Background(),
		"another message's":         context.WithValue(context.Background(), commandKey{}, outgoing(other)),
		"a command of another type": context.WithValue(context.Background(), commandKey{}, outgoing(greet)),
	}
	for name, ctx := range tests {
		t.Run(name, func(t *testing.T) {
			msg := message.NewMessageWithContext(ctx, "op-1", nil)
			var got Double
			if err := (codec{}).Unmarshal(msg, &got); err == nil {
				t.Errorf("Unmarshal succeeded with %+v", got)
			}
		})
	}

	if _, err := (codec{}).Marshal(Double{}); err == nil {
		t.Error("Marshal took a message that did not come from a Sender")
	}
}

// TestAMessageWithoutItsCommandFailsItsSenderAtOnce: the handler never runs, and
// the sender waiting for the reply hears of it now rather than after ReplyTimeout.
func TestAMessageWithoutItsCommandFailsItsSenderAtOnce(t *testing.T) {
	logger, logs := observed()
	var handled atomic.Int32
	b := startBus(t, Config{ReplyTimeout: time.Minute}, logger, on(func(context.Context, Double) (Doubled, error) {
		handled.Add(1)
		return Doubled{}, nil
	}))
	backend := NewSender[Double, Doubled](b).op.backend

	const id = requestreply.OperationID("forged-1")
	in, err := backend.listen(id)
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(string(id), []byte(`{"n":21}`))
	msg.Metadata.Set(nameKey, "bus.Double")
	msg.Metadata.Set(requestreply.OperationIDMetadataKey, string(id))
	if err := b.pubSub.Publish("bus.Double", msg); err != nil {
		t.Fatal(err)
	}

	select {
	case rep, ok := <-in:
		if !ok || rep.Error == nil || !strings.Contains(rep.Error.Error(), "carries no command") {
			t.Errorf("reply = %+v (open: %t), want the codec's error", rep, ok)
		}
	case <-time.After(time.Second):
		t.Fatal("no answer within a second")
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("the handler ran %d times", n)
	}

	// Nobody waits for the next one: it is logged instead.
	msg = message.NewMessage("forged-2", nil)
	msg.Metadata.Set(nameKey, "bus.Double")
	msg.Metadata.Set(requestreply.OperationIDMetadataKey, "forged-2")
	if err := b.pubSub.Publish("bus.Double", msg); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for logs.FilterMessage("bus message not handled").FilterLevelExact(zapcore.ErrorLevel).Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the unanswered failure was not logged")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAFailureOutsideTheHandlerAnswersItsSender: whatever the router would nack
// (an error, a panic) is answered and acked instead, so that nothing redelivers it.
func TestAFailureOutsideTheHandlerAnswersItsSender(t *testing.T) {
	b := newBus(t, Config{}, zap.NewNop(), on(double))
	backend := NewSender[Double, Doubled](b).op.backend

	for name, next := range map[string]message.HandlerFunc{
		"error": func(*message.Message) ([]*message.Message, error) { return nil, errors.New("boom") },
		"panic": func(*message.Message) ([]*message.Message, error) { panic("boom") },
	} {
		t.Run(name, func(t *testing.T) {
			id := b.newOperationID()
			in, err := backend.listen(id)
			if err != nil {
				t.Fatal(err)
			}
			msg := message.NewMessage(string(id), nil)
			msg.Metadata.Set(requestreply.OperationIDMetadataKey, string(id))

			produced, err := b.answerUnhandled(next)(msg)
			if produced != nil || err != nil {
				t.Errorf("answerUnhandled = %v, %v; want the message acked", produced, err)
			}
			rep, ok := <-in
			if !ok || rep.Error == nil || !strings.Contains(rep.Error.Error(), "boom") {
				t.Errorf("reply = %+v (open: %t), want the failure", rep, ok)
			}
		})
	}
}

// TestTheCallerGetsACopyOfTheDomainError: handlers return package-level sentinels;
// a caller that adjusted the error it got must not change them for everyone.
func TestTheCallerGetsACopyOfTheDomainError(t *testing.T) {
	sentinel := domain.ValidationError(domain.FieldError{Field: "username", Message: "Too short."})
	b := startBus(t, Config{}, zap.NewNop(), on(func(context.Context, Double) (Doubled, error) {
		return Doubled{}, sentinel
	}))

	_, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{})
	got := asDomainError(t, err)
	if got == sentinel {
		t.Fatal("the caller got the handler's very *domain.Error")
	}
	got.Detail = "changed"
	got.Fields[0].Message = "changed"
	if sentinel.Detail == "changed" || sentinel.Fields[0].Message == "changed" {
		t.Errorf("changing the caller's error changed the handler's: %+v", sentinel)
	}
}
