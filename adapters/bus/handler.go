package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/domain"
)

// Handler is a use case: every command and query handler has this shape.
type Handler[M, R any] interface {
	Handle(ctx context.Context, msg M) (R, error)
}

// reply is what crosses the bus back to the sender: the result, or the failure as
// a domain error, as data. requestreply would carry an error only as its text.
type reply[R any] struct {
	Result R             `json:"result"`
	Err    *domain.Error `json:"error,omitempty"`
}

// errBusy is the answer when no reply comes in time, or the bus is shutting down:
// the request may well succeed if tried again shortly.
var errBusy = domain.Unavailable("The service is busy; try again shortly.", time.Second)

// Register makes h the handler of every message of type M. The operation is named
// after M's type, e.g. "commands.Signup"; one operation has one handler. Register
// before Start.
func Register[M, R any](b *Bus, h Handler[M, R]) error {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.state != registering {
		return errors.New("bus: register handlers before Start")
	}
	op, err := operationOf[M, R](b)
	if err != nil {
		return err
	}
	if _, ok := b.handlers[op.name]; ok {
		return fmt.Errorf("bus: %s already has a handler", op.name)
	}

	handle := logged(op.name, b.logger, guarded(op.name, b.logger, h))
	b.handlers[op.name] = requestreply.NewCommandHandlerWithResult(op.name, op.backend,
		func(ctx context.Context, msg *M) (reply[R], error) {
			return handle(ctx, *msg), nil
		})
	return nil
}

// replyFunc is a handler as the bus runs it: it cannot fail, because a failure is
// part of its reply.
type replyFunc[M, R any] func(ctx context.Context, msg M) reply[R]

// guarded runs h so that whatever happens becomes a reply a client may see. Domain
// errors travel as they are, but only their code and detail cross: the cause an
// adapter wrapped around an unavailable or internal one (the driver's text, say)
// would be lost, so it is logged here, where the correlation id is known. Other
// errors and panics are bugs or outages that only the logs may describe: they are
// logged too, and cross as domain.ErrInternal. A deadline or cancellation means the
// caller has stopped waiting, or is about to: the service is busy, not broken.
func guarded[M, R any](op string, logger *zap.Logger, h Handler[M, R]) replyFunc[M, R] {
	return func(ctx context.Context, msg M) (rep reply[R]) {
		defer func() {
			if p := recover(); p != nil {
				logger.Error("bus handler panicked",
					zap.String("operation", op),
					zap.String("correlation_id", domain.CorrelationID(ctx)),
					zap.Any("panic", p),
					zap.Stack("stack"))
				rep = reply[R]{Err: domain.ErrInternal}
			}
		}()

		res, err := h.Handle(ctx, msg)
		if err == nil {
			return reply[R]{Result: res}
		}
		if e, ok := domain.AsError(err); ok {
			switch e.Code {
			case domain.CodeUnavailable:
				// An outage the client is told to retry: worth a look, not a page.
				logFailure(ctx, logger, zapcore.WarnLevel, op, err)
			case domain.CodeInternal:
				logFailure(ctx, logger, zapcore.ErrorLevel, op, err)
			}
			return reply[R]{Err: e}
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return reply[R]{Err: errBusy}
		}
		logFailure(ctx, logger, zapcore.ErrorLevel, op, err)
		return reply[R]{Err: domain.ErrInternal}
	}
}

// logFailure writes the one line that keeps a failure's whole text. The message
// stays out of it: it may hold a password.
func logFailure(ctx context.Context, logger *zap.Logger, level zapcore.Level, op string, err error) {
	logger.Log(level, "bus handler failed",
		zap.String("operation", op),
		zap.String("correlation_id", domain.CorrelationID(ctx)),
		zap.Error(err))
}

// logged writes one debug line per handled message: what ran, for which request,
// how long it took and how it failed. Never the message or the result: they carry
// passwords and tokens.
func logged[M, R any](op string, logger *zap.Logger, next replyFunc[M, R]) replyFunc[M, R] {
	return func(ctx context.Context, msg M) reply[R] {
		start := time.Now()
		rep := next(ctx, msg)
		if ce := logger.Check(zap.DebugLevel, "bus message handled"); ce != nil {
			fields := []zap.Field{
				zap.String("operation", op),
				zap.String("correlation_id", domain.CorrelationID(ctx)),
				zap.Duration("duration", time.Since(start)),
			}
			if rep.Err != nil {
				fields = append(fields, zap.String("code", string(rep.Err.Code)))
			}
			ce.Write(fields...)
		}
		return rep
	}
}
