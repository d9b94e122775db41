// Package bus is the in-process CQRS bus between the HTTP port and the use cases.
//
// Every command and query travels as a Watermill message: the port's Sender
// publishes it with components/cqrs, a CommandProcessor hands it to the use case
// handler registered for its type, and components/requestreply brings the handler's
// answer back to the waiting sender. It all runs over one GoChannel pub/sub, so
// nothing is durable: the bus serves the synchronous request path only, and events
// that must not be lost go through the outbox instead.
//
// Two things the Watermill components do not give for free are done here, once, for
// every operation:
//
//   - Errors cross the bus as data. requestreply would flatten a handler's error
//     into its text, so a handler's outcome travels in a reply envelope carrying a
//     *domain.Error, which the sender rebuilds intact: errors.Is(err,
//     domain.ErrNotFound) works on the caller's side. Errors that are not domain
//     errors are logged where they happen and cross as domain.ErrInternal, so no
//     driver text can reach a client; so are unavailable and internal domain
//     errors, whose wrapped cause would otherwise be lost on the way.
//   - Every wait is bounded. A Send ends with the reply, the caller's deadline, the
//     configured ReplyTimeout, or the bus closing, whichever comes first; all but a
//     canceled caller become domain.CodeUnavailable, which the port answers with 503
//     and Retry-After.
//
// The caller's context reaches the handler (deadline, cancellation and values), and
// the correlation id also travels in the message's metadata, so that the handler's
// logs and the events it causes can name the request.
//
// Message payloads carry passwords: nothing in this package logs them.
package bus
