package broker

import (
	"errors"
	"fmt"
)

// ErrUnavailable is wrapped by every error that says the broker cannot take events
// right now: not connected yet, connection lost, destination not declared, no
// acknowledgement in time, or the publisher closed. The event is fine and will go
// through once the broker is back, so the caller should keep it and wait rather
// than count the failure against the event.
//
// An error that does not wrap it means the broker, while reachable, refused that
// one message (or the message was not fit to be sent): retrying the same message
// is not expected to help.
var ErrUnavailable = errors.New("event broker unavailable")

// IsUnavailable reports whether err wraps ErrUnavailable.
func IsUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable)
}

// unavailable marks cause as an unavailability, keeping it inspectable with
// errors.Is and errors.As.
func unavailable(cause error) error {
	return fmt.Errorf("%w: %w", ErrUnavailable, cause)
}

// errClosed is what a closed publisher answers. It counts as unavailable: an event
// handed over during shutdown must not be parked as undeliverable.
var errClosed = errors.New("the publisher is closed")

// errNoEventID refuses a message that JetStream could not deduplicate and
// consumers could not recognise.
var errNoEventID = errors.New("broker: the message has no UUID, which must be the event id")

func wrongTopic(topic, destination string) error {
	return fmt.Errorf("broker: this publisher publishes to %q only, not to %q", destination, topic)
}
