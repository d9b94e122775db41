package broker

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"
)

// warnEvery spaces out the warnings while a broker stays unreachable: the first
// failure is logged at once, then one line at most this often, not one per retry.
const warnEvery = 30 * time.Second

// status answers Ready for a publisher and logs its changes: a warning when the
// broker becomes unavailable (throttled while it stays so), an info line when the
// publisher can publish again.
type status struct {
	logger *zap.Logger

	mu       sync.Mutex
	err      error     // why the publisher cannot publish; nil when it can
	failures int       // failed attempts since the publisher last could publish
	warned   time.Time // when the current outage was last logged
}

func newStatus(logger *zap.Logger, initial error) *status {
	return &status{logger: logger, err: initial}
}

func (s *status) problem() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// set records why the publisher cannot publish yet without counting a failure: a
// step on the way to being ready, not a broker that fails.
func (s *status) set(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// fail records a failed attempt.
func (s *status) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
	s.failures++
	if now := time.Now(); s.failures == 1 || now.Sub(s.warned) >= warnEvery {
		s.warned = now
		s.logger.Warn("event broker unavailable; events wait in the outbox, retrying",
			zap.Error(err), zap.Int("failed_attempts", s.failures))
	}
}

// ok records that the publisher can publish, and says so if it could not before.
func (s *status) ok(msg string, fields ...zap.Field) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		return
	}
	s.err, s.failures = nil, 0
	s.logger.Info(msg, fields...)
}

// backoff is capped exponential backoff with jitter.
type backoff struct {
	first, max time.Duration
}

// delay is the wait before retry n, n ≥ 1: first·2ⁿ⁻¹, capped at max, then drawn at
// random from its upper half, so that instances restarted together spread out.
func (b backoff) delay(n int) time.Duration {
	d := b.first
	for i := 1; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or the end of ctx, and reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
