package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap"
)

// amqpHeartbeat bounds how long a silently dead connection (a network cut without
// a reset) goes unnoticed.
const amqpHeartbeat = 10 * time.Second

// AMQPPublisher publishes events to a RabbitMQ fanout exchange, with publisher
// confirms. It is safe for concurrent use.
//
// amqp091-go does not reconnect: the publisher keeps one session (a connection and
// a channel in confirm mode, with the exchange declared) and, when anything ends
// it, starts a new one from scratch.
type AMQPPublisher struct {
	cfg    AMQPConfig
	logger *zap.Logger
	retry  backoff

	stop      context.CancelFunc
	done      chan struct{} // closed when run has returned
	closeOnce sync.Once

	// mu guards the fields below, and orders status changes with them: status is
	// only ever told the publisher can publish while session is set.
	mu      sync.Mutex
	closed  bool
	status  *status
	session *amqpSession // nil while there is none to publish on
}

type amqpSession struct {
	conn *amqp.Connection
	ch   *amqp.Channel

	// reasons receives why the channel closed, for Publish to tell a refused
	// message from a lost connection.
	reasons    chan *amqp.Error
	reasonOnce sync.Once
	reason     *amqp.Error
}

var _ message.Publisher = (*AMQPPublisher)(nil)

// NewAMQPPublisher returns a publisher that connects in the background: a broker
// that is down makes Ready and Publish report it, never this constructor fail.
// Only an invalid cfg does. Close the publisher when done.
func NewAMQPPublisher(cfg AMQPConfig, logger *zap.Logger) (*AMQPPublisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger = logger.With(zap.String("broker", "amqp"), zap.String("url", redactURL(cfg.URL)))
	ctx, stop := context.WithCancel(context.Background())
	p := &AMQPPublisher{
		cfg:    cfg,
		logger: logger,
		retry:  backoff{first: cfg.ReconnectWait, max: cfg.MaxReconnectWait},
		stop:   stop,
		done:   make(chan struct{}),
		status: newStatus(logger, errors.New("not connected to RabbitMQ yet")),
	}
	go p.run(ctx)
	return p, nil
}

// Topic is the exchange the publisher publishes to: the only topic Publish
// accepts.
func (p *AMQPPublisher) Topic() string { return p.cfg.Exchange }

// Ready returns nil when the publisher is connected and the exchange is declared,
// and otherwise what stands in the way.
func (p *AMQPPublisher) Ready() error {
	_, err := p.current()
	return err
}

// Publish sends msgs to the exchange, in order, each waiting for the broker's
// confirmation: a nil error means the broker has taken them all. topic must be
// Topic().
//
// Unless connected with the exchange declared, it fails at once. Its error wraps
// ErrUnavailable when the broker cannot take events at the moment (see there).
func (p *AMQPPublisher) Publish(topic string, msgs ...*message.Message) error {
	if topic != p.cfg.Exchange {
		return wrongTopic(topic, p.cfg.Exchange)
	}
	s, err := p.current()
	if err != nil {
		return unavailable(err)
	}
	for _, msg := range msgs {
		if err := p.publish(s, msg); err != nil {
			return err
		}
	}
	return nil
}

// Close stops reconnecting, closes the connection, and returns once nothing of
// the publisher runs any more. Publish then reports the publisher unavailable.
func (p *AMQPPublisher) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.stop()
		<-p.done
	})
	return nil
}

func (p *AMQPPublisher) current() (*amqpSession, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return nil, errClosed
	case p.session == nil:
		return nil, p.status.problem()
	}
	return p.session, nil
}

func (p *AMQPPublisher) publish(s *amqpSession, msg *message.Message) error {
	publishing, err := amqpPublishing(msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(msg.Context(), p.cfg.PublishTimeout)
	defer cancel()

	// No routing key: a fanout exchange ignores it. Not mandatory: an event that no
	// queue is bound to is nobody's, as the contract says.
	confirm, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, p.cfg.Exchange, "", false, false, publishing)
	switch {
	case errors.Is(err, context.Canceled):
		return err // the caller gave up
	case err != nil:
		return unavailable(fmt.Errorf("publish to RabbitMQ: %w", err))
	}
	acked, err := confirm.WaitContext(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return unavailable(fmt.Errorf("RabbitMQ did not confirm within %s", p.cfg.PublishTimeout))
	case err != nil:
		return err
	case acked:
		return nil
	case s.ch.IsClosed():
		// Closing the channel releases the confirmations still awaited, negative.
		return channelClosed(s.closeReason())
	}
	return fmt.Errorf("RabbitMQ refused message %s (negative acknowledgement)", msg.UUID)
}

