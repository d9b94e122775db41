package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is the service.name of the spans unless OTEL_SERVICE_NAME
// (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
const DefaultServiceName = "accounts"

// DefaultShutdownTimeout bounds Shutdown's wait for the spans still queued to be
// exported: a collector that is down must not hold up the service's stop.
const DefaultShutdownTimeout = 5 * time.Second

// Config says whether and how to trace. Exporter and Sampler are for tests and
// benchmarks; the service leaves them nil and is configured by the environment.
type Config struct {
	// Enabled turns tracing on; off, New returns a Provider that traces nothing.
	Enabled bool
	// Exporter, when set, receives the spans instead of the exporter the
	// environment names, and synchronously, each span as it ends: a test reads
	// them as soon as the work is done.
	Exporter sdktrace.SpanExporter
	// Sampler, when set, replaces the one of OTEL_TRACES_SAMPLER.
	Sampler sdktrace.Sampler
	// ShutdownTimeout bounds Shutdown (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
}

// Provider is what the components that trace are given.
type Provider struct {
	sdk      *sdktrace.TracerProvider
	prop     propagation.TextMapPropagator
	shutdown time.Duration
}

// New builds the tracer provider cfg asks for. It connects to nothing: the OTLP
// exporter sends its first batch once there are spans, and a collector that is
// down costs the dropped spans and a log line, never a request.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if !cfg.Enabled {
		return &Provider{}, nil
	}
	res, err := newResource(ctx)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.Sampler != nil {
		opts = append(opts, sdktrace.WithSampler(cfg.Sampler))
	}
	switch exporter := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); {
	case cfg.Exporter != nil:
		opts = append(opts, sdktrace.WithSyncer(cfg.Exporter))
	case exporter == "" || exporter == "otlp":
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	case exporter == "none":
		// Spans are made, batched and dropped: what tracing costs the service,
		// less the network.
		opts = append(opts, sdktrace.WithBatcher(discard{}))
	default:
		return nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q: only otlp (OTLP over HTTP) and none are supported", exporter)
	}
	timeout := cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	return &Provider{
		sdk:      sdktrace.NewTracerProvider(opts...),
		prop:     propagation.TraceContext{},
		shutdown: timeout,
	}, nil
}

// newResource names the service: "accounts" unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES says otherwise (a later detector wins a merge).
func newResource(ctx context.Context) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", DefaultServiceName)),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

// TracerProvider is the provider to make spans with, or nil when tracing is off:
// components given nil trace nothing.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil || p.sdk == nil {
		return nil
	}
	return p.sdk
}

// Propagator reads and writes the W3C traceparent and tracestate, or is nil when
// tracing is off.
func (p *Provider) Propagator() propagation.TextMapPropagator {
	if p == nil || p.sdk == nil {
		return nil
	}
	return p.prop
}

// Enabled says whether spans are made.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Shutdown exports the spans still queued and stops, within ShutdownTimeout or
// ctx, whichever ends first. Spans made afterwards are dropped.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.shutdown)
	defer cancel()
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// discard is the exporter of OTEL_TRACES_EXPORTER=none.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }
