package ports

import (
	"context"
	"net"
	"net/http"
	"net/netip"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/example/accounts/domain"
)

// Tracing. With Config.TracerProvider set, every request but the probes is a
// server span (otelhttp), named by its method and route template once routed
// ("GET /api/v1/users/{id}"), never by the raw path, whose ids would make every
// request a name of its own. Without it the handler is not wrapped at all.
//
// A client's traceparent and tracestate are believed only from a trusted proxy
// (Config.TrustedProxies), as X-Forwarded-For is: a request whose TCP peer is
// anyone else starts a trace of its own, so that a client can neither push its
// spans into a trace it does not own nor choose the trace ids (and so the
// sampling) of the service's.

// withTracing wraps next in the request's server span.
func (s *server) withTracing(next http.Handler) http.Handler {
	tp := s.cfg.TracerProvider
	if tp == nil {
		return next
	}
	prop := s.cfg.Propagator
	if prop == nil {
		prop = propagation.TraceContext{}
	}
	wrap := func(p propagation.TextMapPropagator) http.Handler {
		return otelhttp.NewHandler(next, "http.server",
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithPropagators(p),
			// The HTTP metrics are not tracing's business; no global meter.
			otelhttp.WithMeterProvider(noop.NewMeterProvider()),
			// Until routing names the route, the method alone: the name
			// stays so for a path that matches no route.
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
			otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/livez" && r.URL.Path != "/readyz" }),
		)
	}
	// An empty composite reads nothing: the request starts a new trace.
	untrusted := wrap(propagation.NewCompositeTextMapPropagator())
	if len(s.cfg.TrustedProxies) == 0 {
		return untrusted
	}
	trusted := wrap(prop)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.peerTrusted(r) {
			trusted.ServeHTTP(w, r)
			return
		}
		untrusted.ServeHTTP(w, r)
	})
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
		attribute.String("http.route", route),
		attribute.String("correlation_id", domain.CorrelationID(r.Context())),
	)
}

// withTrace adds the trace and span ids of ctx's span to a log line's fields;
// nothing when ctx has no valid span, as always with tracing off.
func withTrace(ctx context.Context, fields []zap.Field) []zap.Field {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return fields
	}
	return append(fields, zap.Stringer("trace_id", sc.TraceID()), zap.Stringer("span_id", sc.SpanID()))
}
