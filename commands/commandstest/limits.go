package commandstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/accounts/commands"
)

// LimitsConfig is what a LoginThrottle and a HashBudget are made with, as in
// [ratelimit].
type LimitsConfig struct {
	LoginPerMinuteIP, LoginPerMinuteAccount int
	HashPerMinuteIP, HashBurstIP            int
}

// Limits is one implementation of both limits, sharing its clock.
type Limits struct {
	Throttle commands.LoginThrottle
	Budget   commands.HashBudget
}

// Clock is a manual clock, safe for concurrent use: the limits' time moves only
// when a test says so.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until advanced.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// LimitsContract runs the behaviour every implementation of the login throttle and
// the hashing budget must have. newLimits makes fresh limits, with nothing counted,
// on the clock now.
func LimitsContract(t *testing.T, newLimits func(t *testing.T, cfg LimitsConfig, now func() time.Time) Limits) {
	tests := []struct {
		name string
		run  func(t *testing.T, newLimits func(cfg LimitsConfig) (Limits, *Clock))
	}{
		{"failures per username", testFailuresPerUsername},
		{"failures per address", testFailuresPerAddress},
		{"successes give their place back", testSuccessesGiveTheirPlaceBack},
		{"an attempt in progress holds its place", testAttemptInProgressHoldsItsPlace},
		{"attempts at once cannot slip under the limit", testAttemptsAtOnce},
		{"a limit of zero is off", testZeroIsOff},
		{"hashing budget", testHashingBudget},
		{"hashing budget per address", testHashingBudgetPerAddress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, func(cfg LimitsConfig) (Limits, *Clock) {
				c := NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
				return newLimits(t, cfg, c.Now), c
			})
		})
	}
}

// attempt makes one login attempt that ends as failed says, if the throttle lets it
// go ahead, and returns the throttle's wait.
func attempt(t *testing.T, lt commands.LoginThrottle, username, addr string, failed bool) time.Duration {
	t.Helper()
	wait, done, err := lt.Begin(t.Context(), username, addr)
	if err != nil {
		t.Fatalf("Begin(%s, %s): %v", username, addr, err)
	}
	if wait > 0 {
		if done != nil {
			t.Fatalf("Begin(%s, %s) waits %v and claims an attempt", username, addr, wait)
		}
		if wait%time.Second != 0 {
			t.Errorf("Begin(%s, %s) waits %v, not whole seconds", username, addr, wait)
		}
		return wait
	}
	done(failed)
	return 0
}

func testFailuresPerUsername(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, clock := newLimits(LimitsConfig{LoginPerMinuteIP: 100, LoginPerMinuteAccount: 5})
	for i := range 5 {
		if w := attempt(t, l.Throttle, "alice", "192.0.2.1", true); w != 0 {
			t.Fatalf("failure %d: waits %v, want 0", i+1, w)
		}
	}
	if w := attempt(t, l.Throttle, "alice", "192.0.2.1", true); w != 12*time.Second {
		t.Errorf("after 5 failures: waits %v, want 12s (a failure comes back every 12s)", w)
	}
	if w := attempt(t, l.Throttle, "alice", "198.51.100.7", false); w <= 0 {
		t.Errorf("the username from another address: waits %v, want a wait", w)
	}
	if w := attempt(t, l.Throttle, "bob", "198.51.100.7", false); w != 0 {
		t.Errorf("another username: waits %v, want 0", w)
	}
	clock.Advance(12 * time.Second)
	if w := attempt(t, l.Throttle, "alice", "192.0.2.1", true); w != 0 {
		t.Errorf("12s later: waits %v, want one attempt", w)
	}
	if w := attempt(t, l.Throttle, "alice", "192.0.2.1", true); w <= 0 {
		t.Errorf("a second attempt 12s later: waits %v, want a wait", w)
	}
}

func testFailuresPerAddress(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, _ := newLimits(LimitsConfig{LoginPerMinuteIP: 3, LoginPerMinuteAccount: 100})
	for _, user := range []string{"u1", "u2", "u3"} {
		attempt(t, l.Throttle, user, "2001:db8:1:2::1", true)
	}
	if w := attempt(t, l.Throttle, "u4", "2001:db8:1:2::1", false); w != 20*time.Second {
		t.Errorf("a fourth username from the address: waits %v, want 20s", w)
	}
	if w := attempt(t, l.Throttle, "u4", "2001:db8:1:2:ffff::9", false); w <= 0 {
		t.Errorf("another address of the same /64: waits %v, want a wait", w)
	}
	if w := attempt(t, l.Throttle, "u4", "2001:db8:1:3::1", false); w != 0 {
		t.Errorf("another /64: waits %v, want 0", w)
	}
	if w := attempt(t, l.Throttle, "u4", "192.0.2.1", false); w != 0 {
		t.Errorf("an IPv4 address: waits %v, want 0", w)
	}
}

func testSuccessesGiveTheirPlaceBack(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, _ := newLimits(LimitsConfig{LoginPerMinuteIP: 2, LoginPerMinuteAccount: 2})
	for i := range 10 {
		if w := attempt(t, l.Throttle, "alice", "192.0.2.1", false); w != 0 {
			t.Fatalf("success %d: waits %v, want 0", i+1, w)
		}
	}
}

