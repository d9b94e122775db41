package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/wmlog"
)

// natsPingInterval bounds how long a silently dead connection (a network cut
// without a reset) goes unnoticed: two unanswered pings close it. nats.go's
// default is two minutes.
const natsPingInterval = 10 * time.Second

// NATSPublisher publishes events to a JetStream stream. It is safe for concurrent
// use.
//
// The connection is nats.go's, which reconnects by itself; the publisher declares
// the stream on every (re)connection, and publishes through watermill-nats with
// the contract's marshaler.
type NATSPublisher struct {
	cfg    NATSConfig
	logger *zap.Logger
	retry  backoff

	stop      context.CancelFunc
	done      chan struct{} // closed when run has returned
	wake      chan struct{} // asks run to declare the stream of a new link
	inflight  sync.WaitGroup
	closeOnce sync.Once

	// mu guards the fields below, and orders status changes with them: status is
	// only ever told the publisher can publish while link is declared.
	mu     sync.Mutex
	closed bool
	status *status
	nc     *nats.Conn
	wm     *wmnats.Publisher
	link   *natsLink // the current connection; nil while there is none
}

// natsLink is one connection, from (re)connect to disconnect.
type natsLink struct {
	lost     chan struct{} // closed when the connection drops
	declared bool          // the stream was declared on this connection
}

var _ message.Publisher = (*NATSPublisher)(nil)

// NewNATSPublisher returns a publisher that connects in the background: a server
// that is down makes Ready and Publish report it, never this constructor fail.
// Only an invalid cfg does. Close the publisher when done.
func NewNATSPublisher(cfg NATSConfig, logger *zap.Logger) (*NATSPublisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger = logger.With(zap.String("broker", "nats"), zap.String("url", redactURL(cfg.URL)))
	ctx, stop := context.WithCancel(context.Background())
	p := &NATSPublisher{
		cfg:    cfg,
		logger: logger,
		retry:  backoff{first: cfg.ReconnectWait, max: cfg.MaxReconnectWait},
		stop:   stop,
		done:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		status: newStatus(logger, errors.New("not connected to NATS yet")),
	}
	go p.run(ctx)
	return p, nil
}

// Topic is the subject the publisher publishes to: the only topic Publish accepts.
func (p *NATSPublisher) Topic() string { return p.cfg.Subject }

// Ready returns nil when the publisher is connected and the stream is declared,
// and otherwise what stands in the way.
func (p *NATSPublisher) Ready() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.check()
}

// Publish stores msgs in the stream, in order, each waiting for JetStream's
// acknowledgement: a nil error means all are stored. topic must be Topic().
//
// Unless connected with the stream declared, it fails at once. Its error wraps
// ErrUnavailable when the server cannot take events at the moment (see there).
func (p *NATSPublisher) Publish(topic string, msgs ...*message.Message) error {
	if topic != p.cfg.Subject {
		return wrongTopic(topic, p.cfg.Subject)
	}
	link, wm, err := p.begin()
	if err != nil {
		return unavailable(err)
	}

	// nats.go keeps a request waiting across a lost connection until its timeout,
	// although an acknowledgement sent on the old connection can never arrive.
	// Waiting for the end of the connection as well fails the publish at once. The
	// abandoned request ends with its timeout, or at once if the connection is
	// closed; should its message have reached the stream after all, the retry is
	// dropped as a duplicate.
	done := make(chan error, 1)
	go func() {
		defer p.inflight.Done()
		done <- wm.Publish(topic, msgs...)
	}()
	select {
	case err := <-done:
		return p.publishError(link, err)
	case <-link.lost:
		return unavailable(errors.New("lost the connection to NATS before the stream acknowledged"))
	}
}

