package tracing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// offlineDB is a bun.DB that never connects: the hooks are called by hand.
func offlineDB(t testing.TB) *bun.DB {
	t.Helper()
	sqldb := sql.OpenDB(offline{})
	t.Cleanup(func() { _ = sqldb.Close() })
	return bun.NewDB(sqldb, pgdialect.New())
}

type offline struct{}

func (offline) Connect(context.Context) (driver.Conn, error) { return nil, errors.New("offline") }
func (offline) Driver() driver.Driver                        { return offline{} }
func (offline) Open(string) (driver.Conn, error)             { return nil, errors.New("offline") }

// runQuery goes through h's hooks as bun does around a statement.
func runQuery(ctx context.Context, h bun.QueryHook, event *bun.QueryEvent) {
	event.StartTime = time.Now()
	ctx = h.BeforeQuery(ctx, event)
	h.AfterQuery(ctx, event)
}

// A statement whose span is recorded is named and described as bunotel does; one
// whose trace is not kept exports nothing, and its span is still there, in the
// caller's trace, for what the statement's context is used for.
func TestStatementSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	sampled := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	db := offlineDB(t)
	ctx, parent := sampled.Tracer("test").Start(t.Context(), "parent")
	runQuery(ctx, newQueryHook(sampled), &bun.QueryEvent{DB: db, Query: "SELECT 1", QueryTemplate: "SELECT ?"})
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want the statement's and its parent's", len(spans))
	}
	if s := spans[0]; s.Name != "SELECT" || s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("statement span %q of kind %v under %s, want the client span SELECT under %s",
			s.Name, s.SpanKind, s.Parent.SpanID(), parent.SpanContext().SpanID())
	}

	exp.Reset()
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.NeverSample()))
	h := newQueryHook(unsampled)
	ctx, parent = unsampled.Tracer("test").Start(t.Context(), "parent")
	event := &bun.QueryEvent{DB: db, Query: "SELECT 1", QueryTemplate: "SELECT ?"}
	qctx := h.BeforeQuery(ctx, event)
	seen := trace.SpanContextFromContext(qctx)
	h.AfterQuery(qctx, event)
	parent.End()
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("%d spans exported for a trace not kept", n)
	}
	if !seen.IsValid() || seen.TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("statement ran in %v, want a span in the caller's trace %s", seen, parent.SpanContext().TraceID())
	}
}

// What a statement whose trace is not kept costs the hooks: bunotel's own, and
// InstrumentDB's.
func BenchmarkUnsampledStatement(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	db := offlineDB(b)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	defer parent.End()
	for _, bc := range []struct {
		name string
		hook bun.QueryHook
	}{
		{"bunotel", bunotel.NewQueryHook(bunotel.WithTracerProvider(tp), bunotel.WithMeterProvider(noop.NewMeterProvider()))},
		{"InstrumentDB", newQueryHook(tp)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				runQuery(ctx, bc.hook, &bun.QueryEvent{DB: db, Query: "SELECT 1", QueryTemplate: "SELECT ?", IQuery: db.NewSelect().Table("users")})
			}
		})
	}
}
