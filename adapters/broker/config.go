package broker

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// The destinations of the public contract, docs/asyncapi.json. Other services rely
// on these names: the settings that change them exist only so that tests can work
// on throwaway destinations.
const (
	DefaultStream   = "USER_EVENTS"
	DefaultSubject  = "user.events"
	DefaultExchange = "user.events"
)

const (
	// The contract promises consumers this window; it also bounds how long a
	// retried publish is still recognised as a duplicate.
	defaultDuplicateWindow = 2 * time.Minute
	defaultPublishTimeout  = 5 * time.Second
	defaultReconnectWait   = 250 * time.Millisecond
	defaultMaxReconnect    = 30 * time.Second
)

// NATSConfig says where and how the NATS publisher delivers events. A zero field
// takes its default.
type NATSConfig struct {
	// URL is the server, nats://[user:password@]host:port, or tls://… for TLS.
	// The servers of one cluster can be listed, separated by commas. Required.
	URL string

	// Stream is the JetStream stream that stores the events. Default USER_EVENTS.
	Stream string

	// Subject is the subject the events are published on, captured by Stream.
	// Default user.events.
	Subject string

	// DuplicateWindow is how long the stream remembers an event id: an event
	// published again within it is stored once. Default 2m.
	DuplicateWindow time.Duration

	// PublishTimeout bounds the wait for the stream's acknowledgement, and for the
	// declaration of the stream. Default 5s.
	PublishTimeout time.Duration

	// ReconnectWait is the wait before the first retry once the server cannot be
	// reached; each further failure doubles it, up to MaxReconnectWait. Both are
	// jittered so that many instances do not retry in step. Defaults 250ms, 30s.
	ReconnectWait    time.Duration
	MaxReconnectWait time.Duration
}

// AMQPConfig says where and how the RabbitMQ publisher delivers events. A zero
// field takes its default.
type AMQPConfig struct {
	// URL is the broker, amqp://user:password@host:port/vhost, or amqps://… for
	// TLS. Required.
	URL string

	// Exchange is the durable fanout exchange the events are published to.
	// Default user.events.
	Exchange string

	// PublishTimeout bounds the wait for the broker's confirmation, and the
	// connection handshake. Default 5s.
	PublishTimeout time.Duration

	// ReconnectWait and MaxReconnectWait bound the retries as for NATSConfig.
	// Defaults 250ms, 30s.
	ReconnectWait    time.Duration
	MaxReconnectWait time.Duration
}

func (c *NATSConfig) setDefaults() {
	c.Stream = cmp.Or(c.Stream, DefaultStream)
	c.Subject = cmp.Or(c.Subject, DefaultSubject)
	c.DuplicateWindow = cmp.Or(c.DuplicateWindow, defaultDuplicateWindow)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, defaultPublishTimeout)
	c.ReconnectWait = cmp.Or(c.ReconnectWait, defaultReconnectWait)
	c.MaxReconnectWait = cmp.Or(c.MaxReconnectWait, max(defaultMaxReconnect, c.ReconnectWait))
}

func (c *AMQPConfig) setDefaults() {
	c.Exchange = cmp.Or(c.Exchange, DefaultExchange)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, defaultPublishTimeout)
	c.ReconnectWait = cmp.Or(c.ReconnectWait, defaultReconnectWait)
	c.MaxReconnectWait = cmp.Or(c.MaxReconnectWait, max(defaultMaxReconnect, c.ReconnectWait))
}

var (
	// JetStream stream names end up in subjects and file names.
	streamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	// A subject to publish on: dot-separated tokens, no wildcards.
	subjectName = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	// RabbitMQ's rule for exchange names; "amq." is reserved, checked apart.
	exchangeName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,255}$`)
)

// Validate reports settings the publisher cannot work with. Zero values other than
// URL are valid: they mean the defaults. Its errors never quote the URL, which may
// hold a password.
func (c NATSConfig) Validate() error {
	var err error
	if c.URL == "" {
		err = errors.Join(err, errors.New("broker: NATSConfig.URL is required"))
	} else if !validNATSURL(c.URL) {
		err = errors.Join(err, errors.New("broker: NATSConfig.URL must be nats://host:port or tls://host:port, or several separated by commas"))
	}
	if c.Stream != "" && !streamName.MatchString(c.Stream) {
		err = errors.Join(err, fmt.Errorf("broker: NATSConfig.Stream %q is not a valid stream name", c.Stream))
	}
	if c.Subject != "" && !subjectName.MatchString(c.Subject) {
		err = errors.Join(err, fmt.Errorf("broker: NATSConfig.Subject %q is not a subject one can publish on", c.Subject))
	}
	return errors.Join(err,
		notNegative("NATSConfig.DuplicateWindow", c.DuplicateWindow),
		notNegative("NATSConfig.PublishTimeout", c.PublishTimeout),
		retryBounds("NATSConfig", c.ReconnectWait, c.MaxReconnectWait))
}

// Validate reports settings the publisher cannot work with, as NATSConfig.Validate.
func (c AMQPConfig) Validate() error {
	var err error
	if c.URL == "" {
		err = errors.Join(err, errors.New("broker: AMQPConfig.URL is required"))
	} else if _, perr := amqp.ParseURI(c.URL); perr != nil {
		// ParseURI's error can quote the URL.
		err = errors.Join(err, errors.New("broker: AMQPConfig.URL must be amqp://user:password@host:port/vhost or amqps://…"))
	}
	if c.Exchange != "" && (!exchangeName.MatchString(c.Exchange) || strings.HasPrefix(c.Exchange, "amq.")) {
		err = errors.Join(err, fmt.Errorf("broker: AMQPConfig.Exchange %q is not a name one can declare an exchange with", c.Exchange))
	}
	return errors.Join(err,
		notNegative("AMQPConfig.PublishTimeout", c.PublishTimeout),
		retryBounds("AMQPConfig", c.ReconnectWait, c.MaxReconnectWait))
}

func notNegative(name string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("broker: %s must not be negative", name)
	}
	return nil
}

func retryBounds(config string, wait, maxWait time.Duration) error {
	err := errors.Join(
		notNegative(config+".ReconnectWait", wait),
		notNegative(config+".MaxReconnectWait", maxWait))
	if err == nil && wait > 0 && maxWait > 0 && maxWait < wait {
		err = fmt.Errorf("broker: %s.MaxReconnectWait must not be below ReconnectWait", config)
	}
	return err
}

func validNATSURL(raw string) bool {
	for part := range strings.SplitSeq(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || u.Host == "" || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme) {
			return false
		}
	}
	return true
}

// redactURL makes a broker URL fit for the logs. A NATS token is written where a
// user name would be, so a user name without a password is hidden as well;
// url.URL.Redacted would print it.
func redactURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, part := range parts {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		if u.User != nil {
			if _, hasPassword := u.User.Password(); hasPassword {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx")
			}
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
