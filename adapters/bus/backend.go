package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/components/requestreply"
)

// waiting is the bus's registry of the Sends waiting for a reply, by operation id.
// Handing a reply to its own sender is one lookup, however many others wait.
type waiting struct {
	m sync.Map // requestreply.OperationID → inbox[R] of the operation's R
}

// waiter is an inbox of any result type, as answerUnhandled sees it.
type waiter interface {
	fail(err error)
}

// take removes the waiter for id from the registry, if it still waits.
func (w *waiting) take(id requestreply.OperationID) (waiter, bool) {
	found, ok := w.m.LoadAndDelete(id)
	if !ok {
		return nil, false
	}
	return found.(waiter), true
}

// inbox is where one Send's reply lands. Whoever removes it from the registry
// closes it, after putting in the reply if they have one: so it is closed exactly
// once, takes at most one value, and a buffer of one means nobody ever blocks on it.
// (requestreply.PubSubBackend's listener can block for ever on a channel like this
// one, its second value having no room: Watermill v1.5.1,
// requestreply/backend_pubsub.go:180-183.)
type inbox[R any] chan requestreply.Reply[reply[R]]

func (in inbox[R]) deliver(rep requestreply.Reply[reply[R]]) {
	in <- rep
	close(in)
}

func (in inbox[R]) fail(err error) {
	in.deliver(requestreply.Reply[reply[R]]{Error: err})
}

// backend is the requestreply.Backend of one operation, with results of type R.
//
// It replaces requestreply.PubSubBackend, which subscribes every request to a
// reply topic, with a goroutine to listen to it, and publishes every reply to it,
// so that each reply reaches every request waiting on that topic, to be dropped by
// all but one (Watermill v1.5.1, requestreply/backend_pubsub.go:135-152, 167, 291):
// a cost per reply that grows with the requests in flight. Here the handler's side
// hands the typed reply to its own sender's inbox, found by the operation id that
// requestreply puts in the command's metadata.
type backend[R any] struct {
	waiting *waiting
}

var _ requestreply.Backend[reply[struct{}]] = backend[struct{}]{}

// listen registers the inbox of a Send about to publish its command as id.
func (b backend[R]) listen(id requestreply.OperationID) (inbox[R], error) {
	in := make(inbox[R], 1)
	if _, taken := b.waiting.m.LoadOrStore(id, in); taken {
		return nil, fmt.Errorf("bus: operation %s is already waiting for a reply", id)
	}
	return in, nil
}

// forget ends the wait registered as id, unless its reply has ended it already.
func (b backend[R]) forget(id requestreply.OperationID, in inbox[R]) {
	if b.waiting.m.CompareAndDelete(id, in) {
		close(in)
	}
}

// ListenForNotifications is listen for requestreply.SendWithReplies: the wait ends
// with ctx, which SendWithReplies's cancel function ends. Senders call listen and
// forget instead, which spares them a goroutine per request to watch ctx, the
// context SendWithReplies adds, and the random UUID it draws for the operation id.
func (b backend[R]) ListenForNotifications(ctx context.Context, params requestreply.BackendListenForNotificationsParams) (<-chan requestreply.Reply[reply[R]], error) {
	in, err := b.listen(params.OperationID)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { b.forget(params.OperationID, in) })
	return in, nil
}

// OnCommandProcessed hands the handler's reply to its sender, if the sender still
// waits for it.
func (b backend[R]) OnCommandProcessed(_ context.Context, params requestreply.BackendOnCommandProcessedParams[reply[R]]) error {
	id := requestreply.OperationID(params.CommandMessage.Metadata.Get(requestreply.OperationIDMetadataKey))
	if id == "" {
		return errors.New("bus: the command has no operation id")
	}
	found, ok := b.waiting.take(id)
	if !ok {
		return nil // the sender has stopped waiting, and answered its caller already
	}
	in, ok := found.(inbox[R])
	if !ok {
		// Not while an operation has one result type, which operationOf sees to;
		// but the sender must hear of it rather than wait.
		err := fmt.Errorf("bus: operation %s waits for another result type than %T", id, params.HandlerResult.Result)
		found.fail(err)
		return err
	}
	in.deliver(requestreply.Reply[reply[R]]{HandlerResult: params.HandlerResult, Error: params.HandleErr})
	return nil
}
