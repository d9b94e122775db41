package bus

import (
	"context"
	"errors"

	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"go.uber.org/zap"

	"github.com/example/accounts/domain"
)

// Sender sends messages of type M to their handler and waits for its result. It is
// safe for concurrent use.
type Sender[M, R any] struct {
	bus *Bus
	op  *operation[M, R]
	// err is set when M's operation is already on the bus with other types; Start
	// reports it too, so a correct application never sees it from Send.
	err error
}

// NewSender returns the sender of messages of type M. It may be made before or
// after M's handler is registered; Start checks that every sender made before it
// has a handler.
func NewSender[M, R any](b *Bus) *Sender[M, R] {
	b.mu.Lock()
	defer b.mu.Unlock()

	op, err := operationOf[M, R](b)
	if err != nil {
		b.miswired = append(b.miswired, err)
	}
	return &Sender[M, R]{bus: b, op: op, err: err}
}

// Send hands msg to its handler and returns the handler's result, or its error as a
// *domain.Error, so errors.Is(err, domain.ErrNotFound) works here as in the
// handler. When no reply comes in time (ReplyTimeout or ctx's deadline) or the bus
// is closed, the error is domain.CodeUnavailable with a retry hint; when ctx is
// canceled, it is ctx.Err().
func (s *Sender[M, R]) Send(ctx context.Context, msg M) (R, error) {
	var zero R
	if s.err != nil {
		return zero, s.err
	}
	if s.bus.Ready() != nil {
		return zero, errBusy
	}

	// The handler gets this context, so it stops working when the wait ends.
	wait, cancel := context.WithTimeout(ctx, s.bus.cfg.ReplyTimeout)
	defer cancel()

	rep, err := s.sendAndWait(wait, msg)
	if err == nil {
		err = rep.Error
	}
	if err != nil {
		return zero, s.failed(ctx, wait, err)
	}
	if e := rep.HandlerResult.Err; e != nil {
		return zero, e
	}
	return rep.HandlerResult.Result, nil
}

// sendAndWait is requestreply.SendWithReply without its goroutine leak (watermill
// v1.5.1): the reply listener sends one more reply when it stops, into a channel of
// one, so if the first reply landed just as the wait ended and nobody took it, the
// listener blocks forever. Draining the channel until the listener closes it lets it
// end.
func (s *Sender[M, R]) sendAndWait(wait context.Context, msg M) (requestreply.Reply[reply[R]], error) {
	replies, stop, err := requestreply.SendWithReplies[reply[R]](wait, s.bus.commands, s.op.backend, msg)
	if err != nil {
		stop()
		return requestreply.Reply[reply[R]]{}, err
	}
	defer func() {
		stop()
		for range replies {
		}
	}()
	select {
	case <-wait.Done():
		return requestreply.Reply[reply[R]]{}, wait.Err()
	case rep, ok := <-replies:
		if !ok {
			return requestreply.Reply[reply[R]]{}, errors.New("bus: the reply listener stopped without a reply")
		}
		return rep, nil
	}
}

// failed says why no reply came, in terms the caller can act on.
func (s *Sender[M, R]) failed(ctx, wait context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if s.bus.Ready() != nil {
		return errBusy
	}
	fields := []zap.Field{
		zap.String("operation", s.op.name),
		zap.String("correlation_id", domain.CorrelationID(ctx)),
		zap.Error(err),
	}
	if wait.Err() != nil || errors.As(err, new(requestreply.ReplyTimeoutError)) {
		s.bus.logger.Warn("bus reply timed out", fields...)
		return errBusy
	}
	// A message or reply that does not marshal: a bug, to be found in the logs.
	s.bus.logger.Error("bus send failed", fields...)
	return domain.ErrInternal
}
