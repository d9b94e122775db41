package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestOffTracesNothing(t *testing.T) {
	p, err := New(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Enabled() || p.TracerProvider() != nil || p.Propagator() != nil {
		t.Errorf("tracing off gave a tracer provider or a propagator")
	}
	if err := p.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// serviceName is the service.name of a span that provider p made.
func serviceName(t *testing.T, exp *tracetest.InMemoryExporter, p *Provider) string {
	t.Helper()
	_, span := p.TracerProvider().Tracer("test").Start(context.Background(), "work")
	span.End()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans exported, want 1", len(spans))
	}
	v, _ := spans[0].Resource.Set().Value(attribute.Key("service.name"))
	return v.AsString()
}

// The spans name the service "accounts", or what OTEL_SERVICE_NAME says.
func TestTheServiceIsNamed(t *testing.T) {
	for _, tc := range []struct{ env, want string }{{"", "accounts"}, {"accounts-eu", "accounts-eu"}} {
		t.Setenv("OTEL_SERVICE_NAME", tc.env)
		exp := tracetest.NewInMemoryExporter()
		p, err := New(t.Context(), Config{Enabled: true, Exporter: exp})
		if err != nil {
			t.Fatal(err)
		}
		if got := serviceName(t, exp, p); got != tc.want {
			t.Errorf("OTEL_SERVICE_NAME=%q: service.name %q, want %q", tc.env, got, tc.want)
		}
		if err := p.Shutdown(t.Context()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
}

// OTEL_TRACES_EXPORTER=none records spans and drops them; a value the service
// cannot honour stops it from starting rather than tracing nowhere unnoticed.
func TestTheExporterNamedByTheEnvironment(t *testing.T) {
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	p, err := New(t.Context(), Config{Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.TracerProvider().Tracer("test").Start(context.Background(), "work")
	if !span.IsRecording() {
		t.Errorf("with the none exporter, spans are not recorded: the cost would not be measured")
	}
	span.End()
	if err := p.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}

	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin")
	if _, err := New(t.Context(), Config{Enabled: true}); err == nil {
		t.Errorf("OTEL_TRACES_EXPORTER=zipkin accepted")
	}
}

// By default spans go over OTLP/HTTP to the collector OTEL_EXPORTER_OTLP_ENDPOINT
// names, with the headers OTEL_EXPORTER_OTLP_HEADERS gives, at the latest when the
// provider shuts down.
func TestSpansGoToTheOTLPEndpoint(t *testing.T) {
	type export struct{ path, auth string }
	got := make(chan export, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- export{r.URL.Path, r.Header.Get("Authorization")}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20t0ken")

	p, err := New(t.Context(), Config{Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.TracerProvider().Tracer("test").Start(context.Background(), "work")
	span.End()
	if err := p.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case e := <-got:
		if e.path != "/v1/traces" || e.auth != "Bearer t0ken" {
			t.Errorf("export to %s with Authorization %q, want /v1/traces with the configured header", e.path, e.auth)
		}
	default:
		t.Fatal("nothing exported by the time Shutdown returned")
	}
}
