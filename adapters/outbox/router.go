package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/domain"
)

// Consumer is one consumer group of the outbox and what it does with each event.
// Make one with HandleEvents or ForwardEvents.
type Consumer struct {
	// Name is the consumer group. The outbox keeps how far the group has got under
	// this name, so it must not change once deployed; it also names the group in
	// the logs and in the poison table.
	Name string
	// Ready, when set, is asked before every read of the outbox: while it fails,
	// the group reads nothing and holds no transaction open, its events wait in
	// the outbox, and a warning says so now and then. A broker that is down is the
	// reason to set it.
	Ready func() error
	// Transient, when set, tells failures that are no fault of the event (the
	// broker went away mid-way): such an event is neither retried in place nor
	// parked, but handed again later, once Ready passes.
	Transient func(error) bool
	// AckDeadline, when set, replaces Config.AckDeadline for this group.
	AckDeadline time.Duration
	// Broker names the broker a forwarding group publishes to (nats, amqp), for
	// the metrics; empty for a group handled in process.
	Broker string

	types   []domain.EventType
	handle  func(ctx context.Context, msg *message.Message) error
	forward *destination
}

// HandleEvents is a consumer group that hands each event of the given types (all
// types when none are given) to handle, decoded. Other events are passed over
// without being decoded.
func HandleEvents(name string, handle func(ctx context.Context, e domain.Event) error, types ...domain.EventType) Consumer {
	return Consumer{Name: name, types: types, handle: func(ctx context.Context, msg *message.Message) error {
		d, err := Unmarshal(msg.Payload)
		if err != nil {
			return permanent{err}
		}
		return handle(ctx, d.Event)
	}}
}

// ForwardEvents is a consumer group that publishes every event to topic on pub (a
// broker), as it was stored: the same id, payload and metadata. The events of a
// batch are published concurrently, one user's in their order, and the batch is
// recorded as delivered only once pub has confirmed every one of them (see
// forward.go); pub must be safe for concurrent use.
func ForwardEvents(name string, pub message.Publisher, topic string) Consumer {
	return Consumer{Name: name, forward: &destination{pub: pub, topic: topic}}
}

// permanent is a failure that no retry can mend (an event that does not decode):
// it is parked at once.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Router runs the consumer groups of the outbox. Add every consumer, then Start;
// Close when done.
type Router struct {
	cfg      Config
	db       *sql.DB
	logger   *zap.Logger
	wmLogger watermill.LoggerAdapter
	router   *message.Router
	tracer   *tracer // nil when tracing is off

	mu        sync.Mutex
	consumers []string
	brokers   map[string]string // consumer group → Consumer.Broker
	started   bool
	running   atomic.Bool
	done      chan struct{} // closed when the router has stopped

	// batches tracks the groups' reading transactions, so that Close can let
	// those under way finish before it stops the groups.
	batches batches
}

// NewRouter returns a Router reading the outbox of db. wmLogger receives
// Watermill's own log lines.
func NewRouter(db *sql.DB, cfg Config, logger *zap.Logger, wmLogger watermill.LoggerAdapter) (*Router, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, quietOnStop{wmLogger})
	if err != nil {
		return nil, fmt.Errorf("outbox: router: %w", err)
	}
	wmLogger = quietOnStop{wmLogger}
	r := &Router{
		cfg: cfg, db: db, logger: logger, wmLogger: wmLogger, router: router,
		tracer: cfg.Tracing.tracer(), brokers: map[string]string{}, done: make(chan struct{}),
	}
	poison, err := middleware.PoisonQueue(parker{schema: schema(0), parked: r.parked}, PoisonTopic)
	if err != nil {
		return nil, fmt.Errorf("outbox: poison queue: %w", err)
	}
	// Outermost first: an event that still fails after its retries (each group's
	// own middleware, see Add) is parked.
	router.AddMiddleware(poison)
	return r, nil
}

// parked tells the observer of an event the poison queue parks.
func (r *Router) parked(group string) {
	r.mu.Lock()
	b := r.brokers[group]
	r.mu.Unlock()
	r.cfg.Observer.EventParked(group, b)
}

// retry is the backoff between attempts at one event of consumer c. It stops well
// within the ack deadline, so that a failing event is parked rather than handed
// again forever.
func (r *Router) retry(c Consumer) middleware.Retry {
	rc := r.cfg.Retry
	return middleware.Retry{
		MaxRetries:          rc.MaxRetries,
		InitialInterval:     rc.InitialInterval,
		MaxInterval:         rc.MaxInterval,
		Multiplier:          2,
		MaxElapsedTime:      r.cfg.AckDeadline / 2,
		RandomizationFactor: rc.RandomizationFactor,
		ShouldRetry: func(p middleware.RetryParams) bool {
			var perm permanent
			return !errors.As(p.Err, &perm)
		},
		OnRetryHook: func(n int, wait time.Duration) {
			r.cfg.Observer.EventRetried(c.Name, c.Broker)
			r.logger.Debug("retrying an event", zap.String("consumer_group", c.Name), zap.Int("retry", n), zap.Duration("wait", wait))
		},
	}
}

