package outbox

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"go.uber.org/zap"
)

// Forwarding publishes the events of a batch concurrently rather than one after
// the other. A broker confirms a publish in a round trip, and a group that waited
// for each confirmation before the next publish would deliver no faster than one
// event per round trip: under load, slower than the API commits them.
//
// The watermill-sql subscriber hands a group its batch one event at a time and
// moves on when the event is acknowledged, then records the batch as delivered
// when it commits the batch's transaction. So the forwarder acknowledges each
// event as soon as its publish has started, and the batch's transaction, before
// it commits, waits for every publish to be confirmed. One user's events are
// published in their order, each after the one before is confirmed, so that the
// broker keeps each user's order.
//
// If a publish fails because the broker is unavailable, the whole batch is rolled
// back and handed again later: at least once, as promised. If the broker refuses
// an event, that event is retried and then parked, like an event any other group
// fails, and the batch commits.

// destination is where a forwarding group publishes.
type destination struct {
	pub   message.Publisher
	topic string
}

// inFlight are the publishes a batch has started.
type inFlight struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	started int
	last    map[string]chan struct{} // per user: closed when its latest publish ended
	failed  []failedPublish
	blocked map[string]bool // users with a failed publish in this batch
}

type failedPublish struct {
	order int
	msg   *message.Message
	err   error
}

// errBehindAFailure marks an event not published because an earlier event of the
// same user failed: publishing it would put it before that one.
var errBehindAFailure = errors.New("an earlier event of the same user was not published")

// forwarder is the handler of a forwarding group.
func (r *Router) forwarder(c Consumer, logger *zap.Logger) func(ctx context.Context, msg *message.Message) error {
	dest := c.forward
	return func(ctx context.Context, msg *message.Message) error {
		out := message.NewMessage(msg.UUID, msg.Payload)
		out.Metadata = maps.Clone(msg.Metadata)
		tx, _ := wsql.TxFromContext(msg.Context())
		batch, ok := tx.(*batchTx)
		if !ok {
			// Not in a batch of ours: nothing to settle later, publish now.
			out.SetContext(ctx)
			return r.publish(c.Name, dest, out)
		}
		// The publish outlives the handler: it must not end with the message's
		// context, only with its own timeout.
		out.SetContext(context.WithoutCancel(ctx))
		f := batch.forwarding(func(tx wsql.Tx, f *inFlight) bool {
			return r.settle(tx, f, c, dest, logger)
		})
		f.start(msg.Metadata.Get(MetadataUserID), out, func() error { return r.publish(c.Name, dest, out) })
		return nil
	}
}

// publish sends out to the destination, in a span of its own when tracing.
func (r *Router) publish(group string, dest *destination, out *message.Message) error {
	if r.tracer == nil {
		return dest.pub.Publish(dest.topic, out)
	}
	ctx, span := r.tracer.startPublish(out.Context(), group, dest.topic, out)
	out.SetContext(ctx)
	err := dest.pub.Publish(dest.topic, out)
	endSpan(span, err)
	return err
}

// forwarding returns the batch's publishes in flight, and has the batch settle
// them before it commits.
func (t *batchTx) forwarding(settle func(wsql.Tx, *inFlight) bool) *inFlight {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inFlight == nil {
		t.inFlight = &inFlight{last: map[string]chan struct{}{}, blocked: map[string]bool{}}
		t.settle = settle
	}
	return t.inFlight
}

// start publishes msg in the background once user's previous publish has ended.
func (f *inFlight) start(user string, msg *message.Message, publish func() error) {
	f.mu.Lock()
	order := f.started
	f.started++
	before := f.last[user]
	done := make(chan struct{})
	f.last[user] = done
	f.mu.Unlock()

	f.wg.Go(func() {
		defer close(done)
		if before != nil {
			<-before
		}
		f.mu.Lock()
		blocked := f.blocked[user]
		f.mu.Unlock()
		err := errBehindAFailure
		if !blocked {
			err = publish()
		}
		if err != nil {
			f.mu.Lock()
			f.failed = append(f.failed, failedPublish{order: order, msg: msg, err: err})
			f.blocked[user] = true
			f.mu.Unlock()
		}
	})
}

// settle waits for every publish of the batch and says whether the batch may
// commit. Refused events are retried one by one, in their order, with those held
// behind them, and parked in tx when they still fail.
func (r *Router) settle(tx wsql.Tx, f *inFlight, c Consumer, dest *destination, logger *zap.Logger) bool {
	f.wg.Wait()
	if len(f.failed) == 0 {
		return true
	}
	transient := func(err error) bool { return c.Transient != nil && c.Transient(err) }
	for _, p := range f.failed {
		if transient(p.err) {
			logger.Debug("batch handed back: its destination is unavailable", zap.Error(p.err), zap.Int("events", f.started))
			return false
		}
	}
	slices.SortFunc(f.failed, func(a, b failedPublish) int { return a.order - b.order })
	for _, p := range f.failed {
		err := r.publishWithRetries(dest, p.msg)
		switch {
		case err == nil:
		case transient(err):
			return false
		default:
			if err := r.park(tx, c.Name, p.msg, err); err != nil {
				logger.Warn("parking an event failed; the batch will be handed again", zap.String("event_id", p.msg.UUID), zap.Error(err))
				return false
			}
			logger.Warn("event parked", zap.String("event_id", p.msg.UUID),
				zap.String("correlation_id", p.msg.Metadata.Get(MetadataCorrelationID)), zap.Error(err))
		}
	}
	return true
}

// publishWithRetries publishes msg, retrying with the router's backoff.
func (r *Router) publishWithRetries(dest *destination, msg *message.Message) error {
	rc := r.cfg.Retry
	wait := rc.InitialInterval
	err := dest.pub.Publish(dest.topic, msg)
	for attempt := 0; err != nil && attempt < rc.MaxRetries; attempt++ {
		spread := time.Duration(rc.RandomizationFactor * float64(wait))
		time.Sleep(wait - spread + rand.N(2*spread+1))
		wait = min(2*wait, rc.MaxInterval)
		err = dest.pub.Publish(dest.topic, msg)
	}
	return err
}

// park writes msg to the poison table in tx, with the reason, as the poison queue
// middleware does for the other groups.
func (r *Router) park(tx wsql.Tx, group string, msg *message.Message, reason error) error {
	parked := message.NewMessage(msg.UUID, msg.Payload)
	parked.Metadata = maps.Clone(msg.Metadata)
	parked.Metadata.Set(middleware.ReasonForPoisonedKey, reason.Error())
	parked.Metadata.Set(middleware.PoisonedTopicKey, Topic)
	parked.Metadata.Set(middleware.PoisonedHandlerKey, group)
	parked.Metadata.Set(middleware.PoisonedSubscriberKey, group)
	parked.SetContext(context.Background())
	pub, err := wsql.NewPublisher(tx, wsql.PublisherConfig{SchemaAdapter: schema(0)}, nil)
	if err != nil {
		return err
	}
	return pub.Publish(PoisonTopic, parked)
}
