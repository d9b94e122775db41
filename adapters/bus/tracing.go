package bus

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/domain"
)

// Tracing. With Config.TracerProvider set, every operation handled gets a span
// named after it ("commands.SetActive"), a child of the sender's span: the
// pub/sub hands the handler the sender's context, and the sender's trace context
// also travels in the message's metadata (traceparent, tracestate), written at
// send and read at handle, as it would across a process boundary. Without it,
// none of this runs.
//
// Only a trace that is kept (sampled, or recording) is written into the
// metadata: at a sampling ratio of 1%, 99% of the operations would otherwise
// format and parse a traceparent that nobody reads, the handler getting the
// sender's context, and its span, anyway. A message without a traceparent is
// handled in the context it came with.

// tracer is what the bus traces with; nil when tracing is off.
type tracer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// fields are the metadata keys prop writes: a message has none of them
	// when its sender's trace was not kept.
	fields []string
	// start are the span's options, made once and passed as they are: an option,
	// or a slice of them, made per span costs an allocation.
	start []trace.SpanStartOption
}

func newTracer(cfg Config) *tracer {
	if cfg.TracerProvider == nil {
		return nil
	}
	prop := cfg.Propagator
	if prop == nil {
		prop = propagation.TraceContext{}
	}
	return &tracer{
		tracer: cfg.TracerProvider.Tracer("github.com/example/accounts/adapters/bus"),
		prop:   prop,
		fields: prop.Fields(),
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)},
	}
}

// inject writes the trace context of msg's context into its metadata, when that
// trace is kept: see above.
func (t *tracer) inject(msg *message.Message) {
	if t == nil {
		return
	}
	ctx := msg.Context()
	if span := trace.SpanFromContext(ctx); !span.IsRecording() && !span.SpanContext().IsSampled() {
		return
	}
	t.prop.Inject(ctx, tracing.MetadataCarrier(msg.Metadata))
}

// extract gives ctx the trace context msg's metadata carries, unless ctx already
// has that span: the pub/sub hands the sender's context over as it is.
func (t *tracer) extract(ctx context.Context, msg *message.Message) context.Context {
	if t == nil || !t.carried(msg.Metadata) {
		return ctx
	}
	extracted := t.prop.Extract(context.Background(), tracing.MetadataCarrier(msg.Metadata))
	sc := trace.SpanContextFromContext(extracted)
	if !sc.IsValid() || sc.Equal(trace.SpanContextFromContext(ctx)) {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// carried says whether md holds any of the propagator's keys.
func (t *tracer) carried(md message.Metadata) bool {
	for _, k := range t.fields {
		if md.Get(k) != "" {
			return true
		}
	}
	return false
}

// traced runs next in a span named op. The span's status is an error when the
// outcome is one the service answers 500 or 503 to: the ones worth finding.
func traced[M, R any](op string, t *tracer, next replyFunc[M, R]) replyFunc[M, R] {
	if t == nil {
		return next
	}
	return func(ctx context.Context, msg M) reply[R] {
		ctx, span := t.tracer.Start(ctx, op, t.start...)
		defer span.End()
		rep := next(ctx, msg)
		if rep.Err != nil {
			switch rep.Err.Code {
			case domain.CodeInternal, domain.CodeUnavailable:
				span.SetStatus(codes.Error, string(rep.Err.Code))
			}
		}
		return rep
	}
}
