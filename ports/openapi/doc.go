// Package openapi holds the service's OpenAPI document and serves it, together with
// Swagger UI to read it in a browser.
//
// The document is written by hand rather than generated from the handlers, because it
// is the contract in machine-readable form: it says what clients may rely on,
// including the order of checks and the error codes, which no generator can infer.
// The router's tests compare its routes with Operations, so the two cannot drift apart
// unnoticed.
//
// Swagger UI is served from assets embedded in the binary, so the documentation works
// on a machine without internet access and loads nothing from third parties.
package openapi
