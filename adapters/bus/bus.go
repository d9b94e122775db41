package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/wmlog"
	"github.com/example/accounts/domain"
)

// correlationIDKey is the metadata key of the correlation id: the one Watermill's
// correlation middleware and the outbox's broker headers use.
const correlationIDKey = "correlation_id"

// startTimeout bounds Start's wait for the router. Over a GoChannel it runs in
// microseconds; the bound only keeps a broken start from hanging the application.
const startTimeout = 5 * time.Second

// Bus carries commands and queries from their senders to their handlers and the
// replies back. Register every handler, then Start; Close when done.
type Bus struct {
	cfg    Config
	logger *zap.Logger

	pubSub     *gochannel.GoChannel
	router     *message.Router
	commands   *cqrs.CommandBus
	processor  *cqrs.CommandProcessor
	wmLogger   watermill.LoggerAdapter
	running    atomic.Bool
	routerDone chan struct{} // closed when the router has stopped
	routerErr  error         // why it stopped, readable once routerDone is closed

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
	wmLogger := wmlog.Quiet(logger)

	// PreserveContext hands the sender's context to the handler as it is: its
	// deadline and cancellation bound the handler's work, and its values (the
	// correlation id among them) reach the handler's logs. Without it GoChannel
	// gives the handler a context of its own. BlockPublishUntilSubscriberAck stays
	// off: it deadlocks request/reply under concurrency.
	pubSub := gochannel.NewGoChannel(gochannel.Config{PreserveContext: true}, wmLogger)

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wmLogger)
	if err != nil {
		return nil, fmt.Errorf("bus: router: %w", err)
	}

	commands, err := cqrs.NewCommandBusWithConfig(pubSub, cqrs.CommandBusConfig{
		// Each operation has a command topic of its own, named after its message type.
		GeneratePublishTopic: func(p cqrs.CommandBusGeneratePublishTopicParams) (string, error) {
			return p.CommandName, nil
		},
		OnSend: func(p cqrs.CommandBusOnSendParams) error {
			if id := domain.CorrelationID(p.Message.Context()); id != "" {
				p.Message.Metadata.Set(correlationIDKey, id)
			}
			return nil
		},
		Marshaler: cqrs.JSONMarshaler{},
		Logger:    wmLogger,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: command bus: %w", err)
	}

	processor, err := cqrs.NewCommandProcessorWithConfig(router, cqrs.CommandProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.CommandProcessorGenerateSubscribeTopicParams) (string, error) {
			return p.CommandName, nil
		},
		SubscriberConstructor: func(cqrs.CommandProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return pubSub, nil
		},
		// The metadata, not the context, is what a message is sure to carry: put
		// the correlation id back where the handler and its logs look for it.
		OnHandle: func(p cqrs.CommandProcessorOnHandleParams) error {
			ctx := p.Message.Context()
			if id := p.Message.Metadata.Get(correlationIDKey); id != "" {
				ctx = domain.WithCorrelationID(ctx, id)
			}
			return p.Handler.Handle(ctx, p.Command)
		},
		Marshaler: cqrs.JSONMarshaler{},
		Logger:    wmLogger,
		// Handlers never fail (their errors travel in the reply), so an error here
		// is the bus's own: a command or reply that does not (un)marshal. Over a
		// GoChannel a redelivery would fail the same way, forever; acking ends it,
		// and the sender's bounded wait turns it into 503.
		AckCommandHandlingErrors: true,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: command processor: %w", err)
	}

	return &Bus{
		cfg:        cfg,
		logger:     logger,
		pubSub:     pubSub,
		router:     router,
		commands:   commands,
		processor:  processor,
		wmLogger:   wmLogger,
		routerDone: make(chan struct{}),
		operations: map[string]any{},
		handlers:   map[string]cqrs.CommandHandler{},
	}, nil
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
// answered: a sender whose operation has no handler would wait out ReplyTimeout on
// every call.
func (b *Bus) checkWiring() error {
	errs := slices.Clone(b.miswired)
	for _, name := range slices.Sorted(maps.Keys(b.operations)) {
		if _, ok := b.handlers[name]; !ok {
			errs = append(errs, fmt.Errorf("bus: %s has a sender but no handler", name))
		}
	}
	return errors.Join(errs...)
}

// Close stops the router, waiting up to CloseTimeout for handlers still running,
// and then the pub/sub. The router closes its subscriber, the shared pub/sub, as
// soon as it starts closing, so Sends waiting for a reply end at once with
// domain.CodeUnavailable, and so does every later Send. Close may be called more
// than once, and without Start.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.state == closed {
		return nil
	}
	wasStarted := b.state == started
	b.state = closed
	b.running.Store(false)

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

// operation is one message type on the bus and its result type. Its sender and its
// handler share the typed backend, which names the reply topic and decodes the
// reply.
type operation[M, R any] struct {
	name    string
	backend *requestreply.PubSubBackend[reply[R]]
}

// operationOf returns the operation for messages of type M, creating it on first
// use, so that senders and handlers can be made in any order. b.mu must be held.
func operationOf[M, R any](b *Bus) (*operation[M, R], error) {
	// The name the JSON marshaler gives M, e.g. "commands.Signup".
	name := cqrs.FullyQualifiedStructName(new(M))
	if found, ok := b.operations[name]; ok {
		op, ok := found.(*operation[M, R])
		if !ok {
			return nil, fmt.Errorf("bus: %s is already on the bus with other types (%T)", name, found)
		}
		return op, nil
	}

	// One reply topic per operation: a reply only wakes the senders waiting on
	// the same operation, which then pick their own by operation id.
	replyTopic := name + ".reply"
	backend, err := requestreply.NewPubSubBackend(requestreply.PubSubBackendConfig{
		Publisher: b.pubSub,
		SubscriberConstructor: func(requestreply.PubSubBackendSubscribeParams) (message.Subscriber, error) {
			return b.pubSub, nil
		},
		GeneratePublishTopic: func(requestreply.PubSubBackendPublishParams) (string, error) {
			return replyTopic, nil
		},
		GenerateSubscribeTopic: func(requestreply.PubSubBackendSubscribeParams) (string, error) {
			return replyTopic, nil
		},
		Logger:                b.wmLogger,
		ListenForReplyTimeout: &b.cfg.ReplyTimeout,
		// Without it a failed command is redelivered forever. Handlers do not fail
		// anyway (the error is in the reply); this is the second line.
		AckCommandErrors: true,
	}, requestreply.BackendPubsubJSONMarshaler[reply[R]]{})
	if err != nil {
		return nil, fmt.Errorf("bus: %s: %w", name, err)
	}

	op := &operation[M, R]{name: name, backend: backend}
	b.operations[name] = op
	return op, nil
}
