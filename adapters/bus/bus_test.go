package bus

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/example/accounts/domain"
)

// TestMain fails the run if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The messages of the tests' operations, named "bus.Double", "bus.Greet", ….

type Double struct {
	N int `json:"n"`
}

type Doubled struct {
	N      int       `json:"n"`
	At     time.Time `json:"at"`
	Digits []int     `json:"digits"`
}

type Greet struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

type Greeting struct {
	Text  string `json:"text"`
	Token string `json:"token"`
}

// Probe asks its handler to report what it sees of the request.
type Probe struct{}

type Seen struct {
	CorrelationID string    `json:"correlation_id"`
	Deadline      time.Time `json:"deadline"`
	HasDeadline   bool      `json:"has_deadline"`
}

// handlerFunc makes a function a Handler.
type handlerFunc[M, R any] func(context.Context, M) (R, error)

func (f handlerFunc[M, R]) Handle(ctx context.Context, msg M) (R, error) { return f(ctx, msg) }

// on registers f as the handler of M.
func on[M, R any](f func(context.Context, M) (R, error)) func(*Bus) error {
	return func(b *Bus) error { return Register[M, R](b, handlerFunc[M, R](f)) }
}

func double(_ context.Context, m Double) (Doubled, error) {
	return Doubled{N: 2 * m.N}, nil
}

func greet(_ context.Context, m Greet) (Greeting, error) {
	return Greeting{Text: "Hello, " + m.Name + ".", Token: "token-of-" + m.Name}, nil
}

func probe(ctx context.Context, _ Probe) (Seen, error) {
	deadline, ok := ctx.Deadline()
	return Seen{CorrelationID: domain.CorrelationID(ctx), Deadline: deadline, HasDeadline: ok}, nil
}

