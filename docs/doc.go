// Package docs holds the service's published contracts as files, with the helpers
// that tests use to hold the service to them.
//
// asyncapi.json is the contract of the user events, an AsyncAPI 3.0.0 document: the
// channels and brokers they are published on, their headers, and one message per
// event type with the JSON Schema of its payload. It is written by hand, like the
// OpenAPI document of the HTTP API, because it states what consumers may rely on.
//
// The package embeds the document and the official AsyncAPI 3.0.0 JSON Schema
// (asyncapi-3.0.0.schema.json, see README.md for where it comes from). ValidateAsyncAPI
// checks the document against that schema, and ValidateEvent checks an event payload
// against the document's schema for the event's type, so tests can prove that what
// the service publishes is what the contract says. Neither ever touches the network:
// every schema is resolved from the embedded files.
package docs
