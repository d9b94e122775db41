package outbox

import (
	"context"
	"time"
)

// Outcome is how one attempt of a consumer group at one event ended.
type Outcome string

const (
	// OutcomeDelivered: the group's handler or broker took the event.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeFailed: the attempt failed; the event is retried, then parked.
	OutcomeFailed Outcome = "failed"
	// OutcomeDeferred: the destination was unavailable; the event is handed again later,
	// neither retried in place nor parked.
	OutcomeDeferred Outcome = "deferred"
)

// Observer hears how the consumer groups fare, for the operators' metrics. broker
// is the Consumer's Broker ("" for a group handled in process). Its methods are
// called on the groups' own goroutines: they must be quick and never block.
type Observer interface {
	EventHandled(group, broker string, outcome Outcome, took time.Duration)
	EventRetried(group, broker string)
	EventParked(group, broker string)
}

type noObserver struct{}

func (noObserver) EventHandled(string, string, Outcome, time.Duration) {}
func (noObserver) EventRetried(string, string)                         {}
func (noObserver) EventParked(string, string)                          {}

// Groups names the router's consumer groups and the broker each forwards to (""
// for those handled in process).
func (r *Router) Groups() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	groups := make(map[string]string, len(r.brokers))
	for g, b := range r.brokers {
		groups[g] = b
	}
	return groups
}

// Lag measures how far consumer group is behind the outbox.
func (r *Router) Lag(ctx context.Context, group string) (Lag, error) {
	return GroupLag(ctx, r.db, group)
}

// Parked counts the events each consumer group has parked that wait still.
func (r *Router) Parked(ctx context.Context) (map[string]int, error) {
	return CountParked(ctx, r.db)
}