// Add puts consumer group c on the router. Add before Start.
func (r *Router) Add(c Consumer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.started:
		return errors.New("outbox: add consumers before Start")
	case c.Name == "" || c.handle == nil && c.forward == nil:
		return errors.New("outbox: a consumer needs a name and a handler (HandleEvents, ForwardEvents)")
	case slices.Contains(r.consumers, c.Name):
		return fmt.Errorf("outbox: consumer group %q added twice", c.Name)
	}
	deadline := c.AckDeadline
	if deadline == 0 {
		deadline = r.cfg.AckDeadline
	}
	logger := r.logger.With(zap.String("consumer_group", c.Name))
	ready := c.Ready
	if ready == nil {
		ready = func() error { return nil }
	}
	db := gate{Beginner: wsql.BeginnerFromStdSQL(r.db), ready: ready, batches: &r.batches}
	sub, err := wsql.NewSubscriber(db, wsql.SubscriberConfig{
		ConsumerGroup:  c.Name,
		AckDeadline:    &deadline,
		PollInterval:   r.cfg.PollInterval,
		ResendInterval: time.Second,
		BackoffManager: newBackoff(r.cfg.PollInterval, logger, func(ctx context.Context) (Lag, error) {
			return GroupLag(ctx, r.db, c.Name)
		}),
		SchemaAdapter:  schema(r.cfg.BatchSize),
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
	}, r.wmLogger)
	if err != nil {
		return fmt.Errorf("outbox: %s: subscriber: %w", c.Name, err)
	}
	if c.forward != nil {
		c.handle = r.forwarder(c, logger)
	}
	h := r.router.AddConsumerHandler(c.Name, Topic, sub, r.handler(c, logger))
	// Inside the router's poison queue: a panic is a failure like any other
	// rather than a crash or a redelivery loop, and is retried, then parked.
	h.AddMiddleware(r.retry(c).Middleware, middleware.Recoverer)
	r.consumers = append(r.consumers, c.Name)
	r.brokers[c.Name] = c.Broker
	return nil
}

// handler runs c on one message: it skips the types c does not want and the events
// replayed for another group, gives the handler the event's correlation id, and
// logs the outcome under it.
func (r *Router) handler(c Consumer, logger *zap.Logger) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		if len(c.types) > 0 && !slices.Contains(c.types, domain.EventType(msg.Metadata.Get(MetadataEventType))) {
			return nil
		}
		if group := msg.Metadata.Get(MetadataReplayFor); group != "" && group != c.Name {
			return nil // replayed for the group that parked it; this one had it already
		}
		cid := msg.Metadata.Get(MetadataCorrelationID)
		ctx := domain.WithCorrelationID(msg.Context(), cid)
		var span trace.Span
		if r.tracer != nil {
			ctx = r.tracer.extract(ctx, msg)
			if c.forward == nil { // forwarding has a span per publish
				ctx, span = r.tracer.startHandle(ctx, c.Name, msg)
			}
		}
		log := logger.With(tracing.LogFields(ctx, []zap.Field{
			zap.String("event_id", msg.UUID),
			zap.String("event_type", msg.Metadata.Get(MetadataEventType)),
			zap.String("correlation_id", cid),
		})...)
		start := time.Now()
		err := c.handle(ctx, msg)
		took := time.Since(start)
		if span != nil {
			endSpan(span, err)
		}
		switch {
		case err == nil:
			r.cfg.Observer.EventHandled(c.Name, c.Broker, OutcomeDelivered, took)
			log.Debug("event handled", zap.Duration("duration", took))
			return nil
		case c.Transient != nil && c.Transient(err), ctx.Err() != nil:
			// Not the event's fault (its destination is unavailable, or its time
			// ran out): hand it again later rather than retry it now or park it.
			// Nacked here, so that the router does not log an error for what the
			// group's warnings already say.
			r.cfg.Observer.EventHandled(c.Name, c.Broker, OutcomeDeferred, took)
			log.Debug("event handed back: its destination is unavailable", zap.Error(err))
			msg.Nack()
			return nil
		default:
			r.cfg.Observer.EventHandled(c.Name, c.Broker, OutcomeFailed, took)
			log.Warn("handling an event failed", zap.Error(err))
			return err
		}
	}
}