// Close stops reconnecting, closes the connection, and returns once nothing of
// the publisher runs any more. Publish then reports the publisher unavailable.
func (p *NATSPublisher) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.stop()
		<-p.done
		if p.wm != nil {
			// Closing the connection also ends the requests still waiting for an
			// acknowledgement, so the wait below is short.
			_ = p.wm.Close()
		}
		p.inflight.Wait()
	})
	return nil
}

// check says why the publisher cannot publish, if it cannot. p.mu must be held.
func (p *NATSPublisher) check() error {
	switch {
	case p.closed:
		return errClosed
	case p.link == nil || !p.link.declared:
		return p.status.problem()
	case !p.nc.IsConnected():
		// nats.go reports the disconnection a moment later.
		return errors.New("lost the connection to NATS")
	}
	return nil
}

// begin returns what to publish with, and counts the publish in flight, so that
// Close waits for it.
func (p *NATSPublisher) begin() (*natsLink, *wmnats.Publisher, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.check(); err != nil {
		return nil, nil, err
	}
	p.inflight.Add(1)
	return p.link, p.wm, nil
}

func (p *NATSPublisher) publishError(link *natsLink, err error) error {
	var apiErr *nats.APIError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		// No stream captures the subject any more: someone deleted the stream.
		p.redeclare(link)
		return unavailable(err)
	case errors.As(err, &apiErr):
		// 503: JetStream cannot store anything right now (no quorum, no
		// resources). Any other answer is about this message.
		if apiErr.Code == 503 {
			return unavailable(err)
		}
		return err
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrConnectionDraining), errors.Is(err, nats.ErrReconnectBufExceeded):
		return unavailable(err)
	}
	return err
}

// redeclare has the stream declared again before the next publish on link.
func (p *NATSPublisher) redeclare(link *natsLink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.link != link || !link.declared {
		return
	}
	link.declared = false
	p.status.fail(fmt.Errorf("stream %s does not answer; declaring it again", p.cfg.Stream))
	p.poke()
}

// poke wakes run up, unless it has a wake-up pending already.
func (p *NATSPublisher) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run connects, then declares the stream each time a new link asks for it until
// it succeeds.
func (p *NATSPublisher) run(ctx context.Context) {
	defer close(p.done)
	if !p.connect(ctx) {
		return
	}
	failures := 0
	for {
		var retry <-chan time.Time
		if err := p.declare(ctx); err != nil && ctx.Err() == nil {
			failures++
			p.mu.Lock()
			p.status.fail(err)
			p.mu.Unlock()
			retry = time.After(p.retry.delay(failures))
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry:
		}
	}
}

// connect creates the connection. With RetryOnFailedConnect, nats.Connect returns
// at once when no server answers and nats.go goes on trying in the background, as
// after any disconnection: only settings it rejects are retried here.
func (p *NATSPublisher) connect(ctx context.Context) bool {
	for failures := 1; ; failures++ {
		nc, err := nats.Connect(p.cfg.URL, p.natsOptions()...)
		if err == nil {
			return p.attach(nc)
		}
		p.mu.Lock()
		p.status.fail(fmt.Errorf("connect to NATS: %w", err))
		p.mu.Unlock()
		if !sleep(ctx, p.retry.delay(failures)) {
			return false
		}
	}
}

// attach publishes through nc from now on. The watermill publisher fails only on
// JetStream options, which are constant: should it fail anyway, Ready says so.
func (p *NATSPublisher) attach(nc *nats.Conn) bool {
	wm, err := p.watermillPublisher(nc)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		nc.Close()
		p.status.fail(fmt.Errorf("set up the watermill-nats publisher: %w", err))
		return false
	}
	p.nc, p.wm = nc, wm
	return true
}

