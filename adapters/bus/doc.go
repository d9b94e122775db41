// Package bus is the in-process CQRS bus between the HTTP port and the use cases.
//
// Every command and query travels as a Watermill message: the port's Sender
// publishes it with components/cqrs, a CommandProcessor on a message.Router hands it
// to the use case handler registered for its type, and components/requestreply
// brings the handler's answer back to the waiting sender. Nothing is durable: the
// bus serves the synchronous request path only, and events that must not be lost go
// through the outbox instead.
//
// # Cost
//
// Every request crosses the bus, so a round trip must cost little, and the same
// however many others are in flight (BenchmarkRoundTrips measures both). Three
// choices see to it; each keeps the Watermill component it tunes.
//
//   - A reply goes to its own sender only. requestreply.PubSubBackend subscribes
//     every request to a reply topic and publishes every reply to it: with one topic
//     per operation, each reply reaches every request in flight on the operation, to
//     be decoded and dropped by all but one; with a topic per operation id, every
//     request pays for a subscription of its own, and a goroutine to listen to it.
//     The bus's requestreply.Backend (backend.go) keeps instead a registry of the
//     waiting Sends by operation id, the id requestreply puts in every command's
//     metadata: the handler's side hands its typed reply to its sender's inbox in
//     one lookup, and no reply is ever a message, so none is ever encoded. Senders
//     register and unregister their inbox themselves, rather than through
//     requestreply.SendWithReplies, which would add a goroutine, a context and a
//     random UUID to every request; the backend still serves SendWithReplies.
//   - A command is not encoded either. It never leaves the process, so the codec
//     (codec.go), the cqrs marshaler, puts the typed value in the message's context,
//     bound to the message by its id, and gives it to the handler as it is. A
//     message that comes without its command fails, and its sender hears of it at
//     once: nothing runs on, or succeeds with, a zero value. The message and the
//     result are handed over, not copied: neither side may change what it handed
//     over.
//   - The Pub/Sub (pubsub.go) is a message.Publisher and message.Subscriber over
//     buffered channels. gochannel.GoChannel would start two goroutines per message
//     (one to fan it out, one to wait for its ack), copy the message twice, and hold
//     a lock of the topic while it starts them, which a thousand concurrent Sends
//     of one operation queue up on. The only goroutine per message left is the one
//     the router starts to handle it.
//
// # Guarantees
//
// Three things the Watermill components do not give for free are done here, once,
// for every operation:
//
//   - Errors cross the bus as data. requestreply would flatten a handler's error
//     into its text, so a handler's outcome travels in a reply carrying a
//     *domain.Error, which the sender gets a copy of, intact: errors.Is(err,
//     domain.ErrNotFound) works on the caller's side. Errors that are not domain
//     errors are logged where they happen and cross as domain.ErrInternal, so no
//     driver text can reach a client; so are unavailable and internal domain
//     errors, whose wrapped cause would otherwise be lost on the way. A failure of
//     the bus itself (a message it cannot hand to its handler, say) reaches the
//     sender at once, as domain.ErrInternal, and is logged.
//   - Every wait is bounded. A Send ends with the reply, the caller's deadline, the
//     configured ReplyTimeout, or the bus closing, whichever comes first; all but a
//     canceled caller become domain.CodeUnavailable, which the port answers with 503
//     and Retry-After.
//   - Nothing is left behind. An inbox takes one value and is closed by whoever
//     removes it from the registry, so nobody ever blocks on it. Watermill v1.5.1's
//     reply listener can block for ever when a reply lands just as the wait ends
//     (requestreply/backend_pubsub.go:180-183), which the bus used to work around by
//     draining its channel; with no listener, there is nothing left to drain.
//
// The caller's context reaches the handler (deadline, cancellation and values), and
// the correlation id also travels in the message's metadata, so that the handler's
// logs and the events it causes can name the request. With a TracerProvider in
// Config, so does the trace context (traceparent), and each operation handled is a
// span named after it (tracing.go); without one, tracing costs nothing.
//
// Message payloads carry passwords: nothing in this package logs them.
package bus
