package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/adapters/wmlog"
	"github.com/example/accounts/domain"
)

// fast makes the tests wait milliseconds, not the production defaults.
var fast = outbox.Config{
	PollInterval: 10 * time.Millisecond,
	AckDeadline:  3 * time.Second,
	CloseTimeout: 2 * time.Second,
	Retry:        outbox.RetryConfig{MaxRetries: 2, InitialInterval: 5 * time.Millisecond, MaxInterval: 10 * time.Millisecond},
}

func startRouter(t *testing.T, db *bun.DB, consumers ...outbox.Consumer) *outbox.Router {
	t.Helper()
	return startRouterWith(t, db, fast, consumers...)
}

func startRouterWith(t *testing.T, db *bun.DB, cfg outbox.Config, consumers ...outbox.Consumer) *outbox.Router {
	t.Helper()
	logger := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	r, err := outbox.NewRouter(db.DB, cfg, logger, wmlog.New(logger))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range consumers {
		if err := r.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// write commits events in one transaction, with correlation id cid, or rolls them
// back when commit is false.
func write(t *testing.T, db *bun.DB, cid string, commit bool, events ...domain.Event) {
	t.Helper()
	ctx := domain.WithCorrelationID(t.Context(), cid)
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.NewWriter().Write(ctx, tx, events); err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	if !commit {
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func event(user int, seq int64, data domain.EventData) domain.Event {
	return domain.Event{
		UserID:     fmt.Sprintf("01900000-0000-7000-8000-%012d", user),
		Sequence:   seq,
		OccurredAt: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC),
		Data:       data,
	}
}

// seen records what a handler was given.
type seen struct {
	mu     sync.Mutex
	events []domain.Event
	cids   []string
}

func (s *seen) handle(ctx context.Context, e domain.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	s.cids = append(s.cids, domain.CorrelationID(ctx))
	return nil
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *seen) sequences() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int64
	for _, e := range s.events {
		out = append(out, e.Sequence)
	}
	return out
}

// eventually polls cond until it holds or a few seconds have passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Committed events reach the group in commit order with their correlation id; rolled
// back ones never do; events of other types are passed over.
func TestConsumerGetsCommittedEventsInOrder(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var all, inactivations seen
	startRouter(t, db,
		outbox.HandleEvents("all", all.handle),
		outbox.HandleEvents("inactivations", inactivations.handle, domain.EventUserInactivated),
	)

	write(t, db, "req-1", true, event(1, 1, domain.UserSignedUp{Username: "alice", Role: domain.RoleUser}), event(1, 2, domain.UserInactivated{}))
	write(t, db, "req-2", false, event(1, 3, domain.UserReactivated{}))
	write(t, db, "req-3", true, event(1, 3, domain.UserReactivated{}), event(1, 4, domain.UserInactivated{}))

	eventually(t, "four events", func() bool { return all.count() == 4 && inactivations.count() == 2 })
	time.Sleep(50 * time.Millisecond) // nothing more may come
	if got := all.sequences(); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Errorf("sequences %v, want 1 2 3 4", got)
	}
	if !slices.Equal(all.cids, []string{"req-1", "req-1", "req-3", "req-3"}) {
		t.Errorf("correlation ids %v", all.cids)
	}
	if got := inactivations.sequences(); !slices.Equal(got, []int64{2, 4}) {
		t.Errorf("the inactivations group got %v, want 2 and 4", got)
	}
	if lag, err := outbox.GroupLag(t.Context(), db.DB, "all"); err != nil || lag.Events != 0 {
		t.Errorf("lag %+v, %v; want none", lag, err)
	}
}

// Two instances reading one group hand each event to it once.
func TestTwoInstancesHandleEachEventOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var a, b seen
	startRouter(t, db, outbox.HandleEvents("shared", a.handle))
	startRouter(t, db, outbox.HandleEvents("shared", b.handle))

	const n = 60
	for i := range n {
		write(t, db, "req", true, event(i, 1, domain.UserInactivated{}))
	}
	eventually(t, "every event", func() bool { return a.count()+b.count() >= n })
	time.Sleep(100 * time.Millisecond)
	if got := a.count() + b.count(); got != n {
		t.Errorf("%d deliveries of %d events (%d + %d)", got, n, a.count(), b.count())
	}
	users := map[string]bool{}
	for _, s := range []*seen{&a, &b} {
		for _, e := range s.events {
			if users[e.UserID] {
				t.Errorf("event of %s delivered twice", e.UserID)
			}
			users[e.UserID] = true
		}
	}
}

