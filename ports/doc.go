// Package ports is the service's HTTP side: the gorilla/mux router, its middleware,
// strict request decoding and the one mapper from domain errors to problem JSON.
//
// Handlers never run use cases themselves. Each one checks the shape of its request
// (413, 415, 400), resolves the session cookie into the caller, sends one typed
// command or query over the bus through a Sender, and writes the reply. Everything
// from authorization onwards is the use case's to decide, so the HTTP layer cannot
// drift from the rules, and a test can drive every endpoint with fake Senders.
//
// With a TracerProvider in Config, each request is a server span named by its
// route template; a client's traceparent is believed from trusted proxies only
// (tracing.go).
//
// The contract served here is the OpenAPI document in package
// openapi writes it down; a test checks that the router serves exactly the
// document's operations.
package ports