func testAttemptInProgressHoldsItsPlace(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, _ := newLimits(LimitsConfig{LoginPerMinuteIP: 100, LoginPerMinuteAccount: 1})
	wait, first, err := l.Throttle.Begin(t.Context(), "alice", "192.0.2.1")
	if err != nil || wait != 0 {
		t.Fatalf("first attempt: wait %v, err %v", wait, err)
	}

	// The only place is held: another attempt waits for it, here until its context
	// ends.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, done, err := l.Throttle.Begin(ctx, "alice", "192.0.2.2"); !errors.Is(err, context.DeadlineExceeded) {
		if done != nil {
			done(false)
		}
		t.Fatalf("a second attempt while the first is in progress: err %v, want it to wait out its context", err)
	}

	// Once the first ends without failing, a waiting attempt goes ahead.
	type result struct {
		wait time.Duration
		done func(bool)
		err  error
	}
	got := make(chan result, 1)
	go func() {
		wait, done, err := l.Throttle.Begin(t.Context(), "alice", "192.0.2.3")
		got <- result{wait, done, err}
	}()
	time.Sleep(100 * time.Millisecond)
	first(false)
	var r result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting attempt did not go ahead when the one in progress ended")
	}
	if r.err != nil || r.wait != 0 {
		t.Fatalf("the waiting attempt: wait %v, err %v", r.wait, r.err)
	}
	// It fails: the limit is used up.
	r.done(true)
	if w := attempt(t, l.Throttle, "alice", "192.0.2.4", false); w <= 0 {
		t.Errorf("after the failure: waits %v, want a wait", w)
	}
}

func testAttemptsAtOnce(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	const limit, attempts = 5, 20
	l, _ := newLimits(LimitsConfig{LoginPerMinuteIP: 1000, LoginPerMinuteAccount: limit})
	var granted, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			wait, done, err := l.Throttle.Begin(ctx, "alice", fmt.Sprintf("192.0.2.%d", i+1))
			switch {
			case err != nil:
				t.Errorf("attempt %d: %v", i, err)
			case wait > 0:
				refused.Add(1)
			default:
				granted.Add(1)
				time.Sleep(20 * time.Millisecond) // the password check
				done(true)
			}
		})
	}
	wg.Wait()
	if granted.Load() != limit || refused.Load() != attempts-limit {
		t.Errorf("%d attempts at once: %d went ahead and %d were refused, want %d and %d",
			attempts, granted.Load(), refused.Load(), limit, attempts-limit)
	}
}

func testZeroIsOff(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, _ := newLimits(LimitsConfig{})
	for i := range 50 {
		if w := attempt(t, l.Throttle, "alice", "192.0.2.1", true); w != 0 {
			t.Fatalf("failure %d with the throttle off: waits %v", i+1, w)
		}
		if w := spend(t, l.Budget, "192.0.2.1", 2); w != 0 {
			t.Fatalf("hash %d with the budget off: waits %v", i+1, w)
		}
	}
}

func spend(t *testing.T, b commands.HashBudget, addr string, n int) time.Duration {
	t.Helper()
	wait, err := b.Spend(t.Context(), addr, n)
	if err != nil {
		t.Fatalf("Spend(%s, %d): %v", addr, n, err)
	}
	if wait%time.Second != 0 {
		t.Errorf("Spend(%s, %d) waits %v, not whole seconds", addr, n, wait)
	}
	return wait
}

func testHashingBudget(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, clock := newLimits(LimitsConfig{HashPerMinuteIP: 60, HashBurstIP: 3})
	const addr = "192.0.2.1"
	if w := spend(t, l.Budget, addr, 2); w != 0 {
		t.Fatalf("2 of a burst of 3: waits %v", w)
	}
	if w := spend(t, l.Budget, addr, 2); w != time.Second {
		t.Errorf("2 more with 1 left: waits %v, want 1s; nothing is taken", w)
	}
	if w := spend(t, l.Budget, addr, 1); w != 0 {
		t.Errorf("the one left: waits %v, want 0", w)
	}
	if w := spend(t, l.Budget, addr, 1); w != time.Second {
		t.Errorf("with none left: waits %v, want 1s (one a second)", w)
	}
	clock.Advance(time.Second)
	if w := spend(t, l.Budget, addr, 1); w != 0 {
		t.Errorf("a second later: waits %v, want 0", w)
	}
	// More than the burst is asked as the burst: it would never fit otherwise.
	clock.Advance(3 * time.Second)
	if w := spend(t, l.Budget, addr, 5); w != 0 {
		t.Errorf("5 with a full burst of 3: waits %v, want 0", w)
	}
	if w := spend(t, l.Budget, addr, 1); w <= 0 {
		t.Errorf("after the whole burst: waits %v, want a wait", w)
	}
}

func testHashingBudgetPerAddress(t *testing.T, newLimits func(LimitsConfig) (Limits, *Clock)) {
	l, _ := newLimits(LimitsConfig{HashPerMinuteIP: 60, HashBurstIP: 2})
	spend(t, l.Budget, "2001:db8:1:2::1", 2)
	if w := spend(t, l.Budget, "2001:db8:1:2::2", 1); w <= 0 {
		t.Errorf("the same /64: waits %v, want a wait", w)
	}
	if w := spend(t, l.Budget, "2001:db8:1:3::1", 2); w != 0 {
		t.Errorf("another /64: waits %v, want 0", w)
	}
	if w := spend(t, l.Budget, "192.0.2.1", 2); w != 0 {
		t.Errorf("an IPv4 address: waits %v, want 0", w)
	}
}
