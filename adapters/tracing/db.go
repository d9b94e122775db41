package tracing

import (
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
	return db.WithQueryHook(bunotel.NewQueryHook(
		bunotel.WithTracerProvider(tp),
		// Metrics are not this package's business: no global meter is used.
		bunotel.WithMeterProvider(noop.NewMeterProvider()),
		bunotel.WithFormattedQueries(false),
	))
}
