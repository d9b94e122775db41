package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/domain"
)

// correlationIDKey is the metadata key of the correlation id: the one Watermill's
// correlation middleware and the outbox's broker headers use.
const correlationIDKey = "correlation_id"

// startTimeout bounds Start's wait for the router. In one process it starts in
// microseconds; the bound only keeps a broken start from hanging the application.
const startTimeout = 5 * time.Second

// Bus carries commands and queries from their senders to their handlers and the
// replies back. Register every handler, then Start; Close when done.
type Bus struct {
	cfg    Config
	logger *zap.Logger
	tracer *tracer // nil when tracing is off

	pubSub       *pubSub
	router       *message.Router
	commands     *cqrs.CommandBus
	processor    *cqrs.CommandProcessor
	waiting      *waiting
	operationIDs atomic.Uint64 // see newOperationID
	running      atomic.Bool
	closing      chan struct{} // closed when Close begins: waiting Sends end at once
	routerDone   chan struct{} // closed when the router has stopped
	routerErr    error         // why it stopped, readable once routerDone is closed

	mu    sync.Mutex
	state state
	// operations holds one *operation[M, R] per message type, by operation name.
	operations map[string]any
	// handlers holds the registered handlers, by operation name.
	handlers map[string]cqrs.CommandHandler
	// miswired collects senders whose types disagree with an earlier sender or
	// handler of the same operation; Start reports them.
	miswired []error
}

type state int

const (
	registering state = iota
	started
	closed
)

// New builds a bus that is ready to have handlers registered.
func New(cfg Config, logger *zap.Logger) (*Bus, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	wmLogger := newQuietLogger(logger)

	// The pub/sub hands the sender's context to the handler as it is: its deadline
	// and cancellation bound the handler's work, and its values (the correlation id
	// among them) reach the handler's logs.
	pubSub := newPubSub()

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wmLogger)
	if err != nil {
		return nil, fmt.Errorf("bus: router: %w", err)
	}

	b := &Bus{
		cfg:        cfg,
		logger:     logger,
		tracer:     newTracer(cfg),
		pubSub:     pubSub,
		router:     router,
		waiting:    &waiting{},
		closing:    make(chan struct{}),
		routerDone: make(chan struct{}),
		operations: map[string]any{},
		handlers:   map[string]cqrs.CommandHandler{},
	}
	router.AddMiddleware(b.answerUnhandled)

	b.commands, err = cqrs.NewCommandBusWithConfig(pubSub, cqrs.CommandBusConfig{
		// Each operation has a command topic of its own, named after its message type.
		GeneratePublishTopic: func(p cqrs.CommandBusGeneratePublishTopicParams) (string, error) {
			return p.CommandName, nil
		},
		OnSend: func(p cqrs.CommandBusOnSendParams) error {
			if id := domain.CorrelationID(p.Message.Context()); id != "" {
				p.Message.Metadata.Set(correlationIDKey, id)
			}
			b.tracer.inject(p.Message)
			return codec{}.attach(p.Message, p.Command)
		},
		Marshaler: codec{},
		Logger:    wmLogger,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: command bus: %w", err)
	}

	b.processor, err = cqrs.NewCommandProcessorWithConfig(router, cqrs.CommandProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.CommandProcessorGenerateSubscribeTopicParams) (string, error) {
			return p.CommandName, nil
		},
		SubscriberConstructor: func(cqrs.CommandProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return pubSub, nil
		},
		// The metadata, not the context, is what a message is sure to carry: put
		// the correlation id back where the handler and its logs look for it, unless
		// the sender's context, which the pub/sub delivers, has it there already.
		OnHandle: func(p cqrs.CommandProcessorOnHandleParams) error {
			ctx := p.Message.Context()
			if id := p.Message.Metadata.Get(correlationIDKey); id != "" && id != domain.CorrelationID(ctx) {
				ctx = domain.WithCorrelationID(ctx, id)
			}
			ctx = b.tracer.extract(ctx, p.Message)
			return p.Handler.Handle(ctx, p.Command)
		},
		// AckCommandHandlingErrors stays off: handlers never fail (their errors
		// travel in the reply), so an error here is the bus's own, and
		// answerUnhandled, which sees every error the processor returns, answers
		// the sender with it and acks the message.
		Marshaler: codec{},
		Logger:    wmLogger,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: command processor: %w", err)
	}
	return b, nil
}

// answerUnhandled deals with a command the bus failed to hand to its handler, or
// whose reply it failed to hand back: a message that carries no command, say, or a
// panic outside the handler (the handler's own become its reply). The sender hears
// of the error at once rather than after ReplyTimeout, and logs it with its
// request's correlation id; an error nobody waits for any more is logged here. The
// message is acked: the router would nack it, and an in-process redelivery would
// only fail the same way again. GoChannel's, for one, comes at once and for ever,
// and the processor returns an unmarshaling error before it looks at
// AckCommandHandlingErrors (Watermill v1.5.1: message/router.go:818, 829;
// pubsub/gochannel/pubsub.go:413-415; components/cqrs/command_processor.go:344-346,
// 362).
func (b *Bus) answerUnhandled(next message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) (produced []*message.Message, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("bus: panic: %v", p)
			}
			if err != nil {
				b.unhandled(msg, err)
				produced, err = nil, nil
			}
		}()
		return next(msg)
	}
}

