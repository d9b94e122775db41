package tracing

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentDB returns db with a span per SQL statement it runs, a child of the
// span in the statement's context, named after the operation (SELECT, UPDATE…);
// bun makes the statements of a transaction children of its BEGIN. db itself is
// left as it was. With a nil tp, db is returned as it is.
//
// The span's db.statement is the statement with its placeholders, never the
// values: bun writes values into the SQL text itself, and those values include
// password hashes and session id hashes. bunotel's default (WithFormattedQueries
// off) renders the query again without them, which is what is relied on here;
// the service's own test checks it.
func InstrumentDB(db *bun.DB, tp trace.TracerProvider) *bun.DB {
	if tp == nil {
		return db
	}
	return db.WithQueryHook(newQueryHook(tp))
}

// queryHook is bunotel's hook, less its work on the statements whose span is not
// recorded: bunotel's AfterQuery builds the labels of its query-time histogram
// and records it (into the no-op meter) before it looks at the span, on every
// statement, while at a sampling ratio of 1% 99 of 100 spans are not recorded.
// The span is started as bunotel starts it, with its options made once rather
// than per statement; a recorded span is named, described and ended by
// bunotel.
type queryHook struct {
	*bunotel.QueryHook
	tracer trace.Tracer
	start  []trace.SpanStartOption
}

func newQueryHook(tp trace.TracerProvider) *queryHook {
	return &queryHook{
		QueryHook: bunotel.NewQueryHook(
			bunotel.WithTracerProvider(tp),
			// Metrics are not this package's business: no global meter is used.
			bunotel.WithMeterProvider(noop.NewMeterProvider()),
			bunotel.WithFormattedQueries(false),
		),
		// The tracer bunotel.WithTracerProvider makes: the same scope.
		tracer: tp.Tracer("github.com/uptrace/bun"),
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)},
	}
}

func (h *queryHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	ctx, _ = h.tracer.Start(ctx, "", h.start...)
	return ctx
}

func (h *queryHook) AfterQuery(ctx context.Context, event *bun.QueryEvent) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	h.QueryHook.AfterQuery(ctx, event)
}