// An event its handler cannot handle is retried, then parked with the reason; the
// events after it still flow, and the group moves past it.
func TestFailingEventIsParked(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var got seen
	var attempts sync.Map
	obs := &observed{}
	cfg := fast
	cfg.Observer = obs
	r := startRouterWith(t, db, cfg, outbox.HandleEvents("picky", func(ctx context.Context, e domain.Event) error {
		if e.Sequence == 2 {
			n, _ := attempts.LoadOrStore(e.UserID, new(int))
			*n.(*int)++
			return errors.New("cannot handle sequence 2")
		}
		return got.handle(ctx, e)
	}))

	write(t, db, "req-1", true, event(1, 1, domain.UserSignedUp{Username: "alice", Role: domain.RoleUser}))
	write(t, db, "req-2", true, event(1, 2, domain.UserInactivated{}))
	write(t, db, "req-3", true, event(1, 3, domain.UserReactivated{}))

	eventually(t, "the events around the bad one", func() bool { return got.count() == 2 })
	if seqs := got.sequences(); !slices.Equal(seqs, []int64{1, 3}) {
		t.Errorf("handled %v, want 1 and 3", seqs)
	}
	n, _ := attempts.Load(event(1, 0, nil).UserID)
	if tries := *n.(*int); tries != fast.Retry.MaxRetries+1 {
		t.Errorf("%d attempts at the bad event, want %d", tries, fast.Retry.MaxRetries+1)
	}
	// Parking commits with the batch the event came in.
	var parked []parkedEvent
	eventually(t, "the parked event", func() bool { parked = parkedEvents(t, db.DB); return len(parked) > 0 })
	if len(parked) != 1 || parked[0].sequence != 2 || parked[0].group != "picky" ||
		parked[0].reason != "cannot handle sequence 2" || parked[0].cid != "req-2" {
		t.Errorf("parked %+v, want sequence 2 of group picky with its reason and correlation id", parked)
	}
	eventually(t, "the group to move past the parked event", func() bool {
		lag, err := outbox.GroupLag(t.Context(), db.DB, "picky")
		return err == nil && lag.Events == 0
	})

	// What the metrics hear of it, and count of it.
	want := map[string]int{"delivered": 2, "failed": fast.Retry.MaxRetries + 1, "retried": fast.Retry.MaxRetries, "parked": 1}
	if got := obs.counts(); !maps.Equal(got, want) {
		t.Errorf("the observer heard %v, want %v", got, want)
	}
	if counts, err := r.Parked(t.Context()); err != nil || !maps.Equal(counts, map[string]int{"picky": 1}) {
		t.Errorf("Parked = %v, %v; want the one event of group picky", counts, err)
	}
}

// observed is an outbox.Observer that counts what it hears, of group picky.
type observed struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *observed) add(group, what string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[group+" "+what]++
}

func (o *observed) EventHandled(group, _ string, outcome outbox.Outcome, _ time.Duration) {
	o.add(group, string(outcome))
}
func (o *observed) EventRetried(group, _ string) { o.add(group, "retried") }
func (o *observed) EventParked(group, _ string)  { o.add(group, "parked") }

func (o *observed) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for k, n := range o.n {
		if what, ok := strings.CutPrefix(k, "picky "); ok {
			out[what] = n
		}
	}
	return out
}

type parkedEvent struct {
	sequence           int64
	group, reason, cid string
}

func parkedEvents(t *testing.T, db *sql.DB) []parkedEvent {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT payload::text, metadata->>'handler_poisoned', metadata->>'reason_poisoned', metadata->>'correlation_id'
		FROM watermill_user_events_poison ORDER BY "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []parkedEvent
	for rows.Next() {
		var payload string
		var p parkedEvent
		if err := rows.Scan(&payload, &p.group, &p.reason, &p.cid); err != nil {
			t.Fatal(err)
		}
		d, err := outbox.Unmarshal([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		p.sequence = d.Event.Sequence
		out = append(out, p)
	}
	return out
}

// flakyBroker is a destination that can go down: Publish then fails as a broker
// does when unreachable.
type flakyBroker struct {
	mu   sync.Mutex
	down bool
	got  []*message.Message
}

var errBrokerDown = errors.New("broker unreachable")

func (b *flakyBroker) setDown(down bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.down = down
}

func (b *flakyBroker) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return errBrokerDown
	}
	return nil
}

