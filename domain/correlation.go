package domain

import (
	"context"
	"crypto/rand"
)

type correlationKey struct{}

// WithCorrelationID returns ctx carrying the correlation id of the request that
// caused the work, so that log lines, bus messages and events can name it.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the id put in ctx by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}

// NewCorrelationID returns a fresh correlation id for work that no request caused
// (the command line, background jobs) or whose caller sent none: 26 characters of
// base32, 128 random bits, within the accepted X-Request-Id alphabet.
func NewCorrelationID() string {
	return rand.Text()
}
