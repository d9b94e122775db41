package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
)

// LogFields adds the trace and span ids of ctx's span to a log line's fields, so
// that the line can be found from the trace and the other way round. Nothing is
// added when ctx has no valid span, which is always the case with tracing off.
func LogFields(ctx context.Context, fields []zap.Field) []zap.Field {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return fields
	}
	return append(fields, zap.Stringer("trace_id", sc.TraceID()), zap.Stringer("span_id", sc.SpanID()))
}