func (b *flakyBroker) Publish(_ string, msgs ...*message.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		return errBrokerDown
	}
	b.got = append(b.got, msgs...)
	return nil
}

func (b *flakyBroker) Close() error { return nil }

func (b *flakyBroker) received() []*message.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.got)
}

// forwardTo is consumer group "broker", forwarding to broker as the service's
// groups forward to theirs: it reads nothing while the broker is not ready, and
// an event that meets the broker down (read just before it went) is handed again
// later rather than retried and parked.
func forwardTo(broker *flakyBroker) outbox.Consumer {
	forward := outbox.ForwardEvents("broker", broker, "user.events")
	forward.Ready = broker.Ready
	forward.Transient = func(err error) bool { return errors.Is(err, errBrokerDown) }
	return forward
}

// While the broker is down its group waits and parks nothing, and the other groups
// go on as if nothing happened; once it is back, every event reaches it in order.
func TestBrokerOutageHoldsBackNothingElse(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	broker := &flakyBroker{}
	var sessions seen
	startRouter(t, db, forwardTo(broker), outbox.HandleEvents("sessions", sessions.handle))

	write(t, db, "req-1", true, event(1, 1, domain.UserInactivated{}))
	eventually(t, "the first event at the broker", func() bool { return len(broker.received()) == 1 })

	broker.setDown(true)
	for i := int64(2); i <= 6; i++ {
		write(t, db, fmt.Sprint("req-", i), true, event(1, i, domain.UserReactivated{}))
	}
	eventually(t, "the in-process group to keep up", func() bool { return sessions.count() == 6 })
	if lag, err := outbox.GroupLag(t.Context(), db.DB, "broker"); err != nil || lag.Events != 5 {
		t.Errorf("broker lag %+v, %v; want the 5 events written while it was down", lag, err)
	}

	broker.setDown(false)
	eventually(t, "every event at the broker", func() bool { return len(broker.received()) == 6 })
	for i, msg := range broker.received() {
		d, err := outbox.Unmarshal(msg.Payload)
		if err != nil || d.Event.Sequence != int64(i+1) || d.ID != msg.UUID {
			t.Errorf("message %d: %+v, %v", i, d, err)
		}
		if cid := msg.Metadata.Get(outbox.MetadataCorrelationID); cid != fmt.Sprint("req-", i+1) {
			t.Errorf("message %d: correlation id %q", i, cid)
		}
	}
	if parked := parkedEvents(t, db.DB); len(parked) != 0 {
		t.Errorf("parked during an outage: %+v", parked)
	}
}

// Retention deletes old events once every group has passed them, never before.
func TestPurgeKeepsWhatAGroupStillNeeds(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	broker := &flakyBroker{}
	var sessions seen
	startRouter(t, db, forwardTo(broker), outbox.HandleEvents("sessions", sessions.handle))

	write(t, db, "req-1", true, event(1, 1, domain.UserInactivated{}))
	eventually(t, "the first event everywhere", func() bool { return len(broker.received()) == 1 && sessions.count() == 1 })
	broker.setDown(true)
	write(t, db, "req-2", true, event(1, 2, domain.UserReactivated{}))
	eventually(t, "the second event in process", func() bool { return sessions.count() == 2 })
	// Both rows are now "old" for a retention of zero.
	time.Sleep(10 * time.Millisecond)

	n, err := outbox.Purge(t.Context(), db.DB, time.Hour)
	if err != nil || n != 0 {
		t.Fatalf("Purge(1h) = %d, %v; want nothing old enough", n, err)
	}
	n, err = outbox.Purge(t.Context(), db.DB, 0)
	if err != nil || n != 1 {
		t.Fatalf("Purge(0) = %d, %v; want the one event every group has passed", n, err)
	}
	broker.setDown(false)
	eventually(t, "the second event at the broker", func() bool { return len(broker.received()) == 2 })
	time.Sleep(10 * time.Millisecond)
	n, err = outbox.Purge(t.Context(), db.DB, 0)
	if err != nil || n != 1 {
		t.Fatalf("Purge(0) after the broker caught up = %d, %v; want 1", n, err)
	}
}

