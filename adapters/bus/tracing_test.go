package bus

import (
	"context"
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/example/accounts/domain"
)

// tracedConfig is a bus configuration that records its spans in memory.
func tracedConfig() (Config, *tracetest.InMemoryExporter, trace.Tracer) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	return Config{TracerProvider: tp, Propagator: propagation.TraceContext{}}, exp, tp.Tracer("test")
}

// Every operation handled is a span named after it, a child of the sender's span
// in the sender's trace, and the handler works inside it; outcomes the client
// gets 500 or 503 for mark the span as failed, refusals do not.
func TestOperationsAreSpansUnderTheSendersSpan(t *testing.T) {
	cfg, exp, tracer := tracedConfig()
	var seen trace.SpanContext
	b := startBus(t, cfg, zap.NewNop(),
		on(func(ctx context.Context, m Double) (Doubled, error) {
			seen = trace.SpanContextFromContext(ctx)
			switch m.N {
			case 1:
				return Doubled{}, domain.ErrNotFound
			case 2:
				return Doubled{}, errors.New("driver failure")
			}
			return Doubled{N: 2 * m.N}, nil
		}))
	send := NewSender[Double, Doubled](b)

	ctx, caller := tracer.Start(t.Context(), "caller")
	for n := range 3 {
		_, _ = send.Send(ctx, Double{N: n})
	}
	caller.End()

	spans := exp.GetSpans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 3 operations and the caller's", len(spans))
	}
	callerSC := caller.SpanContext()
	wantStatus := []codes.Code{codes.Unset, codes.Unset, codes.Error}
	for i, s := range spans[:3] {
		if s.Name != "bus.Double" {
			t.Errorf("span %d named %q, want bus.Double", i, s.Name)
		}
		if s.SpanContext.TraceID() != callerSC.TraceID() || s.Parent.SpanID() != callerSC.SpanID() {
			t.Errorf("span %d in trace %s under %s, want trace %s under the caller's %s",
				i, s.SpanContext.TraceID(), s.Parent.SpanID(), callerSC.TraceID(), callerSC.SpanID())
		}
		if s.Status.Code != wantStatus[i] {
			t.Errorf("span %d status %v, want %v", i, s.Status.Code, wantStatus[i])
		}
	}
	if seen.SpanID() != spans[2].SpanContext.SpanID() {
		t.Errorf("the handler ran in span %s, want the operation's %s", seen.SpanID(), spans[2].SpanContext.SpanID())
	}
}

// The trace context travels in the message's metadata: a handler that got the
// message without its sender's context still joins the sender's trace.
func TestTheTraceContextTravelsInTheMetadata(t *testing.T) {
	cfg, _, tracer := tracedConfig()
	tr := newTracer(cfg)
	ctx, span := tracer.Start(t.Context(), "sender")
	defer span.End()

	msg := message.NewMessage("1", nil)
	msg.SetContext(ctx)
	tr.inject(msg)
	if msg.Metadata.Get("traceparent") == "" {
		t.Fatalf("metadata %v has no traceparent", msg.Metadata)
	}
	got := trace.SpanContextFromContext(tr.extract(context.Background(), msg))
	if got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() {
		t.Errorf("extracted %s/%s, want the sender's %s/%s", got.TraceID(), got.SpanID(), span.SpanContext().TraceID(), span.SpanContext().SpanID())
	}
}

// A trace that is not kept is not written into the metadata, where nobody would
// read it: the handler still works in its sender's trace, under a span of its
// own, since the pub/sub hands it the sender's context.
func TestAnUnsampledTraceStaysOutOfTheMetadata(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	cfg := Config{TracerProvider: tp, Propagator: propagation.TraceContext{}}
	tr := newTracer(cfg)
	ctx, span := tp.Tracer("test").Start(t.Context(), "sender")
	defer span.End()
	if !span.SpanContext().IsValid() || span.SpanContext().IsSampled() {
		t.Fatalf("sender's span context %v, want a valid unsampled one", span.SpanContext())
	}

	msg := message.NewMessage("1", nil)
	msg.SetContext(ctx)
	tr.inject(msg)
	if len(msg.Metadata) != 0 {
		t.Errorf("metadata %v, want nothing for a trace not kept", msg.Metadata)
	}
	if got := tr.extract(ctx, msg); got != ctx {
		t.Error("extract changed the context of a message that carries no trace")
	}

	var seen trace.SpanContext
	b := startBus(t, cfg, zap.NewNop(), on(func(ctx context.Context, m Double) (Doubled, error) {
		seen = trace.SpanContextFromContext(ctx)
		return Doubled{N: 2 * m.N}, nil
	}))
	if _, err := NewSender[Double, Doubled](b).Send(ctx, Double{N: 1}); err != nil {
		t.Fatal(err)
	}
	if seen.TraceID() != span.SpanContext().TraceID() || seen.SpanID() == span.SpanContext().SpanID() || !seen.IsValid() {
		t.Errorf("handler ran in %s/%s, want a span of its own in the sender's trace %s",
			seen.TraceID(), seen.SpanID(), span.SpanContext().TraceID())
	}
}

// A failure's log line names the trace and the operation's span; with tracing
// off, it names neither, and the handler sees no span.
func TestFailureLogLinesCarryTheTrace(t *testing.T) {
	fail := on(func(ctx context.Context, _ Double) (Doubled, error) {
		return Doubled{}, errors.New("driver failure")
	})

	t.Run("on", func(t *testing.T) {
		cfg, exp, tracer := tracedConfig()
		logger, logs := observed()
		b := startBus(t, cfg, logger, fail)
		ctx, span := tracer.Start(t.Context(), "caller")
		_, _ = NewSender[Double, Doubled](b).Send(ctx, Double{})
		span.End()

		op := exp.GetSpans()[0]
		for _, msg := range []string{"bus handler failed", "bus message handled"} {
			lines := logs.FilterMessage(msg).All()
			if len(lines) != 1 {
				t.Fatalf("%d %q lines, want 1", len(lines), msg)
			}
			fields := lines[0].ContextMap()
			if fields["trace_id"] != op.SpanContext.TraceID().String() || fields["span_id"] != op.SpanContext.SpanID().String() {
				t.Errorf("%q: trace_id %v span_id %v, want the operation's %s %s", msg, fields["trace_id"], fields["span_id"],
					op.SpanContext.TraceID(), op.SpanContext.SpanID())
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		logger, logs := observed()
		b := startBus(t, Config{}, logger, fail)
		_, _ = NewSender[Double, Doubled](b).Send(t.Context(), Double{})
		for _, line := range logs.All() {
			if _, ok := line.ContextMap()["trace_id"]; ok {
				t.Errorf("%q has a trace_id with tracing off", line.Message)
			}
		}
	})
}