func (b *Bus) unhandled(msg *message.Message, err error) {
	id := requestreply.OperationID(msg.Metadata.Get(requestreply.OperationIDMetadataKey))
	if w, ok := b.waiting.take(id); ok {
		w.fail(err)
		return
	}
	b.logger.Error("bus message not handled", tracing.LogFields(msg.Context(), []zap.Field{
		zap.String("operation", msg.Metadata.Get(nameKey)),
		zap.String("correlation_id", msg.Metadata.Get(correlationIDKey)),
		zap.Error(err),
	})...)
}

// Start puts every registered handler on the router and runs it. The router runs
// on a context of its own, not the caller's: an application's start context ends
// when starting is done, and would stop the bus with it.
func (b *Bus) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.state != registering {
		return errors.New("bus: already started or closed")
	}
	if err := b.checkWiring(); err != nil {
		return err
	}
	// One AddHandlers call, because Watermill only detects duplicates within one;
	// sorted so that the router's logs read the same on every start.
	handlers := slices.SortedFunc(maps.Values(b.handlers), func(a, c cqrs.CommandHandler) int {
		return cmp.Compare(a.HandlerName(), c.HandlerName())
	})
	if err := b.processor.AddHandlers(handlers...); err != nil {
		return fmt.Errorf("bus: %w", err)
	}

	b.state = started
	go func() {
		defer close(b.routerDone)
		b.routerErr = b.router.Run(context.Background())
	}()

	select {
	case <-b.router.Running():
		b.running.Store(true)
		return nil
	case <-b.routerDone:
		return fmt.Errorf("bus: router stopped while starting: %w", b.routerErr)
	case <-time.After(startTimeout):
		return fmt.Errorf("bus: router not running after %s", startTimeout)
	}
}

// checkWiring refuses to start a bus on which some request could never be
// answered: a sender whose operation has no handler would fail every call.
func (b *Bus) checkWiring() error {
	errs := slices.Clone(b.miswired)
	for _, name := range slices.Sorted(maps.Keys(b.operations)) {
		if _, ok := b.handlers[name]; !ok {
			errs = append(errs, fmt.Errorf("bus: %s has a sender but no handler", name))
		}
	}
	return errors.Join(errs...)
}

// Close ends the Sends waiting for a reply at once, with domain.CodeUnavailable,
// and so does every later Send; it then stops the router, waiting up to
// CloseTimeout for handlers still running, and the pub/sub. Close may be called
// more than once, and without Start.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.state == closed {
		return nil
	}
	wasStarted := b.state == started
	b.state = closed
	b.running.Store(false)
	close(b.closing)

	err := b.router.Close()
	if wasStarted {
		<-b.routerDone // nothing of the bus runs once Close returns
	}
	if err := errors.Join(err, b.pubSub.Close()); err != nil {
		return fmt.Errorf("bus: close: %w", err)
	}
	return nil
}

// Ready reports whether the bus answers requests; the readiness probe asks it.
func (b *Bus) Ready() error {
	if !b.running.Load() {
		return errors.New("bus: not running")
	}
	select {
	case <-b.routerDone:
		return errors.New("bus: router stopped")
	default:
		return nil
	}
}

// newOperationID returns the id a Send waits for its reply under. It only has to
// tell apart the Sends of this bus, so a counter serves: requestreply's random
// UUID per Send would cost a read of the system's random source.
func (b *Bus) newOperationID() requestreply.OperationID {
	return requestreply.OperationID(strconv.FormatUint(b.operationIDs.Add(1), 36))
}

// operation is one message type on the bus and its result type. Its sender and its
// handler share the typed backend, which hands the handler's reply to the sender.
type operation[M, R any] struct {
	name    string
	backend backend[R]
}

// operationOf returns the operation for messages of type M, creating it on first
// use, so that senders and handlers can be made in any order. b.mu must be held.
func operationOf[M, R any](b *Bus) (*operation[M, R], error) {
	// The name the codec gives M, e.g. "commands.Signup": also its topic.
	name := cqrs.FullyQualifiedStructName(new(M))
	if found, ok := b.operations[name]; ok {
		op, ok := found.(*operation[M, R])
		if !ok {
			return nil, fmt.Errorf("bus: %s is already on the bus with other types (%T)", name, found)
		}
		return op, nil
	}
	op := &operation[M, R]{name: name, backend: backend[R]{waiting: b.waiting}}
	b.operations[name] = op
	return op, nil
}