// An operator sees a parked event and replays it once its cause is mended: it goes
// back to the group that parked it, and only to that group.
func TestParkedEventIsListedAndReplayedToItsGroup(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var mended atomic.Bool
	var picky, bystander seen
	startRouter(t, db,
		outbox.HandleEvents("picky", func(ctx context.Context, e domain.Event) error {
			if !mended.Load() {
				return errors.New("not yet")
			}
			return picky.handle(ctx, e)
		}),
		outbox.HandleEvents("bystander", bystander.handle),
	)
	write(t, db, "req-1", true, event(1, 1, domain.UserInactivated{}))

	var parked []outbox.Parked
	eventually(t, "the event to be parked", func() bool {
		var err error
		parked, err = outbox.ListParked(t.Context(), db.DB)
		return err == nil && len(parked) == 1
	})
	p := parked[0]
	if p.Group != "picky" || p.Type != "user.inactivated" || p.Sequence != 1 || p.Reason != "not yet" ||
		p.CorrelationID != "req-1" || p.EventID == "" || p.ParkedAt.IsZero() {
		t.Errorf("parked %+v", p)
	}

	mended.Store(true)
	if n, err := outbox.Replay(t.Context(), db.DB, []string{"no-such-event"}); err != nil || n != 0 {
		t.Fatalf("Replay of an unknown id = %d, %v", n, err)
	}
	if n, err := outbox.Replay(t.Context(), db.DB, []string{p.EventID}); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	eventually(t, "the replayed event at its group", func() bool { return picky.count() == 1 })
	time.Sleep(100 * time.Millisecond)
	if bystander.count() != 1 {
		t.Errorf("the bystander group got the event %d times, want once", bystander.count())
	}
	if left, err := outbox.ListParked(t.Context(), db.DB); err != nil || len(left) != 0 {
		t.Errorf("still parked after the replay: %+v, %v", left, err)
	}
}

// blockingBroker holds every publish until released.
type blockingBroker struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingBroker) Publish(string, ...*message.Message) error {
	b.started <- struct{}{}
	<-b.release
	return nil
}

func (b *blockingBroker) Close() error { return nil }

// Stopping lets a batch under way finish and records how far it got, so that a
// graceful stop hands no event twice.
func TestCloseFinishesTheBatchUnderWay(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	broker := &blockingBroker{started: make(chan struct{}, 1), release: make(chan struct{})}
	logger := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	r, err := outbox.NewRouter(db.DB, fast, logger, wmlog.New(logger))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(outbox.ForwardEvents("slow", broker, "user.events")); err != nil || r.Start() != nil {
		t.Fatal(err)
	}
	write(t, db, "req-1", true, event(1, 1, domain.UserInactivated{}))
	<-broker.started

	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned while a publish was under way: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(broker.release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if lag, err := outbox.GroupLag(t.Context(), db.DB, "slow"); err != nil || lag.Events != 0 {
		t.Errorf("lag after a graceful stop %+v, %v; want the published event recorded", lag, err)
	}
}

// scriptedBroker publishes after a random delay, like a broker's round trip, and
// fails the events its script says to fail.
type scriptedBroker struct {
	mu        sync.Mutex
	got       []*message.Message
	inFlight  int
	maxFlight int
	fail      func(msg *message.Message) error // nil: publish
}

func (b *scriptedBroker) Publish(_ string, msgs ...*message.Message) error {
	b.mu.Lock()
	b.inFlight++
	b.maxFlight = max(b.maxFlight, b.inFlight)
	fail := b.fail
	b.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight--
	for _, m := range msgs {
		if fail != nil {
			if err := fail(m); err != nil {
				return err
			}
		}
		b.got = append(b.got, m)
	}
	return nil
}

func (b *scriptedBroker) Close() error { return nil }

// received returns the sequences each user's events arrived in.
func (b *scriptedBroker) received(t *testing.T) map[string][]int64 {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string][]int64{}
	for _, m := range b.got {
		d, err := outbox.Unmarshal(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Event.UserID] = append(out[d.Event.UserID], d.Event.Sequence)
	}
	return out
}

// writeUsers commits, for each of users users, events 1..n, each transaction
// holding one event of every user.
func writeUsers(t *testing.T, db *bun.DB, users, n int) {
	t.Helper()
	for seq := int64(1); seq <= int64(n); seq++ {
		var events []domain.Event
		for u := range users {
			events = append(events, event(u, seq, domain.UserReactivated{}))
		}
		write(t, db, fmt.Sprint("req-", seq), true, events...)
	}
}

