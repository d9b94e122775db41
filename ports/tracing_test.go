package ports

import (
	"net/http"
	"net/netip"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// A traceparent a client might send: trace 4bf9…, its span 00f0….
const (
	clientTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	clientTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID      = "00f067aa0ba902b7"
)

// traced turns tracing on in h, recording the spans in memory.
func traced(h *harness) *tracetest.InMemoryExporter {
	exp := tracetest.NewInMemoryExporter()
	h.cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	h.cfg.Propagator = propagation.TraceContext{}
	return exp
}

func withPeer(addr string) option {
	return func(r *http.Request) { r.RemoteAddr = addr }
}

// oneSpan returns the only span exported, failing the test otherwise.
func oneSpan(t *testing.T, exp *tracetest.InMemoryExporter) tracetest.SpanStub {
	t.Helper()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1", len(spans))
	}
	exp.Reset()
	return spans[0]
}

// Each request is one server span named by its route template, never by the raw
// path; a path no route matches is named by its method alone, and the probes are
// not traced. The request's access log line names the span's trace and the span.
func TestRequestsAreSpansNamedByTheirRoute(t *testing.T) {
	h := newHarness(t)
	exp := traced(h)

	w := h.do("GET", "/api/v1/users/"+targetID, "", withCookie(sessionToken))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	span := oneSpan(t, exp)
	if span.Name != "GET /api/v1/users/{id}" || span.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q of kind %v, want the server span GET /api/v1/users/{id}", span.Name, span.SpanKind)
	}
	lines := h.logs.FilterMessage("http request").All()
	fields := lines[len(lines)-1].ContextMap()
	if fields["trace_id"] != span.SpanContext.TraceID().String() || fields["span_id"] != span.SpanContext.SpanID().String() {
		t.Errorf("access log trace_id %v span_id %v, want the request span's %s %s",
			fields["trace_id"], fields["span_id"], span.SpanContext.TraceID(), span.SpanContext.SpanID())
	}

	h.do("GET", "/api/v1/nothing/here", "")
	if span := oneSpan(t, exp); span.Name != "GET" {
		t.Errorf("unrouted request's span named %q, want GET", span.Name)
	}

	h.do("GET", "/livez", "")
	h.do("GET", "/readyz", "")
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("the probes made %d spans", n)
	}
}

// A client's traceparent is believed from a trusted proxy only: from any other
// peer, the request starts a trace of its own.
func TestTraceparentIsBelievedFromTrustedProxiesOnly(t *testing.T) {
	for _, tc := range []struct {
		name, peer string
		trusted    []netip.Prefix
		join       bool
	}{
		{"no proxy trusted", "192.0.2.1:4711", nil, false},
		{"peer is not a trusted proxy", "192.0.2.1:4711", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, false},
		{"peer is a trusted proxy", "10.1.2.3:4711", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.TrustedProxies = tc.trusted
			exp := traced(h)
			h.do("GET", "/api/v1/account/me", "", withCookie(sessionToken), withPeer(tc.peer),
				withHeader("traceparent", clientTraceparent), withHeader("tracestate", "congo=t61rcWkgMzE"))
			span := oneSpan(t, exp)
			joined := span.SpanContext.TraceID().String() == clientTraceID
			if joined != tc.join {
				t.Fatalf("span in trace %s, parent %s: joined the client's trace = %v, want %v",
					span.SpanContext.TraceID(), span.Parent.SpanID(), joined, tc.join)
			}
			if tc.join && (span.Parent.SpanID().String() != clientSpanID || !span.Parent.IsRemote()) {
				t.Errorf("parent %s, want the proxy's span %s", span.Parent.SpanID(), clientSpanID)
			}
			if !tc.join && span.Parent.IsValid() {
				t.Errorf("untrusted request's span has parent %s, want a new trace", span.Parent.SpanID())
			}
		})
	}
}

// Off, nothing of tracing shows: no trace ids in the access log, even for a
// request that carries a traceparent.
func TestTracingOffAddsNothingToTheLog(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/api/v1/account/me", "", withCookie(sessionToken), withHeader("traceparent", clientTraceparent))
	for _, line := range h.logs.FilterMessage("http request").All() {
		if _, ok := line.ContextMap()["trace_id"]; ok {
			t.Errorf("access log line has a trace_id with tracing off: %v", line.ContextMap())
		}
	}
}
