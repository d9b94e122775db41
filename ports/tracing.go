package ports

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/example/accounts/domain"
)

// Tracing. With Config.TracerProvider set, every request but the probes is a
// server span, named by its method and route template once routed
// ("GET /api/v1/users/{id}"), never by the raw path, whose ids would make every
// request a name of its own. Without it the handler is not wrapped at all.
//
// A client's traceparent and tracestate are believed only from a trusted proxy
// (Config.TrustedProxies), as X-Forwarded-For is: a request whose TCP peer is
// anyone else starts a trace of its own, so that a client can neither push its
// spans into a trace it does not own nor choose the trace ids (and so the
// sampling) of the service's.
//
// The span is this file's own rather than otelhttp's: otelhttp (v0.72) computes
// the request's and the response's attributes, wraps the response writer and
// computes and records its HTTP metrics on every request, whether its span is
// recorded or not, and no option turns that off. At a sampling ratio of 1%, 99
// requests in 100 paid for it, for nothing: here, a request whose span is not
// recorded costs the span's start and the request's new context, and only a
// recorded one is described, with the attributes of the HTTP semantic
// conventions (the ones otelhttp set; client.address is the client as
// Config.TrustedProxies has it), its status and its sizes.

// httpTracer puts each request into its server span.
type httpTracer struct {
	next   http.Handler
	tracer trace.Tracer
	// prop reads the trace context of a trusted proxy's request; nil when no
	// proxy is trusted.
	prop    propagation.TextMapPropagator
	trusted func(*http.Request) bool
	client  func(*http.Request) string
	// start are the span's options, made once: an option made per request costs
	// an allocation.
	start []trace.SpanStartOption
}

// withTracing wraps next in the request's server span.
func (s *server) withTracing(next http.Handler) http.Handler {
	tp := s.cfg.TracerProvider
	if tp == nil {
		return next
	}
	t := &httpTracer{
		next:   next,
		tracer: tp.Tracer("github.com/example/accounts/ports"),
		client: s.clientAddr,
		start:  []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)},
	}
	if len(s.cfg.TrustedProxies) > 0 {
		t.prop = s.cfg.Propagator
		if t.prop == nil {
			t.prop = propagation.TraceContext{}
		}
		t.trusted = s.peerTrusted
	}
	return t
}

func (t *httpTracer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/livez" || r.URL.Path == "/readyz" {
		t.next.ServeHTTP(w, r)
		return
	}
	ctx := r.Context()
	if t.prop != nil && t.trusted(r) {
		ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	// Until routing names the route, the method alone: the name stays so for a
	// path that matches no route.
	ctx, span := t.tracer.Start(ctx, r.Method, t.start...)
	defer span.End()
	r = r.WithContext(ctx)
	if !span.IsRecording() {
		t.next.ServeHTTP(w, r)
		return
	}

	span.SetAttributes(t.requestAttributes(r)...)
	var body *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		// r is the span's copy of the request: net/http still has its own body.
		body = &countingBody{ReadCloser: r.Body}
		r.Body = body
	}
	// The response's status and size are the access log's to tell (see
	// describeResponse): it knows what the client got.
	t.next.ServeHTTP(w, r)
	if body != nil && body.n > 0 {
		span.SetAttributes(semconv.HTTPRequestBodySize(int(body.n)))
	}
}

// describeResponse records on the request's span, when it is recorded, the
// status and size of the response as the access log has them: the status the
// client got (499 when it left before its answer) and the bytes that went out.
func describeResponse(ctx context.Context, status int, bytes int64) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	switch {
	case status < 100 || status >= 600:
		span.SetStatus(codes.Error, "Invalid HTTP status code "+strconv.Itoa(status))
	case status >= 500:
		span.SetStatus(codes.Error, "")
	}
	attrs := []attribute.KeyValue{semconv.HTTPResponseStatusCode(status)}
	if bytes > 0 {
		attrs = append(attrs, semconv.HTTPResponseBodySize(int(bytes)))
	}
	span.SetAttributes(attrs...)
}

// requestAttributes describes a request as the HTTP semantic conventions (v1.43)
// do, less its route, which nameSpan adds once it is known. Nothing secret: no
// headers but the user agent, no query string.
func (t *httpTracer) requestAttributes(r *http.Request) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 12)
	https := r.TLS != nil
	host, port := splitHostPort(r.Host)
	attrs = append(attrs, semconv.ServerAddress(host))
	if port > 0 && (https && port != 443 || !https && port != 80) {
		attrs = append(attrs, semconv.ServerPort(port))
	}
	if knownMethod(r.Method) {
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(r.Method))
	} else {
		attrs = append(attrs, semconv.HTTPRequestMethodOther, semconv.HTTPRequestMethodOriginal(r.Method))
	}
	if https {
		attrs = append(attrs, semconv.URLScheme("https"))
	} else {
		attrs = append(attrs, semconv.URLScheme("http"))
	}
	if peer, peerPort := splitHostPort(r.RemoteAddr); peer != "" {
		attrs = append(attrs, semconv.NetworkPeerAddress(peer))
		if peerPort > 0 {
			attrs = append(attrs, semconv.NetworkPeerPort(peerPort))
		}
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	if client := t.client(r); client != "" {
		attrs = append(attrs, semconv.ClientAddress(client))
	}
	if r.URL.Path != "" {
		attrs = append(attrs, semconv.URLPath(r.URL.Path))
	}
	if name, version, ok := strings.Cut(r.Proto, "/"); ok {
		if name = strings.ToLower(name); name != "http" {
			attrs = append(attrs, semconv.NetworkProtocolName(name))
		}
		attrs = append(attrs, semconv.NetworkProtocolVersion(version))
	}
	return attrs
}

// knownMethod says whether method is one of HTTP's own, which the semantic
// conventions record as they are; any other is recorded as _OTHER.
func knownMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// splitHostPort splits "host:port", "[v6]:port", "host" or "[v6]"; port is -1
// when there is none.
func splitHostPort(hostport string) (string, int) {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), -1
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return host, -1
	}
	return host, int(port)
}

// countingBody counts what the handler read of a recorded request's body.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// peerTrusted says whether the request's TCP peer is a trusted proxy.
func (s *server) peerTrusted(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	return err == nil && s.trustedProxy(peer)
}

// nameSpan names the request's span after its route, once routed, and records
// the route and the request's correlation id on it.
func nameSpan(r *http.Request, route string) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	span.SetName(r.Method + " " + route)
	span.SetAttributes(
		semconv.HTTPRoute(route),
		attribute.String("correlation_id", domain.CorrelationID(r.Context())),
	)
}

// withTrace adds the trace and span ids of ctx's span to a log line's fields;
// nothing when ctx has no valid span, as always with tracing off. Every request's
// access log line has them, sampled or not: both are written in hex into one
// string, where zap.Stringer would box each id and hex-encode it into a string of
// its own.
func withTrace(ctx context.Context, fields []zap.Field) []zap.Field {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return fields
	}
	traceID, spanID := sc.TraceID(), sc.SpanID()
	var buf [2*len(traceID) + 2*len(spanID)]byte
	n := hex.Encode(buf[:], traceID[:])
	hex.Encode(buf[n:], spanID[:])
	ids := string(buf[:])
	return append(fields, zap.String("trace_id", ids[:n]), zap.String("span_id", ids[n:]))
}
