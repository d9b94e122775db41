// Package tracing sets up OpenTelemetry tracing for the service: the tracer
// provider, the resource that names the service, the OTLP/HTTP exporter and the
// W3C Trace Context propagator, and its orderly shutdown.
//
// Nothing here is global. The composition root hands the TracerProvider and the
// Propagator to each component that traces (the HTTP port, the bus, the outbox,
// the database), so that two services in one process (tests) trace apart, each
// to an exporter of its own. Off, which is the default, New returns a Provider
// whose TracerProvider is nil: components then skip tracing altogether rather
// than pay for no-op spans on every request.
//
// The standard OTEL_* environment variables configure what they configure in
// every OpenTelemetry SDK: where spans go (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS…), which traces
// are kept (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG), the service's name
// (OTEL_SERVICE_NAME, "accounts" when unset) and other resource attributes
// (OTEL_RESOURCE_ATTRIBUTES). OTEL_TRACES_EXPORTER takes "otlp" (the default) or
// "none", which records and drops every span: the cost of tracing without a
// collector, for benchmarks.
//
// InstrumentDB adds the SQL spans: bun's bunotel query hook, which records each
// statement's text with placeholders, never the values bound to them, and is
// left out of the statements whose span is not recorded.
package tracing
