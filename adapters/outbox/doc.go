// Package outbox is the transactional outbox of user events, on watermill-sql.
//
// A change to a user and the events it records are written in one database
// transaction (Writer), so an event exists if and only if its change committed.
// Consumers read the outbox in consumer groups of their own, each from where it
// left off: the in-process event handlers (ending an inactivated user's sessions)
// and the forwarding of events to a message broker for other services. Delivery is
// at least once; a consumer that fails an event retries it with backoff and then
// parks it in the poison table, so that one bad event cannot hold back the ones
// after it. Rows every group has passed are deleted after a retention period.
//
// With tracing on, an event also keeps the trace context of the write that stored
// it, and its handlers and its publishing continue that trace (tracing.go).
//
// The outbox tables are made by the migrations, not at run time: watermill cannot
// create them inside a transaction, and the service never writes outside one.
package outbox
