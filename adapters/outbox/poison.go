package outbox

import (
	"errors"
	"fmt"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

// parker is the publisher of the poison queue: it writes a parked event to the
// poison table in the transaction of the consumer group that gave up on it, so
// that parking the event and moving the group past it commit together. An event
// is never both parked and left to be handed again, nor lost between the two.
type parker struct {
	schema wsql.SchemaAdapter
	// parked hears of each event parked, by the consumer group that gave up on it.
	parked func(group string)
}

func (p parker) Publish(topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	tx, ok := wsql.TxFromContext(msgs[0].Context())
	if !ok {
		return errors.New("outbox: parking an event outside its consumer group's transaction")
	}
	pub, err := wsql.NewPublisher(tx, wsql.PublisherConfig{SchemaAdapter: p.schema}, nil)
	if err != nil {
		return fmt.Errorf("outbox: poison publisher: %w", err)
	}
	if err := pub.Publish(topic, msgs...); err != nil {
		return err
	}
	for _, msg := range msgs {
		p.parked(msg.Metadata.Get(middleware.PoisonedHandlerKey))
	}
	return nil
}

func (parker) Close() error { return nil }