// newBus returns a bus with the given handlers, closed when the test ends.
func newBus(t testing.TB, cfg Config, logger *zap.Logger, handlers ...func(*Bus) error) *Bus {
	t.Helper()
	b, err := New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	for _, register := range handlers {
		if err := register(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// startBus returns a running bus with the given handlers, closed when the test ends.
func startBus(t testing.TB, cfg Config, logger *zap.Logger, handlers ...func(*Bus) error) *Bus {
	t.Helper()
	b := newBus(t, cfg, logger, handlers...)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	return b
}

// observed returns a logger that records everything from debug level up.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// asDomainError returns err's *domain.Error, failing the test when there is none.
func asDomainError(t *testing.T, err error) *domain.Error {
	t.Helper()
	e, ok := domain.AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *domain.Error", err, err)
	}
	return e
}

func requireBusy(t *testing.T, err error) {
	t.Helper()
	if e := asDomainError(t, err); e.Code != domain.CodeUnavailable || e.RetryAfter != time.Second {
		t.Fatalf("error = %#v, want unavailable with a retry after 1s", e)
	}
}

func TestSendReturnsTheHandlersResult(t *testing.T) {
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	b := startBus(t, Config{}, zap.NewNop(), on(func(_ context.Context, m Double) (Doubled, error) {
		return Doubled{N: 2 * m.N, At: at, Digits: []int{4, 2}}, nil
	}))

	got, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{N: 21})
	if err != nil {
		t.Fatal(err)
	}
	want := Doubled{N: 42, At: at, Digits: []int{4, 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Send = %+v, want %+v", got, want)
	}
}

func TestDomainErrorsCrossTheBusWhole(t *testing.T) {
	tests := map[string]struct {
		err  error
		want *domain.Error
	}{
		"sentinel": {domain.ErrNotFound, domain.ErrNotFound},
		"wrapped": {
			fmt.Errorf("adding user: %w", domain.ErrUsernameTaken),
			domain.ErrUsernameTaken,
		},
		"with fields": {
			domain.ValidationError(domain.FieldError{Field: "username", Message: "Too short."}),
			domain.ValidationError(domain.FieldError{Field: "username", Message: "Too short."}),
		},
		"with retry after": {
			&domain.Error{Code: domain.CodeRateLimited, Detail: "Slow down.", RetryAfter: 42 * time.Second},
			&domain.Error{Code: domain.CodeRateLimited, Detail: "Slow down.", RetryAfter: 42 * time.Second},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			b := startBus(t, Config{}, zap.NewNop(), on(func(context.Context, Double) (Doubled, error) {
				return Doubled{N: 1}, tt.err
			}))

			got, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{})
			if !reflect.DeepEqual(asDomainError(t, err), tt.want) {
				t.Errorf("error = %#v, want %#v", err, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
			}
			if !reflect.DeepEqual(got, Doubled{}) {
				t.Errorf("result = %+v along with an error, want none", got)
			}
		})
	}
}

func TestUnknownErrorsCrossAsInternalAndAreLogged(t *testing.T) {
	logger, logs := observed()
	const driverText = `pq: password authentication failed for user "accounts"`
	b := startBus(t, Config{}, logger, on(func(context.Context, Double) (Doubled, error) {
		return Doubled{}, errors.New(driverText)
	}))

	ctx := domain.WithCorrelationID(t.Context(), "req-7")
	_, err := NewSender[Double, Doubled](b).Send(ctx, Double{})

	if !errors.Is(err, domain.ErrInternal) {
		t.Fatalf("error = %v, want internal", err)
	}
	if strings.Contains(err.Error(), "pq:") {
		t.Errorf("error %q reveals the handler's error text", err)
	}
	failures := logs.FilterMessage("bus handler failed").FilterLevelExact(zapcore.ErrorLevel).All()
	if len(failures) != 1 {
		t.Fatalf("logged %d failures, want 1", len(failures))
	}
	want := map[string]any{"operation": "bus.Double", "correlation_id": "req-7", "error": driverText}
	for k, v := range want {
		if got := failures[0].ContextMap()[k]; got != v {
			t.Errorf("failure log %s = %v, want %v", k, got, v)
		}
	}
}

// TestServerSideDomainErrorsLogTheirCause: an adapter wraps the driver's error
// around an unavailable or internal domain error; only the code crosses the bus, so
// the cause must be logged on the handler's side, once, without the message.
func TestServerSideDomainErrorsLogTheirCause(t *testing.T) {
	const (
		driverText = "read tcp 127.0.0.1:41234->127.0.0.1:5432: read: connection reset by peer"
		password   = "correct horse battery staple"
		name       = "alice.payload"
	)
	tests := map[string]struct {
		err   error
		level zapcore.Level
		want  *domain.Error
	}{
		"unavailable": {
			fmt.Errorf("postgres: add user: %w (%s)", domain.Unavailable("The database is unavailable.", time.Second), driverText),
			zapcore.WarnLevel,
			domain.Unavailable("The database is unavailable.", time.Second),
		},
		"internal": {
			fmt.Errorf("postgres: add user: %w: %s", domain.ErrInternal, driverText),
			zapcore.ErrorLevel,
			domain.ErrInternal,
		},
	}
	for tname, tt := range tests {
		t.Run(tname, func(t *testing.T) {
			logger, logs := observed()
			b := startBus(t, Config{}, logger, on(func(context.Context, Greet) (Greeting, error) {
				return Greeting{}, tt.err
			}))

			ctx := domain.WithCorrelationID(t.Context(), "req-11")
			_, err := NewSender[Greet, Greeting](b).Send(ctx, Greet{Name: name, Password: password})

			if !reflect.DeepEqual(asDomainError(t, err), tt.want) {
				t.Errorf("error = %#v, want %#v", err, tt.want)
			}
			if strings.Contains(err.Error(), driverText) {
				t.Errorf("error %q carries the cause across the bus", err)
			}
			failures := logs.FilterMessage("bus handler failed").All()
			if len(failures) != 1 {
				t.Fatalf("logged %d failures, want 1", len(failures))
			}
			if failures[0].Level != tt.level {
				t.Errorf("failure logged at %s, want %s", failures[0].Level, tt.level)
			}
			fields := failures[0].ContextMap()
			if fields["operation"] != "bus.Greet" || fields["correlation_id"] != "req-11" {
				t.Errorf("failure fields %v, want operation bus.Greet and correlation_id req-11", fields)
			}
			if text, _ := fields["error"].(string); !strings.Contains(text, driverText) {
				t.Errorf("failure error %q, want the cause %q", text, driverText)
			}
			for _, entry := range logs.All() {
				line := fmt.Sprint(entry.Message, entry.ContextMap())
				for _, secret := range []string{password, name} {
					if strings.Contains(line, secret) {
						t.Errorf("log line %q shows the payload %q", line, secret)
					}
				}
			}
		})
	}
}

// TestClientErrorsAreNotLoggedAsFailures: a refusal the client caused is the
// service working, not failing.
func TestClientErrorsAreNotLoggedAsFailures(t *testing.T) {
	logger, logs := observed()
	b := startBus(t, Config{}, logger, on(func(context.Context, Double) (Doubled, error) {
		return Doubled{}, fmt.Errorf("finding user: %w", domain.ErrNotFound)
	}))

	if _, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("error = %v, want not found", err)
	}
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len() + logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Errorf("logged %d warnings or errors for a not found", n)
	}
}

