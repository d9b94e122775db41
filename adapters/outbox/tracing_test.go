package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/domain"
)

// An event continues the trace of the change that wrote it: the write is a span
// under the change's, stored with the event; a poll later, the handler runs in a
// span "handle <type>" and the forwarding in a span "publish <topic>", both under
// the write, and the message the broker gets names the publish span.
func TestEventsContinueTheTraceOfTheirWrite(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	exp := tracetest.NewInMemoryExporter()
	tracing := outbox.Tracing{
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)),
		Propagator:     propagation.TraceContext{},
	}

	var mu sync.Mutex
	var handledIn trace.SpanContext
	handle := func(ctx context.Context, _ domain.Event) error {
		mu.Lock()
		defer mu.Unlock()
		handledIn = trace.SpanContextFromContext(ctx)
		return nil
	}
	broker := &flakyBroker{}
	cfg := fast
	cfg.Tracing = tracing
	startRouterWith(t, db, cfg,
		outbox.HandleEvents("traced_handler", handle, domain.EventUserInactivated),
		outbox.ForwardEvents("traced_forward", broker, "user.events"))

	ctx, change := tracing.TracerProvider.Tracer("test").Start(t.Context(), "change")
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.NewWriter().WithTracing(tracing).Write(ctx, tx, []domain.Event{event(1, 2, domain.UserInactivated{})}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	change.End()
	eventually(t, "the event to be handled and published", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handledIn.IsValid() && len(broker.received()) == 1
	})
	eventually(t, "the publish span to end", func() bool { return len(exp.GetSpans()) == 4 })

	byName := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		byName[s.Name] = s
	}
	traceID := change.SpanContext().TraceID()
	for child, parent := range map[string]string{
		"outbox write":            "change",
		"handle user.inactivated": "outbox write",
		"publish user.events":     "outbox write",
	} {
		c, p := byName[child], byName[parent]
		if c.SpanContext.TraceID() != traceID || c.Parent.SpanID() != p.SpanContext.SpanID() {
			t.Errorf("span %q in trace %s under %s, want trace %s under %q (%s); spans: %v",
				child, c.SpanContext.TraceID(), c.Parent.SpanID(), traceID, parent, p.SpanContext.SpanID(), byName)
		}
	}
	if got, want := handledIn.SpanID(), byName["handle user.inactivated"].SpanContext.SpanID(); got != want {
		t.Errorf("the handler ran in span %s, want its handle span %s", got, want)
	}
	publish := byName["publish user.events"].SpanContext
	want := fmt.Sprintf("00-%s-%s-01", publish.TraceID(), publish.SpanID())
	if got := broker.received()[0].Metadata.Get(outbox.MetadataTraceparent); got != want {
		t.Errorf("the broker got traceparent %q, want the publish span's %q", got, want)
	}
}

// Without tracing, events carry no trace context for anyone to find.
func TestUntracedEventsCarryNoTraceContext(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	broker := &flakyBroker{}
	startRouter(t, db, outbox.ForwardEvents("untraced_forward", broker, "user.events"))
	write(t, db, "req-1", true, event(1, 2, domain.UserInactivated{}))
	eventually(t, "the event to be published", func() bool { return len(broker.received()) == 1 })
	if tp := broker.received()[0].Metadata.Get(outbox.MetadataTraceparent); tp != "" {
		t.Errorf("untraced event published with traceparent %q", tp)
	}
}
