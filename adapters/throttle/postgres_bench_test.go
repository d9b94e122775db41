package throttle_test

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/adapters/throttle"
)

// BenchmarkLoginAttempt is what the throttle adds to one login: a claim and its
// settlement, in memory and in PostgreSQL, on usernames and addresses spread as
// real traffic would be.
func BenchmarkLoginAttempt(b *testing.B) {
	db := pgtest.New(b).DB
	run := func(b *testing.B, begin func(username, addr string) (time.Duration, func(bool), error)) {
		i := 0
		for b.Loop() {
			i++
			wait, done, err := begin(fmt.Sprintf("user%d", i%1000), fmt.Sprintf("192.0.2.%d", i%250))
			if err != nil || wait != 0 {
				b.Fatalf("wait %v, err %v", wait, err)
			}
			done(false)
		}
	}
	b.Run("memory", func(b *testing.B) {
		lt := throttle.NewLoginThrottle(20, 5, time.Now)
		run(b, func(u, a string) (time.Duration, func(bool), error) { return lt.Begin(b.Context(), u, a) })
	})
	b.Run("postgres", func(b *testing.B) {
		lt := throttle.NewPostgresLoginThrottle(db, 20, 5, time.Now, zap.NewNop())
		run(b, func(u, a string) (time.Duration, func(bool), error) { return lt.Begin(b.Context(), u, a) })
	})
}

// BenchmarkHashSpend is what the hashing budget adds to one request that hashes.
func BenchmarkHashSpend(b *testing.B) {
	db := pgtest.New(b).DB
	b.Run("memory", func(b *testing.B) {
		budget := throttle.NewHashBudget(1_000_000, 1_000_000, time.Now)
		i := 0
		for b.Loop() {
			i++
			if wait, err := budget.Spend(b.Context(), fmt.Sprintf("192.0.2.%d", i%250), 1); err != nil || wait != 0 {
				b.Fatalf("wait %v, err %v", wait, err)
			}
		}
	})
	b.Run("postgres", func(b *testing.B) {
		budget := throttle.NewPostgresHashBudget(db, 1_000_000, 1_000_000, time.Now)
		i := 0
		for b.Loop() {
			i++
			if wait, err := budget.Spend(b.Context(), fmt.Sprintf("192.0.2.%d", i%250), 1); err != nil || wait != 0 {
				b.Fatalf("wait %v, err %v", wait, err)
			}
		}
	})
	b.Run("postgres refused", func(b *testing.B) {
		budget := throttle.NewPostgresHashBudget(db, 1, 1, time.Now)
		_, _ = budget.Spend(b.Context(), "192.0.2.1", 1)
		for b.Loop() {
			if wait, err := budget.Spend(b.Context(), "192.0.2.1", 1); err != nil || wait == 0 {
				b.Fatalf("wait %v, err %v", wait, err)
			}
		}
	})
}