func (p *NATSPublisher) natsOptions() []nats.Option {
	return []nats.Option{
		nats.Name("accounts events publisher"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(p.retry.delay),
		// Without a reconnect buffer, a publish while disconnected fails instead of
		// waiting in memory, to be sent on reconnection after its caller gave up.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(natsPingInterval),
		nats.NoCallbacksAfterClientClose(),
		nats.ConnectHandler(p.connected),
		nats.ReconnectHandler(p.connected),
		nats.DisconnectErrHandler(p.disconnected),
		nats.ReconnectErrHandler(p.reconnectFailed),
		nats.ErrorHandler(p.asyncError),
	}
}

// watermillPublisher publishes with the contract's marshaler and waits for the
// acknowledgement at most PublishTimeout. It declares nothing (AutoProvision would
// look the stream up on every publish, and create it without the contract's
// settings): run does.
func (p *NATSPublisher) watermillPublisher(nc *nats.Conn) (*wmnats.Publisher, error) {
	return wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler: natsMarshaler{},
		// Unused without AutoProvision, but NewPublisherWithNatsConn panics
		// without one.
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			PublishOptions: []nats.PubOpt{nats.AckWait(p.cfg.PublishTimeout)},
		},
	}, wmlog.New(p.logger))
}

// The callbacks below run on nats.go's callback goroutine, one at a time, in the
// order of the events.

func (p *NATSPublisher) connected(*nats.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.link = &natsLink{lost: make(chan struct{})}
	p.status.set(fmt.Errorf("connected to NATS, declaring stream %s", p.cfg.Stream))
	p.poke()
}

func (p *NATSPublisher) disconnected(_ *nats.Conn, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.link != nil {
		close(p.link.lost)
		p.link = nil
	}
	if err == nil {
		err = errors.New("the server closed it")
	}
	p.status.fail(fmt.Errorf("lost the connection to NATS: %w", err))
}

func (p *NATSPublisher) reconnectFailed(_ *nats.Conn, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.status.fail(fmt.Errorf("connect to NATS: %w", err))
	}
}

// asyncError logs what the server reports outside any request, such as a
// permissions violation.
func (p *NATSPublisher) asyncError(_ *nats.Conn, _ *nats.Subscription, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.logger.Warn("NATS reported an error", zap.Error(err))
	}
}

// declare declares the stream if the current link has not yet.
func (p *NATSPublisher) declare(ctx context.Context) error {
	p.mu.Lock()
	link, nc := p.link, p.nc
	pending := link != nil && !link.declared
	p.mu.Unlock()
	if !pending {
		return nil
	}

	js, err := jetstream.New(nc)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, p.cfg.PublishTimeout)
		err = ensureStream(ctx, js, p.cfg)
		cancel()
	}
	if err != nil {
		return fmt.Errorf("declare stream %s: %w", p.cfg.Stream, err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.link == link { // not lost meanwhile
		link.declared = true
		p.status.ok("publishing events to NATS JetStream",
			zap.String("stream", p.cfg.Stream), zap.String("subject", p.cfg.Subject))
	}
	return nil
}

// ensureStream creates the stream, or brings an existing one in line with the
// contract: it captures the subject, with the duplicate window. Its other settings,
// such as limits an operator set, are kept.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg NATSConfig) error {
	stream, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:       cfg.Stream,
			Subjects:   []string{cfg.Subject},
			Storage:    jetstream.FileStorage,
			Duplicates: cfg.DuplicateWindow,
		})
		return err
	}
	if err != nil {
		return err
	}

	sc := stream.CachedInfo().Config
	if sc.Storage != jetstream.FileStorage {
		// JetStream cannot change the storage of a stream; events kept in memory
		// would be lost with the server.
		return errors.New("the stream keeps its messages in memory: recreate it with file storage")
	}
	if slices.Contains(sc.Subjects, cfg.Subject) && sc.Duplicates == cfg.DuplicateWindow {
		return nil
	}
	if !slices.Contains(sc.Subjects, cfg.Subject) {
		sc.Subjects = append(sc.Subjects, cfg.Subject)
	}
	sc.Duplicates = cfg.DuplicateWindow
	_, err = js.UpdateStream(ctx, sc)
	return err
}
