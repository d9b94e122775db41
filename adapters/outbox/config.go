package outbox

import (
	"errors"
	"time"
)

// Config tunes how the outbox is consumed. A zero field takes its default.
type Config struct {
	// PollInterval is how often an idle consumer group looks for new events: the
	// usual delay between a commit and its delivery is about half of it. Default
	// 250ms.
	PollInterval time.Duration
	// BatchSize is how many events a group reads in one round trip. Default 100.
	BatchSize int
	// AckDeadline bounds a group's work on one event, retries included; past it the
	// event is handed again later. A group holds a transaction open while it works
	// (that is how several instances share a group), and an open transaction holds
	// back what every other group can see: keep it short. Default 30s.
	AckDeadline time.Duration
	// Retry is how a failing event is retried before it is parked.
	Retry RetryConfig
	// CloseTimeout bounds how long Close waits for events being handled. It must be
	// shorter than the application's stop timeout. Default 5s.
	CloseTimeout time.Duration
	// Observer, when set, hears of every event handled, retried and parked.
	Observer Observer
	// Tracing, when set, continues each event's trace in its handlers and its
	// publishing (see tracing.go); the zero value traces nothing.
	Tracing Tracing
}

// RetryConfig is the exponential backoff, with jitter, between attempts at one
// event. After MaxRetries the event is parked in the poison table.
type RetryConfig struct {
	MaxRetries      int           // default 5
	InitialInterval time.Duration // default 100ms
	MaxInterval     time.Duration // default 2s
	// RandomizationFactor spreads each wait over ±that fraction, so that instances
	// failing together do not retry in step. Default 0.5.
	RandomizationFactor float64
}

const (
	defaultPollInterval = 250 * time.Millisecond
	defaultBatchSize    = 100
	defaultAckDeadline  = 30 * time.Second
	defaultCloseTimeout = 5 * time.Second
)

func (c *Config) setDefaults() {
	if c.PollInterval == 0 {
		c.PollInterval = defaultPollInterval
	}
	if c.BatchSize == 0 {
		c.BatchSize = defaultBatchSize
	}
	if c.AckDeadline == 0 {
		c.AckDeadline = defaultAckDeadline
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = defaultCloseTimeout
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	r := &c.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = 5
	}
	if r.InitialInterval == 0 {
		r.InitialInterval = 100 * time.Millisecond
	}
	if r.MaxInterval == 0 {
		r.MaxInterval = 2 * time.Second
	}
	if r.RandomizationFactor == 0 {
		r.RandomizationFactor = 0.5
	}
}

// Validate reports settings the outbox cannot work with. Zero values are valid:
// they mean the defaults.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New("outbox: "+msg))
		}
	}
	check(c.PollInterval >= 0, "PollInterval must not be negative")
	check(c.BatchSize >= 0, "BatchSize must not be negative")
	check(c.AckDeadline >= 0, "AckDeadline must not be negative")
	check(c.CloseTimeout >= 0, "CloseTimeout must not be negative")
	check(c.Retry.MaxRetries >= 0, "Retry.MaxRetries must not be negative")
	check(c.Retry.InitialInterval >= 0 && c.Retry.MaxInterval >= 0, "Retry intervals must not be negative")
	check(c.Retry.RandomizationFactor >= 0 && c.Retry.RandomizationFactor < 1, "Retry.RandomizationFactor must be in [0, 1)")
	return errors.Join(errs...)
}
