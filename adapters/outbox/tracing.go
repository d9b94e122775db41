package outbox

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/domain"
)

// Tracing. An event's message carries the trace context of the outbox write that
// stored it, in its metadata (MetadataTraceparent, MetadataTracestate), and so in
// its outbox row. Whoever reads the event later continues that trace: the
// in-process handlers in a span "handle <event type>", and forwarding in a span
// "publish <topic>", whose own context goes to the broker in the headers of the
// same names, for consumers to join. Both are children of the write: a trace
// reads request, change, event written, then, a poll interval later, what became
// of the event. Without a TracerProvider, none of this runs, and events carry no
// trace context.

// Metadata keys of the trace context (W3C Trace Context), kept with the event
// and sent to the broker as headers of the same names.
const (
	MetadataTraceparent = "traceparent"
	MetadataTracestate  = "tracestate"
)

// Tracing is what the outbox traces with; the zero value traces nothing.
type Tracing struct {
	TracerProvider trace.TracerProvider
	// Propagator writes and reads the trace context in the metadata (default
	// W3C Trace Context).
	Propagator propagation.TextMapPropagator
}

// tracer is Tracing made ready; nil when tracing is off.
type tracer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

func (t Tracing) tracer() *tracer {
	if t.TracerProvider == nil {
		return nil
	}
	prop := t.Propagator
	if prop == nil {
		prop = propagation.TraceContext{}
	}
	return &tracer{tracer: t.TracerProvider.Tracer("github.com/example/accounts/adapters/outbox"), prop: prop}
}

// startWrite starts the span of an outbox write; end it with endSpan.
func (t *tracer) startWrite(ctx context.Context, events []domain.Event) (context.Context, trace.Span) {
	types := make([]string, len(events))
	for i, e := range events {
		types[i] = string(e.Type())
	}
	return t.tracer.Start(ctx, "outbox write", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.StringSlice("event_types", types),
			attribute.Int("events", len(events)),
		))
}

// inject stores ctx's trace context in msg's metadata.
func (t *tracer) inject(ctx context.Context, msg *message.Message) {
	t.prop.Inject(ctx, tracing.MetadataCarrier(msg.Metadata))
}

// extract is ctx with the trace context msg's metadata carries, if any.
func (t *tracer) extract(ctx context.Context, msg *message.Message) context.Context {
	return t.prop.Extract(ctx, tracing.MetadataCarrier(msg.Metadata))
}

// startHandle starts the span of a consumer group handling an event.
func (t *tracer) startHandle(ctx context.Context, group string, msg *message.Message) (context.Context, trace.Span) {
	eventType := msg.Metadata.Get(MetadataEventType)
	return t.tracer.Start(ctx, "handle "+eventType, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("consumer_group", group),
			attribute.String("event_id", msg.UUID),
			attribute.String("event_type", eventType),
		))
}

// startPublish starts the span of forwarding an event to topic, and puts the
// span's trace context in out's metadata, for the broker's headers.
func (t *tracer) startPublish(ctx context.Context, group, topic string, out *message.Message) (context.Context, trace.Span) {
	ctx, span := t.tracer.Start(ctx, "publish "+topic, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("consumer_group", group),
			attribute.String("messaging.destination.name", topic),
			attribute.String("messaging.message.id", out.UUID),
			attribute.String("event_type", out.Metadata.Get(MetadataEventType)),
		))
	// Only what this span says: a stale tracestate of the write must not stay.
	delete(out.Metadata, MetadataTraceparent)
	delete(out.Metadata, MetadataTracestate)
	t.inject(ctx, out)
	return ctx, span
}

// endSpan ends span, marked failed when err is not nil. The error's text stays
// out of it (a driver's may quote a value): the log line about the failure has
// it, with the same trace id.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}
