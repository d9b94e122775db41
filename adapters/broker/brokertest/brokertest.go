package brokertest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"
)

const (
	defaultNATSURL = "nats://127.0.0.1:4222"
	defaultAMQPURL = "amqp://guest:guest@127.0.0.1:5672/"

	// timeout bounds every wait on a broker, so that a test fails instead of
	// hanging.
	timeout = 10 * time.Second
	// poll is how often a wait looks again.
	poll = 20 * time.Millisecond
)

// NATSURL is the NATS server tests use: $TEST_NATS_URL, or the local one.
func NATSURL() string { return envOr("TEST_NATS_URL", defaultNATSURL) }

// AMQPURL is the RabbitMQ broker tests use: $TEST_AMQP_URL, or the local one as
// guest.
func AMQPURL() string { return envOr("TEST_AMQP_URL", defaultAMQPURL) }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RandomName is a short random lowercase hex string, for names that must not
// collide with those of other tests.
func RandomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}

// redacted is rawURL without its password, for messages.
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "an unparsable URL"
	}
	return u.Redacted()
}

// parseURL parses a broker's URL, failing the test with an error that does not
// repeat the URL, password included.
func parseURL(t testing.TB, rawURL string) *url.URL {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		t.Fatalf("brokertest: the broker's URL does not parse: %v", err)
	}
	return u
}