func TestAPanickingHandlerAnswersInternal(t *testing.T) {
	logger, logs := observed()
	b := startBus(t, Config{}, logger, on(func(_ context.Context, m Double) (Doubled, error) {
		if m.N == 0 {
			panic("nil map")
		}
		return Doubled{N: 2 * m.N}, nil
	}))
	send := NewSender[Double, Doubled](b)

	if _, err := send.Send(t.Context(), Double{N: 0}); !errors.Is(err, domain.ErrInternal) {
		t.Fatalf("error = %v, want internal", err)
	}
	if n := logs.FilterMessage("bus handler panicked").FilterLevelExact(zapcore.ErrorLevel).Len(); n != 1 {
		t.Errorf("logged %d panics, want 1", n)
	}
	if got, err := send.Send(t.Context(), Double{N: 1}); err != nil || got.N != 2 {
		t.Errorf("after a panic Send = %+v, %v; want the bus to keep working", got, err)
	}
}

func TestTheHandlerWorksUnderTheCallersDeadline(t *testing.T) {
	const replyTimeout = time.Minute
	b := startBus(t, Config{ReplyTimeout: replyTimeout}, zap.NewNop(), on(probe))
	send := NewSender[Probe, Seen](b)

	t.Run("the caller's deadline when it is sooner", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		want, _ := ctx.Deadline()

		seen, err := send.Send(ctx, Probe{})
		if err != nil {
			t.Fatal(err)
		}
		if !seen.HasDeadline || !seen.Deadline.Equal(want) {
			t.Errorf("handler's deadline = %v (set: %t), want the caller's %v", seen.Deadline, seen.HasDeadline, want)
		}
	})

	t.Run("the reply timeout otherwise", func(t *testing.T) {
		before := time.Now()
		seen, err := send.Send(t.Context(), Probe{})
		if err != nil {
			t.Fatal(err)
		}
		if !seen.HasDeadline || seen.Deadline.Before(before.Add(replyTimeout)) || seen.Deadline.After(time.Now().Add(replyTimeout)) {
			t.Errorf("handler's deadline = %v (set: %t), want about now + %s", seen.Deadline, seen.HasDeadline, replyTimeout)
		}
	})
}

func TestContextErrorsInTheHandlerMeanBusy(t *testing.T) {
	for _, ctxErr := range []error{context.DeadlineExceeded, context.Canceled} {
		t.Run(ctxErr.Error(), func(t *testing.T) {
			logger, logs := observed()
			b := startBus(t, Config{}, logger, on(func(context.Context, Double) (Doubled, error) {
				return Doubled{}, fmt.Errorf("reading user: %w", ctxErr)
			}))

			_, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{})
			requireBusy(t, err)
			if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
				t.Errorf("logged %d errors; a busy service is not broken", n)
			}
		})
	}
}

func TestNoReplyInTimeMeansBusy(t *testing.T) {
	release := make(chan struct{})
	const replyTimeout = 50 * time.Millisecond
	b := startBus(t, Config{ReplyTimeout: replyTimeout}, zap.NewNop(), on(func(context.Context, Double) (Doubled, error) {
		<-release // ignores its context, as a stuck handler would
		return Doubled{}, nil
	}))
	defer close(release)

	start := time.Now()
	_, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{})
	elapsed := time.Since(start)

	requireBusy(t, err)
	if elapsed < replyTimeout || elapsed > replyTimeout+time.Second {
		t.Errorf("Send returned after %s, want about %s", elapsed, replyTimeout)
	}
}

