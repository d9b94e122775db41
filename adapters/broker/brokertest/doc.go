// Package brokertest gives each test destinations of its own on the real message
// brokers, a JetStream stream or a RabbitMQ exchange under a random name deleted
// when the test ends, so that tests run in parallel, never see each other's
// messages and never touch real events. It reads what reached a broker with the
// plain clients, and puts a TCP proxy in front of a broker so that a test can take
// the broker away and bring it back.
//
// The brokers are those of $TEST_NATS_URL and $TEST_AMQP_URL (default: the local
// ones on their standard ports). A test that cannot reach its broker fails, never
// skips: a CI job without its brokers must go red, not silently green.
package brokertest
