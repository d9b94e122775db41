package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/domain"
)

// Handler is a use case: every command and query handler has this shape.
type Handler[M, R any] interface {
	Handle(ctx context.Context, msg M) (R, error)
}

// reply is what crosses the bus back to the sender: the result, or the failure as
// a domain error, as data. requestreply's own error channel, Reply.Error, is left
// to the bus's failures, so that a handler's refusal is never mistaken for one.
type reply[R any] struct {
	Result R
	Err    *domain.Error
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

	handle := traced(op.name, b.tracer, logged(op.name, b.logger, guarded(op.name, b.logger, h)))
	if b.cfg.Observer != nil {
		handle = measured(op.name, b.cfg.Observer, handle)
	}
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
//
// The logging lives in functions of its own, out of the way of the common case:
// the router runs every message on a goroutine of its own, whose stack starts
// small, and a frame sized for a log line's fields makes it grow, a copy that
// costs more than the bus's own work for the message.
func guarded[M, R any](op string, logger *zap.Logger, h Handler[M, R]) replyFunc[M, R] {
	return func(ctx context.Context, msg M) (rep reply[R]) {
		defer func() {
			if p := recover(); p != nil {
				logPanic(ctx, logger, op, p)
				rep = reply[R]{Err: domain.ErrInternal}
			}
		}()

		res, err := h.Handle(ctx, msg)
		if err != nil {
			return reply[R]{Err: refusal(ctx, logger, op, err)}
		}
		return reply[R]{Result: res}
	}
}

// refusal is the domain error a handler's error crosses the bus as, logged when
// only the logs may tell what happened.
func refusal(ctx context.Context, logger *zap.Logger, op string, err error) *domain.Error {
	if e, ok := domain.AsError(err); ok {
		switch e.Code {
		case domain.CodeUnavailable:
			// An outage the client is told to retry: worth a look, not a page.
			logFailure(ctx, logger, zapcore.WarnLevel, op, err)
		case domain.CodeInternal:
			logFailure(ctx, logger, zapcore.ErrorLevel, op, err)
		}
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errBusy
	}
	logFailure(ctx, logger, zapcore.ErrorLevel, op, err)
	return domain.ErrInternal
}

func logPanic(ctx context.Context, logger *zap.Logger, op string, p any) {
	logger.Error("bus handler panicked", tracing.LogFields(ctx, []zap.Field{
		zap.String("operation", op),
		zap.String("correlation_id", domain.CorrelationID(ctx)),
		zap.Any("panic", p),
		zap.Stack("stack"),
	})...)
}

// logFailure writes the one line that keeps a failure's whole text. The message
// stays out of it: it may hold a password.
func logFailure(ctx context.Context, logger *zap.Logger, level zapcore.Level, op string, err error) {
	logger.Log(level, "bus handler failed", tracing.LogFields(ctx, []zap.Field{
		zap.String("operation", op),
		zap.String("correlation_id", domain.CorrelationID(ctx)),
		zap.Error(err),
	})...)
}

// logged writes one debug line per handled message: what ran, for which request,
// how long it took and how it failed. Never the message or the result: they carry
// passwords and tokens. The level is asked of the core first: it is what zap's
// Check asks first too, at a fraction of the stack.
func logged[M, R any](op string, logger *zap.Logger, next replyFunc[M, R]) replyFunc[M, R] {
	core := logger.Core()
	return func(ctx context.Context, msg M) reply[R] {
		if !core.Enabled(zapcore.DebugLevel) {
			return next(ctx, msg)
		}
		start := time.Now()
		rep := next(ctx, msg)
		logHandled(ctx, logger, op, time.Since(start), rep.Err)
		return rep
	}
}

// measured tells the observer of every message handled, whatever the log level.
func measured[M, R any](op string, obs Observer, next replyFunc[M, R]) replyFunc[M, R] {
	return func(ctx context.Context, msg M) reply[R] {
		start := time.Now()
		rep := next(ctx, msg)
		outcome := OutcomeOK
		if rep.Err != nil {
			outcome = string(rep.Err.Code)
		}
		obs.Handled(op, outcome, time.Since(start))
		return rep
	}
}

func logHandled(ctx context.Context, logger *zap.Logger, op string, took time.Duration, refused *domain.Error) {
	ce := logger.Check(zap.DebugLevel, "bus message handled")
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("operation", op),
		zap.String("correlation_id", domain.CorrelationID(ctx)),
		zap.Duration("duration", took),
	}
	if refused != nil {
		fields = append(fields, zap.String("code", string(refused.Code)))
	}
	ce.Write(tracing.LogFields(ctx, fields)...)
}
