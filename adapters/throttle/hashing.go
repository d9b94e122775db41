package throttle

import (
	"context"
	"sync"
	"time"

	"github.com/example/accounts/commands"
)

var _ commands.HashBudget = (*HashBudget)(nil)

// HashBudget implements commands.HashBudget: one token bucket per client address
// (an IPv6 client per /64, as for the login throttle), refilling at perMinute and
// holding burst. It is safe for concurrent use; one mutex serializes every call,
// which is cheap next to the hash each call is about.
type HashBudget struct {
	now func() time.Time

	mu    sync.Mutex
	addrs buckets
}

// NewHashBudget allows each client address perMinute hashes a minute, and up to
// burst at once; a perMinute of 0 turns the budget off. now is the clock.
func NewHashBudget(perMinute, burst int, now func() time.Time) *HashBudget {
	return &HashBudget{now: now, addrs: newBuckets(perMinute, max(burst, 1), now())}
}

// Spend takes n hashes from the address's bucket, or none and says how long until
// it holds n, rounded up to whole seconds. A request that needs more than the burst
// is asked for the burst: it would otherwise never get through. It never fails.
func (h *HashBudget) Spend(_ context.Context, clientAddr string, n int) (time.Duration, error) {
	return h.spend(clientAddr, n), nil
}

func (h *HashBudget) spend(clientAddr string, n int) time.Duration {
	if h.addrs.perMinute <= 0 || n <= 0 {
		return 0
	}
	n = min(n, h.addrs.burst)
	addr := addrKey(clientAddr)
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.addrs.tidy(now)
	bk := h.addrs.get(addr, now)
	if tokens := bk.lim.TokensAt(now); tokens < float64(n) {
		return wholeSeconds(h.addrs.until(float64(n) - tokens))
	}
	bk.lim.AllowN(now, n)
	return 0
}
