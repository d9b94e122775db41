package bus

import (
	"context"
	"errors"
	"slices"

	"go.uber.org/zap"

	"github.com/example/accounts/adapters/tracing"
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

// errNoReply is why a Send fails whose inbox was closed without a reply. Nothing
// of the bus does that to a Send still waiting: should something, it is a bug, and
// must not pass for a success with a zero result.
var errNoReply = errors.New("bus: the reply inbox was closed empty")

// Send hands msg to its handler and returns the handler's result, or its error as a
// *domain.Error, so errors.Is(err, domain.ErrNotFound) works here as in the
// handler. When no reply comes in time (ReplyTimeout or ctx's deadline) or the bus
// is closed, the error is domain.CodeUnavailable with a retry hint; when ctx is
// canceled, it is ctx.Err().
//
// msg and the result are handed over, not copied: the handler must not keep or
// change what msg refers to, nor the caller what the result refers to once the
// handler has returned it.
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

	// What requestreply.SendWithReplies does, with the backend's own registration
	// (see backend.ListenForNotifications): the inbox first, so that no reply can
	// come before it, then the command.
	id := s.bus.newOperationID()
	in, err := s.op.backend.listen(id)
	if err != nil {
		return zero, s.failed(ctx, wait, err)
	}
	defer s.op.backend.forget(id, in)
	if err := s.bus.commands.Send(wait, &command[M]{op: s.op.name, operationID: string(id), msg: msg}); err != nil {
		return zero, s.failed(ctx, wait, err)
	}

	select {
	case rep, ok := <-in:
		switch {
		case !ok:
			return zero, s.failed(ctx, wait, errNoReply)
		case rep.Error != nil:
			return zero, s.failed(ctx, wait, rep.Error)
		case rep.HandlerResult.Err != nil:
			// The handler's refusal may be its answer to the cancellation, and
			// may come as soon as the cancellation itself: a canceled caller gets
			// ctx.Err() whichever the select sees first.
			if err := ctx.Err(); errors.Is(err, context.Canceled) {
				return zero, err
			}
			return zero, rebuilt(rep.HandlerResult.Err)
		}
		return rep.HandlerResult.Result, nil
	case <-wait.Done():
		return zero, s.failed(ctx, wait, wait.Err())
	case <-s.bus.closing:
		return zero, errBusy
	case <-s.bus.routerDone:
		return zero, errBusy
	}
}

// rebuilt gives the caller a *domain.Error of its own: the handler's is often a
// package-level sentinel such as domain.ErrNotFound, which a caller that adjusted
// its error would otherwise change for everyone.
func rebuilt(e *domain.Error) *domain.Error {
	c := *e
	c.Fields = slices.Clone(e.Fields)
	return &c
}

// failed says why no reply came, in terms the caller can act on.
func (s *Sender[M, R]) failed(ctx, wait context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if s.bus.Ready() != nil {
		return errBusy
	}
	fields := tracing.LogFields(ctx, []zap.Field{
		zap.String("operation", s.op.name),
		zap.String("correlation_id", domain.CorrelationID(ctx)),
		zap.Error(err),
	})
	if wait.Err() != nil {
		s.bus.logger.Warn("bus reply timed out", fields...)
		return errBusy
	}
	// A command the bus could not hand to its handler, or a reply it could not hand
	// back: a bug, to be found in the logs.
	s.bus.logger.Error("bus send failed", fields...)
	return domain.ErrInternal
}
