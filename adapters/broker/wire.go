package broker

import (
	"errors"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	amqp "github.com/rabbitmq/amqp091-go"
)

// What goes on the wire is the public contract of docs/asyncapi.json, and only
// that: no Watermill header, no metadata the service keeps for itself.

// forwardedMetadata are the metadata keys that travel as headers, when present.
var forwardedMetadata = []string{"correlation_id", "traceparent", "tracestate"}

const (
	// eventTypeKey is the metadata key of the event type, which RabbitMQ
	// consumers find in the type property.
	eventTypeKey    = "event_type"
	contentTypeJSON = "application/json"
)

var errNoEventType = errors.New("broker: the message has no event_type metadata, which the type property must carry")

// natsMarshaler is the watermill-nats Marshaler of the contract's messages.
// Watermill's NATSMarshaler would add _watermill_message_uuid and copy every
// metadata key.
type natsMarshaler struct{}

func (natsMarshaler) Marshal(subject string, msg *message.Message) (*nats.Msg, error) {
	if msg.UUID == "" {
		return nil, errNoEventID
	}
	h := nats.Header{}
	// JetStream stores a message once per id within the stream's duplicate window,
	// so that a publish retried after a lost acknowledgement is not stored twice.
	h.Set(nats.MsgIdHdr, msg.UUID)
	h.Set("Content-Type", contentTypeJSON)
	for _, key := range forwardedMetadata {
		if v := msg.Metadata.Get(key); v != "" {
			h.Set(key, v)
		}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: msg.Payload}, nil
}

// amqpPublishing is the RabbitMQ message of the contract: what NATS carries in
// headers travels in AMQP's own properties, the rest in the header table.
func amqpPublishing(msg *message.Message) (amqp.Publishing, error) {
	if msg.UUID == "" {
		return amqp.Publishing{}, errNoEventID
	}
	eventType := msg.Metadata.Get(eventTypeKey)
	if eventType == "" {
		return amqp.Publishing{}, errNoEventType
	}
	headers := amqp.Table{}
	for _, key := range forwardedMetadata {
		if v := msg.Metadata.Get(key); v != "" {
			headers[key] = v
		}
	}
	return amqp.Publishing{
		Headers:     headers,
		ContentType: contentTypeJSON,
		// Persistent messages survive a broker restart in the consumers' durable
		// queues.
		DeliveryMode: amqp.Persistent,
		Timestamp:    time.Now(),
		MessageId:    msg.UUID,
		Type:         eventType,
		Body:         msg.Payload,
	}, nil
}
