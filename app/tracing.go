package main

import (
	"context"
	"os"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/tracing"
)

// tracingModule sets up OpenTelemetry tracing when [tracing] enabled says so, and
// has the database's statements traced. Its provider is handed to the HTTP port, the
// bus and the outbox, which trace nothing when it is off. It starts before them
// and stops after them, so that the spans of the last requests are exported.
var tracingModule = fx.Options(
	fx.Module("tracing",
		fx.Provide(fx.Annotate(newTracing, fx.ParamTags(``, ``, ``, `optional:"true"`))),
	),
	// Outside the module, so that every part of the service gets the traced
	// database; the one supplied stays untraced.
	fx.Decorate(func(db *bun.DB, p *tracing.Provider) *bun.DB { return tracing.InstrumentDB(db, p.TracerProvider()) }),
)

// tracingOverride lets a test or a benchmark choose where spans go and which are
// kept, in place of the OTEL_* environment variables: supply one to the app.
type tracingOverride struct {
	Exporter sdktrace.SpanExporter
	Sampler  sdktrace.Sampler
}

func newTracing(lc fx.Lifecycle, cfg Config, logger *zap.Logger, override *tracingOverride) (*tracing.Provider, error) {
	tc := tracing.Config{Enabled: cfg.Tracing.Enabled}
	if override != nil {
		tc.Exporter, tc.Sampler = override.Exporter, override.Sampler
	}
	p, err := tracing.New(context.Background(), tc)
	if err != nil {
		return nil, err
	}
	if p.Enabled() {
		// The SDK reports export failures (a collector that is down) through
		// otel's one global error handler: into the log, not stderr.
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			logger.Warn("tracing: spans not exported", zap.Error(err))
		}))
		logger.Info("tracing on",
			zap.String("otlp_endpoint", firstEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")),
			zap.String("sampler", os.Getenv("OTEL_TRACES_SAMPLER")))
	}
	lc.Append(fx.Hook{OnStop: p.Shutdown})
	return p, nil
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// newOutboxWriter is the outbox writer, traced when tracing is on.
func newOutboxWriter(p *tracing.Provider) *outbox.Writer {
	return outbox.NewWriter().WithTracing(outboxTracing(p))
}

func outboxTracing(p *tracing.Provider) outbox.Tracing {
	return outbox.Tracing{TracerProvider: p.TracerProvider(), Propagator: p.Propagator()}
}