// A batch's events are published concurrently, yet each user's arrive in order,
// and the group records them only once all are confirmed.
func TestForwardingIsConcurrentAndKeepsEachUsersOrder(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	broker := &scriptedBroker{}
	startRouter(t, db, outbox.ForwardEvents("fast", broker, "user.events"))
	const users, n = 20, 10
	writeUsers(t, db, users, n)

	eventually(t, "every event at the broker", func() bool {
		lag, err := outbox.GroupLag(t.Context(), db.DB, "fast")
		return err == nil && lag.Events == 0
	})
	got := broker.received(t)
	if len(got) != users {
		t.Fatalf("events of %d users arrived, want %d", len(got), users)
	}
	for user, seqs := range got {
		if !slices.Equal(seqs, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
			t.Errorf("user %s: sequences arrived as %v", user, seqs)
		}
	}
	if broker.maxFlight < 2 {
		t.Errorf("at most %d publish in flight: the batch was published one event at a time", broker.maxFlight)
	}
}

// An event the broker refuses is retried, then parked; the events after it, its
// user's included, are published in order, and nothing is handed twice.
func TestForwardingParksARefusedEvent(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	refuse := event(3, 2, nil).UserID
	var attempts atomic.Int32
	broker := &scriptedBroker{fail: func(m *message.Message) error {
		d, _ := outbox.Unmarshal(m.Payload)
		if d.Event.UserID == refuse && d.Event.Sequence == 2 {
			attempts.Add(1)
			return errors.New("message too large")
		}
		return nil
	}}
	startRouter(t, db, outbox.ForwardEvents("picky", broker, "user.events"))
	writeUsers(t, db, 5, 4)

	var parked []parkedEvent
	eventually(t, "the refused event to be parked", func() bool { parked = parkedEvents(t, db.DB); return len(parked) == 1 })
	if p := parked[0]; p.sequence != 2 || p.group != "picky" || p.reason != "message too large" {
		t.Errorf("parked %+v", p)
	}
	eventually(t, "the group to move on", func() bool {
		lag, err := outbox.GroupLag(t.Context(), db.DB, "picky")
		return err == nil && lag.Events == 0
	})
	got := broker.received(t)
	for user, seqs := range got {
		want := []int64{1, 2, 3, 4}
		if user == refuse {
			want = []int64{1, 3, 4}
		}
		if !slices.Equal(seqs, want) {
			t.Errorf("user %s: sequences arrived as %v, want %v", user, seqs, want)
		}
	}
	if n := attempts.Load(); n != int32(fast.Retry.MaxRetries+2) {
		t.Errorf("%d attempts at the refused event, want the first, its retry as the batch settled and %d more", n, fast.Retry.MaxRetries)
	}
}

// A publish cut short by an outage rolls the batch back: it is handed again,
// nothing is lost and nothing parked.
func TestForwardingHandsTheBatchAgainAfterAnOutage(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var outages atomic.Int32
	broker := &scriptedBroker{fail: func(m *message.Message) error {
		d, _ := outbox.Unmarshal(m.Payload)
		if d.Event.Sequence == 3 && outages.Add(1) <= 2 {
			return errBrokerDown
		}
		return nil
	}}
	forward := outbox.ForwardEvents("resilient", broker, "user.events")
	forward.Transient = func(err error) bool { return errors.Is(err, errBrokerDown) }
	startRouter(t, db, forward)
	writeUsers(t, db, 3, 5)

	eventually(t, "every event at the broker", func() bool {
		lag, err := outbox.GroupLag(t.Context(), db.DB, "resilient")
		return err == nil && lag.Events == 0
	})
	for user, seqs := range broker.received(t) {
		// A batch handed again may repeat events; each event's first arrival is
		// still in its user's order.
		var first []int64
		for _, s := range seqs {
			if !slices.Contains(first, s) {
				first = append(first, s)
			}
		}
		if !slices.Equal(first, []int64{1, 2, 3, 4, 5}) {
			t.Errorf("user %s: sequences arrived as %v", user, seqs)
		}
	}
	if parked := parkedEvents(t, db.DB); len(parked) != 0 {
		t.Errorf("parked %+v", parked)
	}
}