func TestACanceledCallerGetsItsContextsError(t *testing.T) {
	started := make(chan struct{})
	b := startBus(t, Config{}, zap.NewNop(), on(func(ctx context.Context, _ Double) (Doubled, error) {
		close(started)
		<-ctx.Done()
		return Doubled{}, ctx.Err()
	}))

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := NewSender[Double, Doubled](b).Send(ctx, Double{})

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestTheCorrelationIDReachesTheHandler(t *testing.T) {
	b := startBus(t, Config{}, zap.NewNop(), on(probe))
	// Listen on the operation's topic too, to see the message itself.
	messages, err := b.pubSub.Subscribe(t.Context(), "bus.Probe")
	if err != nil {
		t.Fatal(err)
	}

	ctx := domain.WithCorrelationID(t.Context(), "req-42")
	seen, err := NewSender[Probe, Seen](b).Send(ctx, Probe{})
	if err != nil {
		t.Fatal(err)
	}

	if seen.CorrelationID != "req-42" {
		t.Errorf("handler's correlation id = %q, want req-42", seen.CorrelationID)
	}
	msg := <-messages
	msg.Ack()
	if got := msg.Metadata.Get("correlation_id"); got != "req-42" {
		t.Errorf("message metadata correlation_id = %q, want req-42", got)
	}
}

func TestConcurrentSendsEachGetTheirOwnReply(t *testing.T) {
	slowly := func(n int) { time.Sleep(time.Duration(n%5) * time.Millisecond) }
	b := startBus(t, Config{}, zap.NewNop(),
		on(func(ctx context.Context, m Double) (Doubled, error) {
			slowly(m.N)
			return double(ctx, m)
		}),
		on(func(ctx context.Context, m Greet) (Greeting, error) {
			slowly(len(m.Name))
			return greet(ctx, m)
		}),
	)
	doubles := NewSender[Double, Doubled](b)
	greets := NewSender[Greet, Greeting](b)

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if i%2 == 0 {
				got, err := doubles.Send(t.Context(), Double{N: i})
				if err != nil || got.N != 2*i {
					t.Errorf("Double{%d} = %+v, %v", i, got, err)
				}
				return
			}
			name := fmt.Sprintf("user%d", i)
			got, err := greets.Send(t.Context(), Greet{Name: name})
			if err != nil || got.Text != "Hello, "+name+"." {
				t.Errorf("Greet{%s} = %+v, %v", name, got, err)
			}
		})
	}
	wg.Wait()
}

