package throttle

import (
	"context"
	"net/netip"
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
	// ended is closed, and replaced, whenever an attempt ends: Begin calls waiting
	// for attempts in progress look again then.
	ended chan struct{}
}

// NewLoginThrottle allows perMinuteIP failed logins a minute per client address and
// perMinuteAccount per username, each also as a burst; a limit of 0 turns that kind of
// key off. now is the clock: buckets fill and drain in its time.
func NewLoginThrottle(perMinuteIP, perMinuteAccount int, now func() time.Time) *LoginThrottle {
	t := now()
	return &LoginThrottle{
		now:      now,
		accounts: newBuckets(perMinuteAccount, perMinuteAccount, t),
		addrs:    newBuckets(perMinuteIP, perMinuteIP, t),
		ended:    make(chan struct{}),
	}
}

// Begin claims one attempt for the username and the address. An attempt in progress
// holds a place in the limit until it ends, so attempts sent at once cannot all
// slip under it; when it ends without failing, its place is given back. When the
// failures already counted reach either limit, Begin claims nothing and returns the
// wait, rounded up to whole seconds because it becomes the Retry-After header. When
// only attempts in progress fill the limit, Begin waits for one of them to end
// (they may succeed) or for ctx to.
func (t *LoginThrottle) Begin(ctx context.Context, username, clientAddr string) (time.Duration, func(failed bool), error) {
	addr := addrKey(clientAddr)
	for {
		wait, done, ended := t.tryBegin(username, addr)
		if ended == nil {
			return wait, done, nil
		}
		select {
		case <-ended:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

// tryBegin is one look at both limits: a wait, a claim, or, when attempts in
// progress are all that stand in the way, the channel that says one has ended.
func (t *LoginThrottle) tryBegin(username, addr string) (time.Duration, func(failed bool), <-chan struct{}) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accounts.tidy(now)
	t.addrs.tidy(now)
	accountWait, accountBusy := t.accounts.state(username, now)
	addrWait, addrBusy := t.addrs.state(addr, now)
	if wait := max(accountWait, addrWait); wait > 0 {
		return wholeSeconds(wait), nil, nil
	}
	if accountBusy || addrBusy {
		return 0, nil, t.ended
	}
	account := t.accounts.claim(username, now)
	address := t.addrs.claim(addr, now)

	var once sync.Once
	return 0, func(failed bool) {
		once.Do(func() {
			now := t.now()
			t.mu.Lock()
			defer t.mu.Unlock()
			account.end(failed, now)
			address.end(failed, now)
			close(t.ended)
			t.ended = make(chan struct{})
		})
	}, nil
}

// wholeSeconds rounds a wait up to whole seconds: it becomes a Retry-After header,
// and a client that waits what it says must find the way open.
func wholeSeconds(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// addrKey is the throttle key of a client address. An IPv6 client usually holds a
// whole /64 and can pick a fresh address from it for every attempt, so IPv6
// addresses count by their /64; IPv4 (mapped into IPv6 too) by the address.
// Anything unparsable is its own key.
func addrKey(clientAddr string) string {
	a, err := netip.ParseAddr(clientAddr)
	if err != nil {
		return clientAddr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return clientAddr
	}
	return p.String()
}

// bucket is the token bucket of one key plus the attempts on it still in progress.
type bucket struct {
	lim     *rate.Limiter
	pending int
}

// end settles one claimed attempt; a nil bucket is a kind of key that is turned off.
func (b *bucket) end(failed bool, now time.Time) {
	if b == nil {
		return
	}
	b.pending--
	if failed {
		// The claim kept a token free for this failure, so the reservation never
		// has to wait.
		b.lim.ReserveN(now, 1)
	}
}

// buckets are the token buckets of one kind of key, refilling at perMinute and
// holding up to burst. Every attempt gets its key a bucket; sweeps drop those that
// are full again with no attempt in progress, so a key without a bucket simply has
// its whole limit free.
type buckets struct {
	perMinute int
	burst     int
	byKey     map[string]*bucket
	sweepAt   int // the map size that triggers the next sweep
	sweptAt   time.Time
}

func newBuckets(perMinute, burst int, now time.Time) buckets {
	return buckets{perMinute: perMinute, burst: burst, byKey: map[string]*bucket{}, sweepAt: minSweepSize, sweptAt: now}
}

// state says whether key may fail once more: wait > 0 when the failures counted
// have used its limit up, busy when attempts in progress hold the places left.
func (b *buckets) state(key string, now time.Time) (wait time.Duration, busy bool) {
	bk, ok := b.byKey[key]
	if !ok {
		return 0, false
	}
	tokens := bk.lim.TokensAt(now)
	if tokens < 1 {
		return b.until(1 - tokens), false
	}
	return 0, tokens-float64(bk.pending) < 1
}

// until is how long the bucket takes to refill by tokens.
func (b *buckets) until(tokens float64) time.Duration {
	return time.Duration(tokens * float64(time.Minute) / float64(b.perMinute))
}

// claim marks one attempt in progress on key; nil when this kind of key is off.
func (b *buckets) claim(key string, now time.Time) *bucket {
	if b.perMinute <= 0 {
		return nil
	}
	bk := b.get(key, now)
	bk.pending++
	return bk
}

// get returns key's bucket, making a full one for a key that has none.
func (b *buckets) get(key string, now time.Time) *bucket {
	bk, ok := b.byKey[key]
	if !ok {
		if len(b.byKey) >= b.sweepAt {
			b.sweep(now)
		}
		bk = &bucket{lim: rate.NewLimiter(rate.Limit(b.perMinute)/60, b.burst)}
		b.byKey[key] = bk
	}
	return bk
}

func (b *buckets) tidy(now time.Time) {
	if now.Sub(b.sweptAt) >= sweepEvery {
		b.sweep(now)
	}
}

// sweep drops the buckets that have refilled completely and have no attempt in
// progress.
func (b *buckets) sweep(now time.Time) {
	for key, bk := range b.byKey {
		if bk.pending == 0 && bk.lim.TokensAt(now) >= float64(b.burst) {
			delete(b.byKey, key)
		}
	}
	b.sweepAt = max(2*len(b.byKey), minSweepSize)
	b.sweptAt = now
}
