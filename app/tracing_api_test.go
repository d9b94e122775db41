package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
)

// tracedService starts the service with tracing on, its spans recorded in
// memory, and env's other settings.
func tracedService(t *testing.T, env map[string]string) (*service, *tracetest.InMemoryExporter) {
	t.Helper()
	env["APP_TRACING_ENABLED"] = "true"
	exp := tracetest.NewInMemoryExporter()
	s, app := startServiceApp(t, env, fx.Supply(&tracingOverride{Exporter: exp, Sampler: sdktrace.AlwaysSample()}))
	t.Cleanup(app.RequireStop)
	return s, exp
}

// spanNamed returns the one span named name (or, ending in a space, whose name
// starts so) of trace, failing the test if there is none or more than one.
func spanNamed(t *testing.T, spans tracetest.SpanStubs, traceID trace.TraceID, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.SpanContext.TraceID() == traceID && (s.Name == name || strings.HasSuffix(name, " ") && strings.HasPrefix(s.Name, name)) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		var names []string
		for _, s := range spans {
			if s.SpanContext.TraceID() == traceID {
				names = append(names, s.Name)
			}
		}
		t.Fatalf("%d spans %q in the trace, want 1; the trace has %v", len(found), name, names)
	}
	return found[0]
}

func assertChildOf(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() {
		t.Errorf("%q is a child of %s, want of %q (%s)", child.Name, child.Parent.SpanID(), parent.Name, parent.SpanContext.SpanID())
	}
}

// One inactivation is one trace, from the request to the broker: the HTTP span;
// under it the bus operations Authenticate and SetActive; under SetActive its SQL,
// the transaction's BEGIN and under it the outbox write; under the write, once the outbox is polled, the session
// cleanup that handles user.inactivated and the publish to the broker, whose
// message carries the publish span's traceparent for consumers to join. The
// request's access log line and the cleanup's log line name their spans. No span holds a password hash or a
// session id.
func TestOneInactivationIsOneTrace(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, b brokerUnderTest) {
		env, reader := b.setUp(t)
		env["APP_EVENTS_POLL_INTERVAL"] = "20ms"
		s, exp := tracedService(t, env)
		reader.listen(t)

		s.superAdmin("root.traced")
		root := s.loggedIn("root.traced")
		userID := root.createUser("user.traced", "user")
		s.loggedIn("user.traced")
		reader.read(t, 2) // the two users' user.created

		r := root.do("DELETE", "/api/v1/users/"+userID+"/activation", nil, "X-Request-Id", "req-traced")
		assertStatus(t, r, http.StatusNoContent, "")
		event := reader.read(t, 1)[0]

		var httpSpan tracetest.SpanStub
		for _, sp := range exp.GetSpans() {
			if sp.Name == "DELETE /api/v1/users/{id}/activation" {
				httpSpan = sp
			}
		}
		if httpSpan.Name == "" {
			t.Fatalf("no span DELETE /api/v1/users/{id}/activation")
		}
		if httpSpan.SpanKind != trace.SpanKindServer || httpSpan.Parent.IsValid() {
			t.Errorf("the request's span is of kind %v with parent %s, want a server span at the root", httpSpan.SpanKind, httpSpan.Parent.SpanID())
		}
		traceID := httpSpan.SpanContext.TraceID()
		waitFor(t, "the event's handling and publishing to be traced", func() bool {
			n := 0
			for _, sp := range exp.GetSpans() {
				if sp.SpanContext.TraceID() == traceID && (sp.Name == "handle user.inactivated" || strings.HasPrefix(sp.Name, "publish ")) {
					n++
				}
			}
			return n == 2
		})
		spans := exp.GetSpans()

		auth := spanNamed(t, spans, traceID, "commands.Authenticate")
		setActive := spanNamed(t, spans, traceID, "commands.SetActive")
		write := spanNamed(t, spans, traceID, "outbox write")
		handle := spanNamed(t, spans, traceID, "handle user.inactivated")
		publish := spanNamed(t, spans, traceID, "publish ")
		assertChildOf(t, auth, httpSpan)
		assertChildOf(t, setActive, httpSpan)
		// bun makes a transaction's statements children of its BEGIN.
		begin := spanNamed(t, spans, traceID, "BEGIN")
		assertChildOf(t, begin, setActive)
		assertChildOf(t, write, begin)
		assertChildOf(t, handle, write)
		assertChildOf(t, publish, write)
		sql := 0
		for _, sp := range spans {
			if sp.SpanContext.TraceID() == traceID && sp.Parent.SpanID() == setActive.SpanContext.SpanID() && sp.SpanKind == trace.SpanKindClient {
				sql++
			}
		}
		if sql == 0 {
			t.Errorf("no SQL span under commands.SetActive")
		}
		// Authentication's session lookup, a prepared statement run past bun.
		lookup := 0
		for _, sp := range spans {
			if sp.Parent.SpanID() == auth.SpanContext.SpanID() && sp.SpanKind == trace.SpanKindClient && sp.Name == "SELECT" {
				lookup++
			}
		}
		if lookup != 1 {
			t.Errorf("%d SELECT spans under commands.Authenticate, want the session lookup's", lookup)
		}

		want := fmt.Sprintf("00-%s-%s-01", traceID, publish.SpanContext.SpanID())
		if got := event.Headers["traceparent"]; got != want {
			t.Errorf("the broker's traceparent header is %q, want the publish span's %q", got, want)
		}

		logged := false
		for _, e := range s.Logs.FilterMessage("http request").All() {
			if f := e.ContextMap(); f["method"] == "DELETE" && f["path"] == "/api/v1/users/"+userID+"/activation" {
				logged = f["trace_id"] == traceID.String() && f["span_id"] == httpSpan.SpanContext.SpanID().String()
			}
		}
		if !logged {
			t.Errorf("the request's access log line does not name its trace %s and span %s", traceID, httpSpan.SpanContext.SpanID())
		}

		handledLine := false
		for _, e := range s.Logs.FilterMessage("event handled").All() {
			if f := e.ContextMap(); f["consumer_group"] == groupEndSessions && f["correlation_id"] == "req-traced" {
				handledLine = f["trace_id"] == traceID.String() && f["span_id"] == handle.SpanContext.SpanID().String()
			}
		}
		if !handledLine {
			t.Errorf("the session cleanup's log line does not name its trace %s and span %s", traceID, handle.SpanContext.SpanID())
		}

		// What the statements were about is there; what they carried is not.
		var secrets []string
		if err := s.DB.NewRaw("SELECT password_hash FROM users UNION ALL SELECT id FROM sessions").Scan(t.Context(), &secrets); err != nil {
			t.Fatal(err)
		}
		if len(secrets) < 3 {
			t.Fatalf("%d hashes and session ids read, want the users' and a session's", len(secrets))
		}
		for _, sp := range spans {
			for _, a := range sp.Attributes {
				for _, secret := range secrets {
					if strings.Contains(a.Value.String(), secret) {
						t.Errorf("span %q attribute %s holds a password hash or session id", sp.Name, a.Key)
					}
				}
			}
		}
	})
}
