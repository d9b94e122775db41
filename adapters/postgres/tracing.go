package postgres

import (
	"context"
	"database/sql"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The statements run through bun are traced by bun's query hook, when tracing is
// on. The session lookup of every authenticated request is not: it is a prepared
// statement run on database/sql, past bun and its hooks, for speed. querySpan gives
// it a span of its own, from the tracer provider of the request's span, so that
// the adapter needs no tracing configuration: with tracing off the request has
// no valid span, and nothing is started.

var (
	querySpanOptions = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	dbSystem         = attribute.String("db.system", "postgresql")
)

// querySpan starts the span of one statement named by its operation, as bun's
// hook names them ("SELECT"); statement is its text, placeholders and all, never
// its arguments. End the span when the statement is done.
func querySpan(ctx context.Context, operation, table, statement string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.SpanContext().IsValid() {
		return ctx, parent
	}
	ctx, span := parent.TracerProvider().Tracer("github.com/example/accounts/adapters/postgres").
		Start(ctx, operation, querySpanOptions...)
	if span.IsRecording() {
		span.SetAttributes(dbSystem,
			attribute.String("db.operation", operation),
			attribute.String("db.sql.table", table),
			attribute.String("db.statement", statement))
	}
	return ctx, span
}

// endQuery ends a statement's span, failed when err is a failure (finding no row
// is an answer). The error's text stays out of the span: the log line has it.
func endQuery(span trace.Span, err error) {
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}
