package outbox

import (
	"context"
	"database/sql"
	"fmt"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

	"github.com/example/accounts/domain"
)

// Writer appends events to the outbox inside the transaction of the change they
// record: committed together, or rolled back together.
type Writer struct {
	schema wsql.SchemaAdapter
	tracer *tracer // nil when tracing is off
}

// NewWriter returns a Writer.
func NewWriter() *Writer {
	return &Writer{schema: schema(0)}
}

// WithTracing returns a Writer that writes in a span "outbox write" and stores
// that span's trace context with each event (see tracing.go).
func (w *Writer) WithTracing(t Tracing) *Writer {
	traced := *w
	traced.tracer = t.tracer()
	return &traced
}

// Write inserts events, in order, in one statement of transaction tx. Each gets a
// new event id, and the correlation id of ctx.
func (w *Writer) Write(ctx context.Context, tx *sql.Tx, events []domain.Event) (err error) {
	if len(events) == 0 {
		return nil
	}
	if w.tracer != nil {
		var span trace.Span
		ctx, span = w.tracer.startWrite(ctx, events)
		defer func() { endSpan(span, err) }()
	}
	msgs := make(message.Messages, len(events))
	for i, e := range events {
		msg, err := newMessage(ctx, e)
		if err != nil {
			return err
		}
		if w.tracer != nil {
			w.tracer.inject(ctx, msg)
		}
		msgs[i] = msg
	}
	// A publisher on the transaction itself: cheap to make, and the only way to
	// have watermill insert into a transaction somebody else began.
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: w.schema}, nil)
	if err != nil {
		return fmt.Errorf("outbox: publisher: %w", err)
	}
	if err := pub.Publish(Topic, msgs...); err != nil {
		return fmt.Errorf("outbox: write %d events: %w", len(msgs), err)
	}
	return nil
}
