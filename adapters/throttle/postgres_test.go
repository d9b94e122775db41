package throttle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/adapters/throttle"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
)

func newClockAt() *commandstest.Clock {
	return commandstest.NewClock(time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC))
}

// Two instances of the service on one database share every limit: failures counted
// by one refuse attempts at the other, and so does a spent budget.
func TestPostgresLimitsHoldAcrossInstances(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).DB
	clock := newClockAt()
	one := throttle.NewPostgresLoginThrottle(db, 100, 3, clock.Now, zaptest.NewLogger(t))
	two := throttle.NewPostgresLoginThrottle(db, 100, 3, clock.Now, zaptest.NewLogger(t))
	for _, lt := range []*throttle.PostgresLoginThrottle{one, two, one} {
		_, done, err := lt.Begin(t.Context(), "alice", "192.0.2.1")
		if err != nil || done == nil {
			t.Fatalf("Begin: %v", err)
		}
		done(true)
	}
	for name, lt := range map[string]*throttle.PostgresLoginThrottle{"the first": one, "the second": two} {
		if wait, done, err := lt.Begin(t.Context(), "alice", "192.0.2.9"); err != nil || wait != 20*time.Second || done != nil {
			t.Errorf("%s instance after 3 failures across both: wait %v, err %v, want 20s", name, wait, err)
		}
	}

	budgetOne := throttle.NewPostgresHashBudget(db, 60, 2, clock.Now)
	budgetTwo := throttle.NewPostgresHashBudget(db, 60, 2, clock.Now)
	if wait, err := budgetOne.Spend(t.Context(), "192.0.2.1", 2); err != nil || wait != 0 {
		t.Fatalf("a full budget: wait %v, err %v", wait, err)
	}
	if wait, err := budgetTwo.Spend(t.Context(), "192.0.2.1", 1); err != nil || wait != time.Second {
		t.Errorf("the other instance, budget spent: wait %v, err %v, want 1s", wait, err)
	}
	// A refusal remembered by one instance does not outlive the bucket: a second
	// later both serve one hash again, and only one.
	clock.Advance(time.Second)
	if wait, err := budgetTwo.Spend(t.Context(), "192.0.2.1", 1); err != nil || wait != 0 {
		t.Errorf("a second later: wait %v, err %v, want 0", wait, err)
	}
	if wait, err := budgetOne.Spend(t.Context(), "192.0.2.1", 1); err != nil || wait != time.Second {
		t.Errorf("the other instance right after: wait %v, err %v, want 1s", wait, err)
	}
}

// A failure is counted even when the request that made it has ended, as an
// attempt abandoned by its client is.
func TestPostgresFailureCountedAfterTheRequestEnds(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).DB
	lt := throttle.NewPostgresLoginThrottle(db, 100, 1, newClockAt().Now, zaptest.NewLogger(t))
	ctx, cancel := context.WithCancel(t.Context())
	_, done, err := lt.Begin(ctx, "alice", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	done(true)
	if wait, _, err := lt.Begin(t.Context(), "alice", "192.0.2.1"); err != nil || wait <= 0 {
		t.Errorf("after a failure settled past its request: wait %v, err %v, want a wait", wait, err)
	}
}

// An attempt whose process died before settling it holds its place only until its
// claim lapses, a minute on.
func TestPostgresClaimOfADeadProcessLapses(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).DB
	clock := newClockAt()
	lt := throttle.NewPostgresLoginThrottle(db, 100, 1, clock.Now, zaptest.NewLogger(t))
	if _, done, err := lt.Begin(t.Context(), "alice", "192.0.2.1"); err != nil || done == nil {
		t.Fatalf("Begin: %v", err)
	} // never settled: the process is gone

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := lt.Begin(ctx, "alice", "192.0.2.2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while the claim holds: err %v, want to wait", err)
	}
	clock.Advance(time.Minute + time.Second)
	wait, done, err := lt.Begin(t.Context(), "alice", "192.0.2.2")
	if err != nil || wait != 0 || done == nil {
		t.Fatalf("after the claim lapsed: wait %v, err %v", wait, err)
	}
	done(false)
}

// PurgeLimits deletes buckets that are full again and lapsed claims, and keeps
// what still counts.
func TestPurgeLimits(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).DB
	clock := newClockAt()
	lt := throttle.NewPostgresLoginThrottle(db, 100, 5, clock.Now, zaptest.NewLogger(t))
	budget := throttle.NewPostgresHashBudget(db, 60, 10, clock.Now)
	for _, user := range []string{"alice", "bob"} {
		_, done, err := lt.Begin(t.Context(), user, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		done(true)
	}
	if _, _, err := lt.Begin(t.Context(), "carol", "192.0.2.2"); err != nil { // left in progress
		t.Fatal(err)
	}
	if _, err := budget.Spend(t.Context(), "192.0.2.3", 1); err != nil {
		t.Fatal(err)
	}
	count := func(table string) int {
		var n int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// alice, bob, 192.0.2.1, carol, 192.0.2.2, the budget of 192.0.2.3.
	if n, err := throttle.PurgeLimits(t.Context(), db, clock.Now()); err != nil || n != 0 || count("rate_limits") != 6 {
		t.Fatalf("nothing full yet: purged %d (%v), %d buckets left", n, err, count("rate_limits"))
	}
	clock.Advance(30 * time.Second) // every bucket is full again; carol's claim holds
	if n, err := throttle.PurgeLimits(t.Context(), db, clock.Now()); err != nil || n != 4 {
		t.Errorf("30s on: purged %d (%v), want 4 (carol's keys stay, in progress)", n, err)
	}
	clock.Advance(time.Minute)
	if n, err := throttle.PurgeLimits(t.Context(), db, clock.Now()); err != nil || n != 4 {
		t.Errorf("after the claim lapsed: purged %d (%v), want its 2 claims and 2 buckets", n, err)
	}
	if count("rate_limits")+count("rate_limit_claims") != 0 {
		t.Errorf("%d buckets and %d claims left", count("rate_limits"), count("rate_limit_claims"))
	}
}

// Without the database, the limits answer unavailable rather than let anything
// through.
func TestPostgresLimitsWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).DB
	_ = db.Close()
	lt := throttle.NewPostgresLoginThrottle(db, 100, 5, newClockAt().Now, zaptest.NewLogger(t))
	if _, done, err := lt.Begin(t.Context(), "alice", "192.0.2.1"); !errors.Is(err, domain.ErrUnavailable) || done != nil {
		t.Errorf("Begin without the database: %v, want unavailable", err)
	}
	budget := throttle.NewPostgresHashBudget(db, 60, 10, newClockAt().Now)
	if _, err := budget.Spend(t.Context(), "192.0.2.1", 1); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("Spend without the database: %v, want unavailable", err)
	}
}
