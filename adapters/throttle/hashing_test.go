package throttle_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/accounts/adapters/throttle"
)

// spendAll draws single hashes until the budget refuses one, and returns how many
// it granted and the wait of the refusal.
func spendAll(b *throttle.HashBudget, addr string) (granted int, wait time.Duration) {
	for range 10_000 {
		if wait := spend(b, addr, 1); wait > 0 {
			return granted, wait
		}
		granted++
	}
	return granted, 0
}

func TestHashBudgetAllowsTheBurstThenTheRate(t *testing.T) {
	c := newClock()
	b := throttle.NewHashBudget(60, 10, c.now) // one a second, ten at once

	granted, wait := spendAll(b, "192.0.2.1")
	if granted != 10 || wait != time.Second {
		t.Fatalf("granted %d, then waited %s; want the burst of 10, then 1s", granted, wait)
	}
	c.advance(time.Second)
	if granted, _ := spendAll(b, "192.0.2.1"); granted != 1 {
		t.Errorf("a second later: granted %d, want 1", granted)
	}
	c.advance(time.Minute)
	if granted, _ := spendAll(b, "192.0.2.1"); granted != 10 {
		t.Errorf("a minute later: granted %d, want the whole burst again", granted)
	}
}

func TestHashBudgetIsPerAddress(t *testing.T) {
	b := throttle.NewHashBudget(60, 5, newClock().now)
	spendAll(b, "192.0.2.1")

	if w := spend(b, "192.0.2.2", 1); w != 0 {
		t.Errorf("another address: wait %s, want 0", w)
	}
}

// An IPv6 client picks addresses from its /64 at will: they share one budget.
func TestHashBudgetCountsIPv6PerSlash64(t *testing.T) {
	b := throttle.NewHashBudget(60, 2, newClock().now)
	spend(b, "2001:db8:1:2::1", 1)
	spend(b, "2001:db8:1:2:ffff::9", 1)

	if w := spend(b, "2001:db8:1:2::abcd", 1); w <= 0 {
		t.Errorf("another address of the same /64: wait %s, want > 0", w)
	}
	if w := spend(b, "2001:db8:1:3::1", 1); w != 0 {
		t.Errorf("the neighbouring /64: wait %s, want 0", w)
	}
	spend(b, "192.0.2.1", 1)
	spend(b, "::ffff:192.0.2.1", 1)
	if w := spend(b, "192.0.2.1", 1); w <= 0 {
		t.Errorf("IPv4 and its IPv6 mapping are one address: wait %s, want > 0", w)
	}
}

// A request of two hashes needs both at once: it waits for the second rather than
// taking one, and takes nothing when refused.
func TestHashBudgetSpendsAllOrNothing(t *testing.T) {
	c := newClock()
	b := throttle.NewHashBudget(30, 3, c.now) // one every 2s

	if w := spend(b, "192.0.2.1", 2); w != 0 {
		t.Fatalf("two of three: wait %s", w)
	}
	if w := spend(b, "192.0.2.1", 2); w != 2*time.Second {
		t.Fatalf("two with one left: wait %s, want 2s", w)
	}
	// The refusal took nothing: the one left is still there.
	if w := spend(b, "192.0.2.1", 1); w != 0 {
		t.Errorf("one with one left: wait %s, want 0", w)
	}
}

// More than the burst at once could never be granted; it is asked as the burst.
func TestHashBudgetAsksNoMoreThanTheBurst(t *testing.T) {
	b := throttle.NewHashBudget(60, 1, newClock().now)
	if w := spend(b, "192.0.2.1", 2); w != 0 {
		t.Errorf("two hashes with a burst of one: wait %s, want 0", w)
	}
	if w := spend(b, "192.0.2.1", 1); w <= 0 {
		t.Errorf("after that: wait %s, want the budget spent", w)
	}
}

// 60 a minute is one token a second; a wait is whole seconds, rounded up, and
// waiting it out is enough.
func TestHashBudgetRetryAfterIsHonestAndRoundedUp(t *testing.T) {
	c := newClock()
	b := throttle.NewHashBudget(60, 1, c.now)
	spend(b, "192.0.2.1", 1)
	c.advance(100 * time.Millisecond)

	w := spend(b, "192.0.2.1", 1)
	if w != time.Second {
		t.Fatalf("0.9s left: wait %s, want 1s", w)
	}
	c.advance(w)
	if w := spend(b, "192.0.2.1", 1); w != 0 {
		t.Errorf("after waiting it out: wait %s, want 0", w)
	}
}

func TestHashBudgetZeroTurnsItOff(t *testing.T) {
	b := throttle.NewHashBudget(0, 0, newClock().now)
	if granted, _ := spendAll(b, "192.0.2.1"); granted != 10_000 {
		t.Errorf("budget off: granted %d of 10000", granted)
	}
}

// TestHashBudgetHoldsUnderConcurrency: draws at once from one address get no more
// than the burst between them.
func TestHashBudgetHoldsUnderConcurrency(t *testing.T) {
	b := throttle.NewHashBudget(1, 7, newClock().now)
	var granted atomic.Int64
	atOnce(50, func() {
		if spend(b, "192.0.2.1", 1) == 0 {
			granted.Add(1)
		}
	})
	if n := granted.Load(); n != 7 {
		t.Errorf("%d draws granted, want the burst of 7", n)
	}
}

// BenchmarkHashBudget is one draw, from every CPU at once over shared addresses.
func BenchmarkHashBudget(b *testing.B) {
	addrs := make([]string, 256)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("192.0.2.%d", i)
	}
	budget := throttle.NewHashBudget(60, 10, time.Now)
	var worker atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for i := int(worker.Add(1)) * 997; pb.Next(); i++ {
			spend(budget, addrs[i%len(addrs)], 1)
		}
	})
}

// spend is Spend, which the in-memory budget never fails.
func spend(b *throttle.HashBudget, clientAddr string, n int) time.Duration {
	wait, err := b.Spend(context.Background(), clientAddr, n)
	if err != nil {
		panic(err)
	}
	return wait
}
