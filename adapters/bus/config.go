package bus

import (
	"errors"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Config bounds the bus's waits. A zero field takes its default.
type Config struct {
	// ReplyTimeout bounds the wait for one reply, on top of the caller's own
	// deadline. The handler works under the same deadline, so it gives up once
	// nobody waits for its answer any more. Default 10s.
	ReplyTimeout time.Duration

	// CloseTimeout bounds how long Close waits for handlers still running. It must
	// be shorter than the application's stop timeout, or the process is stopped
	// before the bus has closed. Default 5s.
	CloseTimeout time.Duration

	// Observer, when set, hears of every message handled.
	Observer Observer
	// TracerProvider, when set, gives every handled operation a span (see
	// tracing.go); nil traces nothing and costs nothing. Propagator carries the
	// trace context in the messages' metadata (default W3C Trace Context).
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
}

// Observer hears of every message a handler has answered: its operation (e.g.
// "commands.Signup"), its outcome ("ok", or the code of the domain error it was
// refused with: "not_found", "unavailable", "internal"…) and how long the handler
// took. It is called on the handler's goroutine: it must be quick.
type Observer interface {
	Handled(operation, outcome string, took time.Duration)
}

// OutcomeOK is the outcome of a message its handler answered with a result.
const OutcomeOK = "ok"

const (
	defaultReplyTimeout = 10 * time.Second
	defaultCloseTimeout = 5 * time.Second
)

// Validate reports settings the bus cannot work with. Zero values are valid: they
// mean the defaults.
func (c Config) Validate() error {
	var err error
	if c.ReplyTimeout < 0 {
		err = errors.Join(err, errors.New("bus: ReplyTimeout must not be negative"))
	}
	if c.CloseTimeout < 0 {
		err = errors.Join(err, errors.New("bus: CloseTimeout must not be negative"))
	}
	return err
}

func (c *Config) setDefaults() {
	if c.ReplyTimeout == 0 {
		c.ReplyTimeout = defaultReplyTimeout
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = defaultCloseTimeout
	}
}