// channelClosed classifies the end of the channel under a publish. RabbitMQ closes
// the channel over a message it finds unfit (406, such as one above
// max_message_size): that message is refused, and the next one goes through a new
// session. Anything else, from a lost connection to a deleted exchange (404), is
// the broker's unavailability.
func channelClosed(reason *amqp.Error) error {
	switch {
	case reason == nil:
		return unavailable(errors.New("the channel to RabbitMQ closed"))
	case reason.Code == amqp.PreconditionFailed:
		return fmt.Errorf("RabbitMQ refused the message: %w", reason)
	}
	return unavailable(fmt.Errorf("the channel to RabbitMQ closed: %w", reason))
}

// closeReason is why the channel closed; nil if the publisher closed it.
// amqp091-go tells the channel's listeners before it releases the confirmations,
// so a publish whose confirmation was released finds the reason here.
func (s *amqpSession) closeReason() *amqp.Error {
	s.reasonOnce.Do(func() {
		select {
		case s.reason = <-s.reasons:
		default:
		}
	})
	return s.reason
}

// run keeps a session up until Close, retrying with backoff while it cannot.
func (p *AMQPPublisher) run(ctx context.Context) {
	defer close(p.done)
	failures := 0
	for ctx.Err() == nil {
		s, err := p.open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			p.use(nil, fmt.Errorf("connect to RabbitMQ: %w", err))
			sleep(ctx, p.retry.delay(failures))
			continue
		}
		failures = 0
		p.serve(ctx, s)
	}
}

// open connects and prepares a session: a channel in confirm mode, and the
// exchange declared on it, each time, should it have been deleted meanwhile.
func (p *AMQPPublisher) open(ctx context.Context) (*amqpSession, error) {
	// The name shows in RabbitMQ's management UI.
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("accounts events publisher")
	conn, err := amqp.DialConfig(p.cfg.URL, amqp.Config{
		Properties: props,
		Heartbeat:  amqpHeartbeat,
		Dial:       dialer(ctx, p.cfg.PublishTimeout),
	})
	if err != nil {
		return nil, err
	}
	s := &amqpSession{conn: conn}
	if err := p.prepare(s); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

func (p *AMQPPublisher) prepare(s *amqpSession) error {
	var err error
	if s.ch, err = s.conn.Channel(); err != nil {
		return err
	}
	s.reasons = s.ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := s.ch.Confirm(false); err != nil {
		return fmt.Errorf("put the channel in confirm mode: %w", err)
	}
	err = s.ch.ExchangeDeclare(p.cfg.Exchange, amqp.ExchangeFanout, true, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("declare exchange %s: %w", p.cfg.Exchange, err)
	}
	return nil
}

// dialer lets Close interrupt a connection attempt, and bounds the handshake:
// heartbeats only watch the connection once it is open. amqp091-go clears the
// deadline then.
func dialer(ctx context.Context, timeout time.Duration) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// serve publishes on s until it ends, or the publisher closes; while RabbitMQ
// blocks publishers (a memory or disk alarm), it withholds s, so that publishes
// fail at once instead of at their timeout.
func (p *AMQPPublisher) serve(ctx context.Context, s *amqpSession) {
	defer func() { _ = s.conn.CloseDeadline(time.Now().Add(p.cfg.PublishTimeout)) }()
	// Buffered: amqp091-go must never wait for this loop to send.
	connClosed := s.conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := s.ch.NotifyClose(make(chan *amqp.Error, 1))
	blocked := s.conn.NotifyBlocked(make(chan amqp.Blocking, 1))

	p.use(s, nil)
	for {
		select {
		case <-ctx.Done():
			p.use(nil, nil)
			return
		case err := <-connClosed:
			p.use(nil, fmt.Errorf("lost the connection to RabbitMQ: %w", closeError(err)))
			return
		case err := <-chClosed:
			p.use(nil, fmt.Errorf("RabbitMQ closed the channel: %w", closeError(err)))
			return
		case b := <-blocked:
			if b.Active {
				p.use(nil, fmt.Errorf("RabbitMQ blocks publishers: %s", b.Reason))
			} else {
				p.use(s, nil)
			}
		}
	}
}

// use makes s the session to publish on; a nil s says why there is none, unless
// the publisher is closing.
func (p *AMQPPublisher) use(s *amqpSession, why error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.session = s
	switch {
	case p.closed:
	case s != nil:
		p.status.ok("publishing events to RabbitMQ", zap.String("exchange", p.cfg.Exchange))
	default:
		p.status.fail(why)
	}
}

// closeError turns amqp091-go's close notification into an error: a nil
// *amqp.Error, from a channel closed without one, must not become a non-nil error
// holding a nil pointer.
func closeError(err *amqp.Error) error {
	if err == nil {
		return errors.New("closed")
	}
	return err
}
