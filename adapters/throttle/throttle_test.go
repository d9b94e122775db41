package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/accounts/adapters/throttle"
)

// clock is a manual clock: the throttle's time only moves when a test says so.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// fail makes one attempt that fails, if the throttle lets it go ahead.
func fail(lt *throttle.LoginThrottle, username, addr string) {
	if _, done, _ := lt.Begin(context.Background(), username, addr); done != nil {
		done(true)
	}
}

func failTimes(lt *throttle.LoginThrottle, n int, username, addr string) {
	for range n {
		fail(lt, username, addr)
	}
}

// waitFor is the wait a new attempt would get; an attempt let through ends without
// failing, which leaves no trace.
func waitFor(lt *throttle.LoginThrottle, username, addr string) time.Duration {
	wait, done, _ := lt.Begin(context.Background(), username, addr)
	if done != nil {
		done(false)
	}
	return wait
}

func TestUsernameIsThrottledAfterItsLimit(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 5, newClock().now)

	failTimes(lt, 4, "alice", "192.0.2.1")
	if w := waitFor(lt, "alice", "192.0.2.1"); w != 0 {
		t.Fatalf("after 4 failures Wait = %s, want 0", w)
	}
	fail(lt, "alice", "192.0.2.1")
	if w := waitFor(lt, "alice", "192.0.2.1"); w <= 0 || w > time.Minute {
		t.Errorf("after 5 failures Wait = %s, want in (0, 1m]", w)
	}
	if w := waitFor(lt, "alice", "198.51.100.7"); w <= 0 {
		t.Errorf("the username is not throttled from another address: Wait = %s", w)
	}
	if w := waitFor(lt, "bob", "198.51.100.7"); w != 0 {
		t.Errorf("another username from another address: Wait = %s, want 0", w)
	}
}

func TestUsernamesAreExact(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 5, newClock().now)
	failTimes(lt, 5, "alice", "192.0.2.1")

	if w := waitFor(lt, "Alice", "198.51.100.7"); w != 0 {
		t.Errorf("Alice is throttled for alice's failures: Wait = %s", w)
	}
}

func TestAddressIsThrottledAcrossUsernames(t *testing.T) {
	lt := throttle.NewLoginThrottle(10, 5, newClock().now)
	for i := range 10 {
		fail(lt, fmt.Sprintf("user%d", i), "192.0.2.1")
	}

	if w := waitFor(lt, "fresh", "192.0.2.1"); w <= 0 {
		t.Errorf("an untried username from the sprayed address: Wait = %s, want > 0", w)
	}
	if w := waitFor(lt, "fresh", "198.51.100.7"); w != 0 {
		t.Errorf("the same username from another address: Wait = %s, want 0", w)
	}
}

func TestZeroTurnsALimitOff(t *testing.T) {
	off := throttle.NewLoginThrottle(0, 0, newClock().now)
	failTimes(off, 1000, "alice", "192.0.2.1")
	if w := waitFor(off, "alice", "192.0.2.1"); w != 0 {
		t.Errorf("both limits off: Wait = %s, want 0", w)
	}

	accountsOnly := throttle.NewLoginThrottle(0, 5, newClock().now)
	for i := range 1000 {
		fail(accountsOnly, fmt.Sprintf("user%d", i), "192.0.2.1")
	}
	if w := waitFor(accountsOnly, "fresh", "192.0.2.1"); w != 0 {
		t.Errorf("address limit off: Wait = %s, want 0", w)
	}
	failTimes(accountsOnly, 5, "alice", "192.0.2.1")
	if w := waitFor(accountsOnly, "alice", "192.0.2.1"); w <= 0 {
		t.Errorf("account limit on: Wait = %s, want > 0", w)
	}
}

// 5 a minute is one token every 12 seconds.
func TestRetryAfterIsHonestAndRoundedUp(t *testing.T) {
	c := newClock()
	lt := throttle.NewLoginThrottle(100, 5, c.now)
	failTimes(lt, 5, "alice", "192.0.2.1")

	if w := waitFor(lt, "alice", "192.0.2.1"); w != 12*time.Second {
		t.Fatalf("Wait = %s, want 12s", w)
	}
	c.advance(10*time.Second + time.Millisecond)
	if w := waitFor(lt, "alice", "192.0.2.1"); w != 2*time.Second {
		t.Errorf("1.999s left: Wait = %s, want 2s", w)
	}
	c.advance(1999 * time.Millisecond)
	if w := waitFor(lt, "alice", "192.0.2.1"); w != 0 {
		t.Errorf("after waiting it out: Wait = %s, want 0", w)
	}
	fail(lt, "alice", "192.0.2.1")
	if w := waitFor(lt, "alice", "192.0.2.1"); w != 12*time.Second {
		t.Errorf("one more failure: Wait = %s, want 12s", w)
	}
}

func TestBucketRefillsCompletely(t *testing.T) {
	c := newClock()
	lt := throttle.NewLoginThrottle(100, 5, c.now)
	failTimes(lt, 5, "alice", "192.0.2.1")
	c.advance(time.Minute)

	failTimes(lt, 4, "alice", "192.0.2.1")
	if w := waitFor(lt, "alice", "192.0.2.1"); w != 0 {
		t.Errorf("a minute later, 4 more failures: Wait = %s, want 0", w)
	}
}

func TestSuccessfulAttemptsCostNothing(t *testing.T) {
	lt := throttle.NewLoginThrottle(5, 5, newClock().now)
	for range 100 {
		waitFor(lt, "alice", "192.0.2.1")
	}
	failTimes(lt, 4, "alice", "192.0.2.1")

	if w := waitFor(lt, "alice", "192.0.2.1"); w != 0 {
		t.Errorf("Wait = %s, want 0", w)
	}
}

