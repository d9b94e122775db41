// Package broker delivers the user events from the outbox to the message broker
// other services read them from: NATS JetStream or RabbitMQ. Its publishers are
// Watermill publishers, for the router that drains the outbox; TailNATS and
// TailAMQP follow the events from the consumers' side.
//
// What reaches the broker is the public contract of docs/asyncapi.json, exactly:
// the event's JSON as the payload, its id where each broker deduplicates or
// identifies messages (Nats-Msg-Id; message_id), its correlation id and trace
// context as headers, and nothing of Watermill's own. The publishers also declare
// the destination, the stream or the exchange, each time they connect: it is
// theirs, and a consumer never declares it.
//
// # A broker that is down
//
// The broker is not on the request path: its being down must neither stop the
// service from starting nor from answering. A publisher is therefore built at once
// and connects in the background, retrying with capped, jittered exponential
// backoff for as long as it lives, and reconnects the same way after a broker
// restart or a network cut. Until it can publish, Ready says why and Publish fails
// at once; Publish also fails when the connection drops under it or the broker
// does not acknowledge in time. All these errors wrap ErrUnavailable, telling the
// caller to keep the event and wait. Any other error means the broker, reachable,
// refused that one message, or the message was unfit to send.
//
// A nil error from Publish means the broker has the event: JetStream acknowledged
// storing it, or RabbitMQ confirmed taking it (publisher confirms).
//
// # Libraries
//
// NATS is reached through watermill-nats (pkg/nats with JetStream), on a nats.go
// connection of this package's making: nats.go reconnects by itself, and the
// package's marshaler writes the contract's headers where watermill-nats's own
// would add its _watermill_message_uuid and every metadata key. RabbitMQ is
// reached with amqp091-go directly, behind the same message.Publisher interface:
// watermill-amqp v3's publisher dials in its constructor, so that a broker that is
// down fails construction; it declares the exchange once per topic, never again
// after a reconnection; and it waits for a confirmation without a bound.
package broker
