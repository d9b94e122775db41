package throttle_test

import (
	"fmt"
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

func failTimes(lt *throttle.LoginThrottle, n int, username, addr string) {
	for range n {
		lt.Failed(username, addr)
	}
}

func TestUsernameIsThrottledAfterItsLimit(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 5, newClock().now)

	failTimes(lt, 4, "alice", "192.0.2.1")
	if w := lt.Wait("alice", "192.0.2.1"); w != 0 {
		t.Fatalf("after 4 failures Wait = %s, want 0", w)
	}
	lt.Failed("alice", "192.0.2.1")
	if w := lt.Wait("alice", "192.0.2.1"); w <= 0 || w > time.Minute {
		t.Errorf("after 5 failures Wait = %s, want in (0, 1m]", w)
	}
	if w := lt.Wait("alice", "198.51.100.7"); w <= 0 {
		t.Errorf("the username is not throttled from another address: Wait = %s", w)
	}
	if w := lt.Wait("bob", "198.51.100.7"); w != 0 {
		t.Errorf("another username from another address: Wait = %s, want 0", w)
	}
}

func TestUsernamesAreExact(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 5, newClock().now)
	failTimes(lt, 5, "alice", "192.0.2.1")

	if w := lt.Wait("Alice", "198.51.100.7"); w != 0 {
		t.Errorf("Alice is throttled for alice's failures: Wait = %s", w)
	}
}

func TestAddressIsThrottledAcrossUsernames(t *testing.T) {
	lt := throttle.NewLoginThrottle(10, 5, newClock().now)
	for i := range 10 {
		lt.Failed(fmt.Sprintf("user%d", i), "192.0.2.1")
	}

	if w := lt.Wait("fresh", "192.0.2.1"); w <= 0 {
		t.Errorf("an untried username from the sprayed address: Wait = %s, want > 0", w)
	}
	if w := lt.Wait("fresh", "198.51.100.7"); w != 0 {
		t.Errorf("the same username from another address: Wait = %s, want 0", w)
	}
}

func TestZeroTurnsALimitOff(t *testing.T) {
	off := throttle.NewLoginThrottle(0, 0, newClock().now)
	failTimes(off, 1000, "alice", "192.0.2.1")
	if w := off.Wait("alice", "192.0.2.1"); w != 0 {
		t.Errorf("both limits off: Wait = %s, want 0", w)
	}

	accountsOnly := throttle.NewLoginThrottle(0, 5, newClock().now)
	for i := range 1000 {
		accountsOnly.Failed(fmt.Sprintf("user%d", i), "192.0.2.1")
	}
	if w := accountsOnly.Wait("fresh", "192.0.2.1"); w != 0 {
		t.Errorf("address limit off: Wait = %s, want 0", w)
	}
	failTimes(accountsOnly, 5, "alice", "192.0.2.1")
	if w := accountsOnly.Wait("alice", "192.0.2.1"); w <= 0 {
		t.Errorf("account limit on: Wait = %s, want > 0", w)
	}
}

// 5 a minute is one token every 12 seconds.
func TestRetryAfterIsHonestAndRoundedUp(t *testing.T) {
	c := newClock()
	lt := throttle.NewLoginThrottle(100, 5, c.now)
	failTimes(lt, 5, "alice", "192.0.2.1")

	if w := lt.Wait("alice", "192.0.2.1"); w != 12*time.Second {
		t.Fatalf("Wait = %s, want 12s", w)
	}
	c.advance(10*time.Second + time.Millisecond)
	if w := lt.Wait("alice", "192.0.2.1"); w != 2*time.Second {
		t.Errorf("1.999s left: Wait = %s, want 2s", w)
	}
	c.advance(1999 * time.Millisecond)
	if w := lt.Wait("alice", "192.0.2.1"); w != 0 {
		t.Errorf("after waiting it out: Wait = %s, want 0", w)
	}
	lt.Failed("alice", "192.0.2.1")
	if w := lt.Wait("alice", "192.0.2.1"); w != 12*time.Second {
		t.Errorf("one more failure: Wait = %s, want 12s", w)
	}
}

func TestBucketRefillsCompletely(t *testing.T) {
	c := newClock()
	lt := throttle.NewLoginThrottle(100, 5, c.now)
	failTimes(lt, 5, "alice", "192.0.2.1")
	c.advance(time.Minute)

	failTimes(lt, 4, "alice", "192.0.2.1")
	if w := lt.Wait("alice", "192.0.2.1"); w != 0 {
		t.Errorf("a minute later, 4 more failures: Wait = %s, want 0", w)
	}
}

func TestWaitConsumesNothing(t *testing.T) {
	lt := throttle.NewLoginThrottle(5, 5, newClock().now)
	for range 100 {
		lt.Wait("alice", "192.0.2.1")
	}
	failTimes(lt, 4, "alice", "192.0.2.1")

	if w := lt.Wait("alice", "192.0.2.1"); w != 0 {
		t.Errorf("Wait = %s, want 0", w)
	}
}

// Attempts that all passed Wait at once and then failed must each count.
func TestFailuresBeyondTheLimitLengthenTheWait(t *testing.T) {
	lt := throttle.NewLoginThrottle(100, 5, newClock().now)
	failTimes(lt, 7, "alice", "192.0.2.1")

	if w := lt.Wait("alice", "192.0.2.1"); w != 36*time.Second {
		t.Errorf("Wait = %s, want 36s (3 tokens short at one per 12s)", w)
	}
}

// BenchmarkWaitThenFailed is one failed login's throttle work, from every CPU at
// once against shared usernames and addresses.
func BenchmarkWaitThenFailed(b *testing.B) {
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
			lt.Wait(username, addr)
			lt.Failed(username, addr)
		}
	})
}