// BenchmarkFailedAttempt is one failed login's throttle work, from every CPU at
// once against shared usernames and addresses.
func BenchmarkFailedAttempt(b *testing.B) {
	usernames := make([]string, 4096)
	for i := range usernames {
		usernames[i] = fmt.Sprintf("user%d", i)
	}
	addrs := make([]string, 256)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("192.0.2.%d", i)
	}
	lt := throttle.NewLoginThrottle(10, 5, time.Now)
	var worker atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for i := int(worker.Add(1)) * 997; pb.Next(); i++ {
			username, addr := usernames[i%len(usernames)], addrs[i%len(addrs)]
			if _, done, _ := lt.Begin(b.Context(), username, addr); done != nil {
				done(true)
			}
		}
	})
}

// TestAttemptsInProgressCount: attempts sent at once cannot all slip under the
// limit. Each holds its place until it ends; one that finds only attempts in
// progress in its way waits for them, and gets in when one succeeds.
func TestAttemptsInProgressCount(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 2, newClock().now)
	ctx := context.Background()
	w1, first, _ := lt.Begin(ctx, "alice", "192.0.2.1")
	w2, second, _ := lt.Begin(ctx, "alice", "192.0.2.2")
	if w1 != 0 || w2 != 0 || first == nil || second == nil {
		t.Fatalf("the first two attempts waited %s and %s", w1, w2)
	}
	if w := waitFor(lt, "bob", "192.0.2.3"); w != 0 {
		t.Errorf("another username is held up by alice's attempts: wait %s", w)
	}

	// A third attempt waits while both are in progress, and gives up with its context.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, done, err := lt.Begin(short, "alice", "192.0.2.3"); !errors.Is(err, context.DeadlineExceeded) || done != nil {
		t.Fatalf("third attempt while two are in progress: err %v, want the context's deadline", err)
	}

	// When one succeeds, a waiting attempt takes its place. (Whether it is already
	// waiting when the first ends is the scheduler's call; either way it must get
	// in, and a wake-up that never comes fails at the deadline instead of hanging.)
	type outcome struct {
		wait time.Duration
		err  error
	}
	third := make(chan outcome)
	go func() {
		bounded, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		w, done, err := lt.Begin(bounded, "alice", "192.0.2.3")
		if err == nil && done != nil {
			done(true)
		}
		third <- outcome{w, err}
	}()
	first(false)
	if o := <-third; o.wait != 0 || o.err != nil {
		t.Errorf("after an attempt succeeded, the waiting one got wait %s, err %v; want a place", o.wait, o.err)
	}

	// Two failures (the second attempt's and the third's) use the limit up: no
	// waiting now, a wait to report.
	second(true)
	second(true) // settling twice counts once
	if w := waitFor(lt, "alice", "192.0.2.4"); w <= 0 {
		t.Errorf("after two failures: wait %s, want > 0", w)
	}
}

// TestConcurrentFailuresStopAtTheLimit: however many wrong passwords arrive at once,
// no more than the limit are let through to be checked.
func TestConcurrentFailuresStopAtTheLimit(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 3, newClock().now)
	var checked atomic.Int64
	atOnce(50, func() {
		if _, done, _ := lt.Begin(context.Background(), "alice", "192.0.2.1"); done != nil {
			checked.Add(1)
			done(true)
		}
	})
	if n := checked.Load(); n != 3 {
		t.Errorf("%d attempts let through, want the limit of 3", n)
	}
}

// An IPv6 client picks addresses from its /64 at will: they count as one address.
// IPv4, mapped into IPv6 or not, counts per address.
func TestIPv6CountsPerSlash64(t *testing.T) {
	lt := throttle.NewLoginThrottle(2, 100, newClock().now)
	fail(lt, "user1", "2001:db8:1:2::1")
	fail(lt, "user2", "2001:db8:1:2:ffff::9")

	if w := waitFor(lt, "user3", "2001:db8:1:2::abcd"); w <= 0 {
		t.Errorf("another address of the same /64: wait %s, want > 0", w)
	}
	if w := waitFor(lt, "user3", "2001:db8:1:3::1"); w != 0 {
		t.Errorf("the neighbouring /64: wait %s, want 0", w)
	}

	fail(lt, "user1", "192.0.2.1")
	fail(lt, "user2", "::ffff:192.0.2.1")
	if w := waitFor(lt, "user3", "192.0.2.1"); w <= 0 {
		t.Errorf("IPv4 and its IPv6 mapping are one address: wait %s, want > 0", w)
	}
	if w := waitFor(lt, "user3", "192.0.2.2"); w != 0 {
		t.Errorf("the next IPv4 address: wait %s, want 0", w)
	}
}

// TestConcurrentSuccessesAreNeverRefused: only failures count, so any number of
// attempts that all succeed get in, however many arrive at once.
func TestConcurrentSuccessesAreNeverRefused(t *testing.T) {
	lt := throttle.NewLoginThrottle(2, 2, newClock().now)
	var refused atomic.Int64
	atOnce(50, func() {
		wait, done, err := lt.Begin(t.Context(), "alice", "192.0.2.1")
		if err != nil || wait > 0 {
			refused.Add(1)
			return
		}
		done(false)
	})
	if n := refused.Load(); n != 0 {
		t.Errorf("%d of 50 successful attempts refused", n)
	}
}

// atOnce runs f n times concurrently, all released together, and waits for them.
func atOnce(n int, f func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			f()
		})
	}
	close(start)
	wg.Wait()
}