// Start runs every consumer group. The router runs on a context of its own, not
// the caller's: an application's start context ends when starting is done.
func (r *Router) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("outbox: already started")
	}
	r.started = true
	var runErr error
	go func() {
		defer close(r.done)
		runErr = r.router.Run(context.Background())
	}()
	select {
	case <-r.router.Running():
		r.running.Store(true)
		return nil
	case <-r.done:
		return fmt.Errorf("outbox: router stopped while starting: %w", runErr)
	case <-time.After(r.cfg.CloseTimeout + 10*time.Second):
		return errors.New("outbox: router not running in time")
	}
}

// Close stops every group. It first lets the batches under way finish, up to
// CloseTimeout, and starts no new one, so that a graceful stop hands no event
// twice; a batch cut off all the same (its destination is down) is handed again
// after the next start: delivery is at least once.
func (r *Router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running.Store(false)
	if !r.batches.drain(r.cfg.CloseTimeout) {
		r.logger.Warn("stopping with batches of events under way; they will be handed again",
			zap.Duration("close_timeout", r.cfg.CloseTimeout))
	}
	err := r.router.Close()
	if r.started {
		<-r.done
	}
	if err != nil {
		return fmt.Errorf("outbox: close: %w", err)
	}
	return nil
}

// quietOnStop turns Watermill's error lines about a cancelled context down to
// debug: stopping cancels the groups' queries, which is no error of anyone's.
type quietOnStop struct{ watermill.LoggerAdapter }

func (q quietOnStop) Error(msg string, err error, fields watermill.LogFields) {
	if errors.Is(err, context.Canceled) {
		q.Debug(msg, fields.Add(watermill.LogFields{"error": err.Error()}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q quietOnStop) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietOnStop{q.LoggerAdapter.With(fields)}
}

// gate opens the transactions in which a consumer group reads a batch of events
// only while the group's destination is ready and the router is not stopping: a
// group waiting for its broker holds no transaction open, so it holds back nobody
// else. Those are the transactions with an isolation level (the schema's
// repeatable read); the one that registers the group at start has none, and must
// pass, or a broker down at start would stop the service from starting.
type gate struct {
	wsql.Beginner
	ready   func() error
	batches *batches
}

var (
	// errPaused is what the group's backoff recognises as "waiting, on purpose".
	errPaused = errors.New("paused")
	// errStopping ends a group's reading as the router stops.
	errStopping = errors.New("stopping")
)

func (g gate) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	if opts == nil {
		return g.Beginner.BeginTx(ctx, opts)
	}
	if err := g.ready(); err != nil {
		return nil, fmt.Errorf("%w: %w", errPaused, err)
	}
	if !g.batches.begin() {
		return nil, errStopping
	}
	tx, err := g.Beginner.BeginTx(ctx, opts)
	if err != nil {
		g.batches.end()
		return nil, err
	}
	return &batchTx{Tx: tx, end: sync.OnceFunc(g.batches.end)}, nil
}

// batches counts the reading transactions under way and, once stopping, refuses
// new ones.
type batches struct {
	mu       sync.Mutex
	open     int
	stopping bool
	idle     chan struct{} // closed when open falls to 0 while stopping
}

func (b *batches) begin() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopping {
		return false
	}
	b.open++
	return true
}

func (b *batches) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open--
	if b.open == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
}

// drain stops new batches and waits up to timeout for those under way; it reports
// whether they all finished.
func (b *batches) drain(timeout time.Duration) bool {
	b.mu.Lock()
	b.stopping = true
	if b.open == 0 {
		b.mu.Unlock()
		return true
	}
	idle := make(chan struct{})
	b.idle = idle
	b.mu.Unlock()
	select {
	case <-idle:
		return true
	case <-time.After(timeout):
		return false
	}
}

// batchTx is a group's reading transaction, which tells batches when it ends.
// Before it commits it settles the publishes a forwarding group left in flight:
// the batch commits, recording its events as delivered, only if they all were;
// otherwise it is rolled back, and handed again.
type batchTx struct {
	wsql.Tx
	end func()

	mu       sync.Mutex
	inFlight *inFlight
	settle   func(tx wsql.Tx, f *inFlight) (commit bool)
}

func (t *batchTx) Commit() error {
	defer t.end()
	t.mu.Lock()
	f, settle := t.inFlight, t.settle
	t.mu.Unlock()
	if f != nil && !settle(t.Tx, f) {
		// Reported as a success: the subscriber has nothing to do about it, and
		// the events come again with the next batch.
		return t.Tx.Rollback()
	}
	return t.Tx.Commit()
}

func (t *batchTx) Rollback() error {
	defer t.end()
	return t.Tx.Rollback()
}
