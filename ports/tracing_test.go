package ports

import (
	"errors"
	"net/http"
	"net/netip"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
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

// A recorded request's span carries the HTTP semantic conventions' attributes,
// with the client as the trusted proxies have it (an untrusted X-Forwarded-For is
// not believed), and is failed when the response is a 5xx, not a 4xx.
func TestRecordedRequestsFollowTheHTTPConventions(t *testing.T) {
	h := newHarness(t)
	exp := traced(h)
	w := h.do("GET", "/api/v1/account/me", "", withCookie(sessionToken), withPeer("192.0.2.1:4711"),
		withHeader("User-Agent", "probe/1.0"), withHeader("X-Forwarded-For", "203.0.113.9"))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	span := oneSpan(t, exp)
	got := map[attribute.Key]attribute.Value{}
	for _, kv := range span.Attributes {
		got[kv.Key] = kv.Value
	}
	for k, want := range map[attribute.Key]any{
		"http.request.method":       "GET",
		"http.route":                "/api/v1/account/me",
		"http.response.status_code": int64(200),
		"http.response.body.size":   int64(w.Body.Len()),
		"url.scheme":                "http",
		"url.path":                  "/api/v1/account/me",
		"server.address":            "example.com",
		"network.peer.address":      "192.0.2.1",
		"network.peer.port":         int64(4711),
		"network.protocol.version":  "1.1",
		"client.address":            "192.0.2.1",
		"user_agent.original":       "probe/1.0",
	} {
		if v, ok := got[k]; !ok || v.AsInterface() != want {
			t.Errorf("%s = %v, want %v", k, v.AsInterface(), want)
		}
	}
	if span.Status.Code != codes.Unset {
		t.Errorf("status %v for a 200", span.Status.Code)
	}

	body := `{"username":"someone","password":"correct horse battery staple"}`
	h.do("POST", "/api/v1/account/login", body)
	var read attribute.Value
	for _, kv := range oneSpan(t, exp).Attributes {
		if kv.Key == "http.request.body.size" {
			read = kv.Value
		}
	}
	if read.AsInt64() != int64(len(body)) {
		t.Errorf("http.request.body.size = %v, want %d", read.AsInterface(), len(body))
	}

	h.do("GET", "/api/v1/nothing/here", "")
	if span := oneSpan(t, exp); span.Status.Code != codes.Unset {
		t.Errorf("status %v for a 404, want unset", span.Status.Code)
	}
	h.me.err = errors.New("driver failure")
	if w := h.do("GET", "/api/v1/account/me", "", withCookie(sessionToken)); w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	if span := oneSpan(t, exp); span.Status.Code != codes.Error {
		t.Errorf("status %v for a 500, want error", span.Status.Code)
	}
}

// A request whose trace is not kept exports nothing, yet it is in a trace of its
// own, which its access log line and the bus operations it sends name; a client's
// traceparent is still not believed.
func TestUnsampledRequestsAreInATraceAllTheSame(t *testing.T) {
	h := newHarness(t)
	exp := tracetest.NewInMemoryExporter()
	h.cfg.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.NeverSample()))
	h.cfg.Propagator = propagation.TraceContext{}
	w := h.do("GET", "/api/v1/account/me", "", withCookie(sessionToken), withHeader("traceparent", clientTraceparent))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("%d spans exported", n)
	}
	sc := trace.SpanContextFromContext(h.me.ctx)
	if !sc.IsValid() || sc.IsSampled() || sc.TraceID().String() == clientTraceID {
		t.Fatalf("the query was sent in %v, want a trace of the service's own, not sampled", sc)
	}
	lines := h.logs.FilterMessage("http request").All()
	fields := lines[len(lines)-1].ContextMap()
	if fields["trace_id"] != sc.TraceID().String() || fields["span_id"] != sc.SpanID().String() {
		t.Errorf("access log trace_id %v span_id %v, want the request's %s %s", fields["trace_id"], fields["span_id"], sc.TraceID(), sc.SpanID())
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
