package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// subscriptionBuffer is how many messages a subscription holds before a Publish
// waits for its subscriber: enough that a burst of Sends does not queue up on the
// channel's lock, while the router, which starts a goroutine per message and waits
// for none, takes them as fast as they come.
const subscriptionBuffer = 1024

// errClosed is what Publish and Subscribe answer once the pub/sub is closed.
var errClosed = errors.New("bus: pub/sub closed")

// pubSub is the Watermill Pub/Sub the bus's command bus publishes to and its
// router subscribes to: a message.Publisher and message.Subscriber over buffered Go
// channels, for one process.
//
// It replaces gochannel.GoChannel, which costs what the bus cannot afford on every
// request: two goroutines per message, one of them waiting for the ack, two copies
// of the message, and a lock of the topic held while the goroutines start, which a
// thousand Sends of one operation queue up on; its subscriber then holds a lock of
// its own while it waits for the router to take the message (Watermill v1.5.1,
// pubsub/gochannel/pubsub.go:98, 107-113, 164, 171, 387, 392-407). Here a Publish
// hands the message to each subscription's channel and returns.
//
// Like GoChannel with PreserveContext, it delivers a message with the context it
// was published with: the handler works under its sender's deadline and values,
// and the codec's command rides in it. Unlike GoChannel, it does not redeliver a
// nacked message: in one process a redelivery would fail the same way at once,
// forever, and the bus answers its sender instead (see answerUnhandled). Nothing is
// persisted; a topic nobody subscribes to is an error, not a silent drop.
type pubSub struct {
	mu     sync.RWMutex // held for reading while a Publish delivers
	topics map[string][]*subscription

	// closeMu orders Close after every subscription it must wait for. It is not
	// mu: a Publish waiting for room holds mu, until Close ends its subscription.
	closeMu       sync.Mutex
	closing       chan struct{} // closed by Close
	subscriptions sync.WaitGroup
}

type subscription struct {
	out chan *message.Message
	// done is closed when the subscription ends, before out is: a Publish
	// waiting for room in out gives up on it.
	done chan struct{}
}

var (
	_ message.Publisher  = (*pubSub)(nil)
	_ message.Subscriber = (*pubSub)(nil)
)

func newPubSub() *pubSub {
	return &pubSub{topics: map[string][]*subscription{}, closing: make(chan struct{})}
}

// Publish delivers the messages to every subscription of topic. The one
// subscriber a command topic has gets the message itself, which its publisher
// does not touch again; each of several gets a copy, so that each acks its own.
func (p *pubSub) Publish(topic string, messages ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()

	select {
	case <-p.closing:
		return errClosed
	default:
	}
	subs := p.topics[topic]
	if len(subs) == 0 {
		return fmt.Errorf("bus: nothing subscribes to %s", topic)
	}
	for _, msg := range messages {
		for _, s := range subs {
			delivered := msg
			if len(subs) > 1 {
				delivered = msg.CopyWithContext()
			}
			select {
			case s.out <- delivered:
			case <-s.done:
			}
		}
	}
	return nil
}

// Subscribe returns the messages published to topic from now on, until ctx ends or
// the pub/sub closes; then the channel is closed.
func (p *pubSub) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	p.closeMu.Lock()
	select {
	case <-p.closing:
		p.closeMu.Unlock()
		return nil, errClosed
	default:
	}
	p.subscriptions.Add(1)
	p.closeMu.Unlock()

	s := &subscription{out: make(chan *message.Message, subscriptionBuffer), done: make(chan struct{})}
	p.mu.Lock()
	p.topics[topic] = append(p.topics[topic], s)
	p.mu.Unlock()

	go func() {
		defer p.subscriptions.Done()
		select {
		case <-ctx.Done():
		case <-p.closing:
		}
		// Release any Publish waiting for room first: it holds the read lock
		// that removing the subscription waits for.
		close(s.done)

		p.mu.Lock()
		defer p.mu.Unlock()
		p.topics[topic] = slices.DeleteFunc(p.topics[topic], func(other *subscription) bool { return other == s })
		if len(p.topics[topic]) == 0 {
			delete(p.topics, topic)
		}
		close(s.out)
	}()
	return s.out, nil
}

// Close ends every subscription and refuses later messages. It may be called more
// than once: the router closes its subscriber, this pub/sub, once per handler.
func (p *pubSub) Close() error {
	p.closeMu.Lock()
	select {
	case <-p.closing:
	default:
		close(p.closing)
	}
	p.closeMu.Unlock()

	p.subscriptions.Wait()
	return nil
}