func TestHandledMessagesAreLoggedWithoutTheirPayload(t *testing.T) {
	logger, logs := observed()
	b := startBus(t, Config{}, logger,
		on(greet),
		on(func(context.Context, Double) (Doubled, error) { return Doubled{}, domain.ErrForbidden }),
	)
	ctx := domain.WithCorrelationID(t.Context(), "req-9")

	const password = "correct horse battery staple"
	greeting, err := NewSender[Greet, Greeting](b).Send(ctx, Greet{Name: "alice", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSender[Double, Doubled](b).Send(ctx, Double{N: 31337}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("error = %v, want forbidden", err)
	}

	handled := logs.FilterMessage("bus message handled").FilterLevelExact(zapcore.DebugLevel)
	for op, code := range map[string]any{"bus.Greet": nil, "bus.Double": "forbidden"} {
		lines := handled.FilterField(zap.String("operation", op)).All()
		if len(lines) != 1 {
			t.Errorf("%s: %d lines, want 1", op, len(lines))
			continue
		}
		fields := lines[0].ContextMap()
		if fields["correlation_id"] != "req-9" || fields["duration"] == nil || fields["code"] != code {
			t.Errorf("%s: fields %v, want correlation_id, duration and code %v", op, fields, code)
		}
	}
	for _, entry := range logs.All() {
		line := fmt.Sprint(entry.Message, entry.ContextMap())
		for _, secret := range []string{password, greeting.Token, "31337"} {
			if strings.Contains(line, secret) {
				t.Errorf("log line %q shows the payload %q", line, secret)
			}
		}
	}
}

func TestRegisterRefusesWhatCannotWork(t *testing.T) {
	b := newBus(t, Config{}, zap.NewNop(), on(double))

	if err := on(double)(b); err == nil {
		t.Error("a second handler for bus.Double was registered")
	}
	if err := on(func(context.Context, Double) (Greeting, error) { return Greeting{}, nil })(b); err == nil {
		t.Error("a handler of bus.Double with another result type was registered")
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := on(greet)(b); err == nil {
		t.Error("a handler was registered after Start")
	}
}

func TestStartRefusesSendersThatCouldNeverBeAnswered(t *testing.T) {
	b := newBus(t, Config{}, zap.NewNop(), on(double))
	NewSender[Greet, Greeting](b)
	miswired := NewSender[Double, Greeting](b)

	err := b.Start()
	for _, want := range []string{"bus.Greet has a sender but no handler", "bus.Double is already on the bus with other types"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %v, want it to say %q", err, want)
		}
	}
	if _, err := miswired.Send(t.Context(), Double{}); err == nil {
		t.Error("a sender with the wrong result type sent")
	}
}

func TestSendFailsFastWhenTheBusIsNotRunning(t *testing.T) {
	b := newBus(t, Config{}, zap.NewNop(), on(double))
	send := NewSender[Double, Doubled](b)
	// Nothing would ever answer: Send must not wait for ReplyTimeout.
	sendAtOnce := func(when string) {
		t.Helper()
		start := time.Now()
		_, err := send.Send(t.Context(), Double{})
		requireBusy(t, err)
		if elapsed := time.Since(start); elapsed > 100*time.Millisecond {
			t.Errorf("Send %s took %s", when, elapsed)
		}
	}

	sendAtOnce("before Start")
	if b.Ready() == nil {
		t.Error("Ready before Start")
	}

	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(); err != nil {
		t.Errorf("Ready after Start: %v", err)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	sendAtOnce("after Close")
	if b.Ready() == nil {
		t.Error("Ready after Close")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := b.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestCloseEndsTheSendsWaitingForAReply(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	b := startBus(t, Config{}, zap.NewNop(), on(func(context.Context, Double) (Doubled, error) {
		close(started)
		<-release
		return Doubled{}, nil
	}))

	sent := make(chan error)
	go func() {
		_, err := NewSender[Double, Doubled](b).Send(t.Context(), Double{})
		sent <- err
	}()
	<-started
	closed := make(chan error)
	go func() { closed <- b.Close() }()

	select {
	case err := <-sent:
		requireBusy(t, err)
	case <-time.After(time.Second):
		t.Error("Send still waits after Close")
	}
	close(release)
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestCloseWithoutStart(t *testing.T) {
	b, err := New(Config{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestStartAndCloseLeaveNoGoroutineBehind(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	release := make(chan struct{})
	b, err := New(Config{ReplyTimeout: 20 * time.Millisecond}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	for _, register := range []func(*Bus) error{
		on(double),
		on(func(context.Context, Greet) (Greeting, error) { panic("boom") }),
		on(func(context.Context, Probe) (Seen, error) { <-release; return Seen{}, nil }),
	} {
		if err := register(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	if _, err := NewSender[Double, Doubled](b).Send(ctx, Double{N: 1}); err != nil {
		t.Error(err)
	}
	if _, err := NewSender[Greet, Greeting](b).Send(ctx, Greet{}); !errors.Is(err, domain.ErrInternal) {
		t.Errorf("panic: error = %v, want internal", err)
	}
	if _, err := NewSender[Probe, Seen](b).Send(ctx, Probe{}); !errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("timeout: error = %v, want unavailable", err)
	}
	close(release)

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfig(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v; zero means the defaults", err)
	}
	bad := Config{ReplyTimeout: -time.Second, CloseTimeout: -time.Second}
	err := bad.Validate()
	for _, field := range []string{"ReplyTimeout", "CloseTimeout"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate(%+v) = %v, want it to name %s", bad, err, field)
		}
	}
	if _, err := New(bad, zap.NewNop()); err == nil {
		t.Error("New accepted a bad Config")
	}
}

// BenchmarkSend measures one round trip through the bus: what every request pays
// on top of its use case.
func BenchmarkSend(b *testing.B) {
	bus := startBus(b, Config{}, zap.NewNop(), on(double))
	send := NewSender[Double, Doubled](bus)
	ctx := domain.WithCorrelationID(b.Context(), "bench")

	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := send.Send(ctx, Double{N: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := send.Send(ctx, Double{N: 1}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// TestRepliesRacingTheDeadlineLeaveNoGoroutineBehind: a reply that lands just as
// its sender stops waiting must leave nothing behind, neither a goroutine blocked
// on the sender's inbox (watermill v1.5.1's own reply listener blocks for ever
// there) nor the inbox itself. Replies timed to land on the deadline make that
// race happen often.
func TestRepliesRacingTheDeadlineLeaveNoGoroutineBehind(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	const replyTimeout = 2 * time.Millisecond
	b, err := New(Config{ReplyTimeout: replyTimeout}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	err = on(func(ctx context.Context, m Double) (Doubled, error) {
		time.Sleep(time.Duration(m.N%3) * time.Millisecond) // before, at and after the deadline
		return double(ctx, m)
	})(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	sender := NewSender[Double, Doubled](b)
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			got, err := sender.Send(t.Context(), Double{N: i})
			if err == nil && got.N != 2*i {
				t.Errorf("Double{%d} = %d", i, got.N)
			}
		})
	}
	wg.Wait()
	if n := inboxes(b); n != 0 {
		t.Errorf("%d inboxes left behind", n)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
