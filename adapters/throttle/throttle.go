package throttle

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/example/accounts/commands"
)

var _ commands.LoginThrottle = (*LoginThrottle)(nil)

const (
	// minSweepSize keeps small maps from being swept on every new key.
	minSweepSize = 1024
	// sweepEvery is how long a map may go unswept, so that memory is given back after
	// an attack even when no new keys arrive; a bucket that is never used again is
	// full a minute after it was last emptied.
	sweepEvery = time.Minute
)

// LoginThrottle implements commands.LoginThrottle. It is safe for concurrent use; one
// mutex serializes every call, which is cheap next to the bcrypt work of a login.
type LoginThrottle struct {
	now func() time.Time

	mu       sync.Mutex
	accounts buckets
	addrs    buckets
}

// NewLoginThrottle allows perMinuteIP failed logins a minute per client address and
// perMinuteAccount per username, each also as a burst; a limit of 0 turns that kind of
// key off. now is the clock: buckets fill and drain in its time.
func NewLoginThrottle(perMinuteIP, perMinuteAccount int, now func() time.Time) *LoginThrottle {
	t := now()
	return &LoginThrottle{
		now:      now,
		accounts: newBuckets(perMinuteAccount, t),
		addrs:    newBuckets(perMinuteIP, t),
	}
}

// Wait returns how long until both the username and the address may fail once more,
// rounded up to whole seconds because it becomes the Retry-After header. It consumes
// nothing: only Failed counts.
func (t *LoginThrottle) Wait(username, clientAddr string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accounts.tidy(now)
	t.addrs.tidy(now)
	wait := max(t.accounts.wait(username, now), t.addrs.wait(clientAddr, now))
	return (wait + time.Second - 1).Truncate(time.Second)
}

// Failed counts one failed login against the username and the address.
func (t *LoginThrottle) Failed(username, clientAddr string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accounts.fail(username, now)
	t.addrs.fail(clientAddr, now)
}

// buckets are the token buckets of one kind of key. A key without a bucket has never
// failed or has fully recovered: both mean a full bucket.
type buckets struct {
	perMinute int
	byKey     map[string]*rate.Limiter
	sweepAt   int // the map size that triggers the next sweep
	sweptAt   time.Time
}

func newBuckets(perMinute int, now time.Time) buckets {
	return buckets{perMinute: perMinute, byKey: map[string]*rate.Limiter{}, sweepAt: minSweepSize, sweptAt: now}
}

func (b *buckets) wait(key string, now time.Time) time.Duration {
	lim, ok := b.byKey[key]
	if !ok {
		return 0
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(time.Minute) / float64(b.perMinute))
}

func (b *buckets) fail(key string, now time.Time) {
	if b.perMinute <= 0 {
		return
	}
	lim, ok := b.byKey[key]
	if !ok {
		if len(b.byKey) >= b.sweepAt {
			b.sweep(now)
		}
		lim = rate.NewLimiter(rate.Limit(b.perMinute)/60, b.perMinute)
		b.byKey[key] = lim
	}
	// ReserveN, unlike AllowN, takes the token even from an empty bucket: attempts
	// that passed Wait together and all failed each count, pushing the wait further.
	lim.ReserveN(now, 1)
}

func (b *buckets) tidy(now time.Time) {
	if now.Sub(b.sweptAt) >= sweepEvery {
		b.sweep(now)
	}
}

// sweep drops the buckets that have refilled completely.
func (b *buckets) sweep(now time.Time) {
	for key, lim := range b.byKey {
		if lim.TokensAt(now) >= float64(b.perMinute) {
			delete(b.byKey, key)
		}
	}
	b.sweepAt = max(2*len(b.byKey), minSweepSize)
	b.sweptAt = now
}
