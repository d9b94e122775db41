package throttle

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// failOnce is one attempt that fails.
func failOnce(lt *LoginThrottle, username, addr string) {
	if _, done, _ := lt.Begin(context.Background(), username, addr); done != nil {
		done(true)
	}
}

func TestSprayedUsernamesAreForgottenOnceRefilled(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	lt := NewLoginThrottle(10, 5, func() time.Time { return now })
	for i := range 100_000 {
		failOnce(lt, fmt.Sprintf("user%d", i), fmt.Sprintf("addr%d", i))
	}
	if n := len(lt.accounts.byKey); n != 100_000 {
		t.Fatalf("%d username buckets, want 100000: none has refilled yet", n)
	}

	now = now.Add(2 * time.Minute)
	_, done, _ := lt.Begin(context.Background(), "alice", "192.0.2.1")
	done(false)
	if n, m := len(lt.accounts.byKey), len(lt.addrs.byKey); n != 1 || m != 1 {
		t.Errorf("two minutes later: %d username and %d address buckets, want only alice's attempt's", n, m)
	}
}

// At 5 a minute, a username that failed once is full again 12 seconds later. A spray
// of one new username per millisecond therefore keeps about 12,000 buckets alive; the
// map may grow to twice that before a sweep, never to the 100,000 names tried.
func TestSteadySprayStaysBounded(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	lt := NewLoginThrottle(0, 5, func() time.Time { return now })
	largest := 0
	for i := range 100_000 {
		failOnce(lt, fmt.Sprintf("user%d", i), "")
		largest = max(largest, len(lt.accounts.byKey))
		now = now.Add(time.Millisecond)
	}

	if bound := 2 * 12_000; largest > bound {
		t.Errorf("the username map reached %d buckets, want at most %d", largest, bound)
	}
}

// A hashing budget's address is full again burst/limit minutes after its last
// hash, and then forgotten: addresses do not pile up.
func TestHashBudgetForgetsRefilledAddresses(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	b := NewHashBudget(60, 10, func() time.Time { return now })
	for i := range 100_000 {
		b.spend(fmt.Sprintf("addr%d", i), 10)
	}
	if n := len(b.addrs.byKey); n != 100_000 {
		t.Fatalf("%d address buckets, want 100000: none has refilled yet", n)
	}

	now = now.Add(time.Minute)
	b.spend("192.0.2.1", 1)
	if n := len(b.addrs.byKey); n != 1 {
		t.Errorf("a minute later: %d address buckets, want only the last draw's", n)
	}
}

// At 60 a minute, an address that drew one hash is full again a second later. A
// new address every millisecond therefore keeps about 1,000 buckets alive; the map
// may grow to twice that before a sweep, never to the 100,000 addresses seen.
func TestHashBudgetSteadySprayStaysBounded(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	b := NewHashBudget(60, 10, func() time.Time { return now })
	largest := 0
	for i := range 100_000 {
		b.spend(fmt.Sprintf("addr%d", i), 1)
		largest = max(largest, len(b.addrs.byKey))
		now = now.Add(time.Millisecond)
	}

	if bound := 2 * minSweepSize; largest > bound {
		t.Errorf("the address map reached %d buckets, want at most %d", largest, bound)
	}
}
