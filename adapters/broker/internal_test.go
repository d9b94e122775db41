package broker

import (
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestDefaults(t *testing.T) {
	n := NATSConfig{URL: "nats://127.0.0.1:4222"}
	n.setDefaults()
	if n.Stream != "USER_EVENTS" || n.Subject != "user.events" || n.DuplicateWindow != 2*time.Minute ||
		n.PublishTimeout != 5*time.Second || n.ReconnectWait != 250*time.Millisecond || n.MaxReconnectWait != 30*time.Second {
		t.Errorf("NATS defaults: %+v", n)
	}
	a := AMQPConfig{URL: "amqp://guest:guest@127.0.0.1:5672/"}
	a.setDefaults()
	if a.Exchange != "user.events" || a.PublishTimeout != 5*time.Second ||
		a.ReconnectWait != 250*time.Millisecond || a.MaxReconnectWait != 30*time.Second {
		t.Errorf("AMQP defaults: %+v", a)
	}
	// A first wait above the default cap raises the cap, rather than failing.
	a = AMQPConfig{URL: a.URL, ReconnectWait: time.Minute}
	a.setDefaults()
	if a.MaxReconnectWait != time.Minute {
		t.Errorf("MaxReconnectWait %s, want ReconnectWait's 1m", a.MaxReconnectWait)
	}
}

func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want string // a part of the error; "" for none
	}{
		"nats zero":              {NATSConfig{}.Validate(), "URL is required"},
		"nats url":               {NATSConfig{URL: "nats://127.0.0.1:4222"}.Validate(), ""},
		"nats cluster":           {NATSConfig{URL: "nats://a:4222, tls://b:4222"}.Validate(), ""},
		"nats scheme":            {NATSConfig{URL: "http://nats:4222"}.Validate(), "must be nats://"},
		"nats one bad of two":    {NATSConfig{URL: "nats://a:4222,b"}.Validate(), "must be nats://"},
		"nats stream":            {NATSConfig{URL: "nats://a:4222", Stream: "USER.EVENTS"}.Validate(), "not a valid stream name"},
		"nats wildcard subject":  {NATSConfig{URL: "nats://a:4222", Subject: "user.*"}.Validate(), "not a subject"},
		"nats negative window":   {NATSConfig{URL: "nats://a:4222", DuplicateWindow: -1}.Validate(), "DuplicateWindow must not be negative"},
		"nats cap below first":   {NATSConfig{URL: "nats://a:4222", ReconnectWait: time.Second, MaxReconnectWait: time.Millisecond}.Validate(), "must not be below"},
		"amqp zero":              {AMQPConfig{}.Validate(), "URL is required"},
		"amqp url":               {AMQPConfig{URL: "amqps://u:p@rabbit:5671/vhost"}.Validate(), ""},
		"amqp scheme":            {AMQPConfig{URL: "rabbit:5672"}.Validate(), "must be amqp://"},
		"amqp reserved exchange": {AMQPConfig{URL: "amqp://rabbit", Exchange: "amq.fanout"}.Validate(), "not a name"},
		"amqp negative timeout":  {AMQPConfig{URL: "amqp://rabbit", PublishTimeout: -time.Second}.Validate(), "PublishTimeout must not be negative"},
	} {
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: %v", name, tc.err)
		case tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error saying %q", name, tc.err, tc.want)
		}
	}
}

func TestValidateNeverQuotesTheURL(t *testing.T) {
	const password = "s3cret"
	for _, err := range []error{
		NATSConfig{URL: "nats://user:" + password + "@host:4222/%zz"}.Validate(),
		AMQPConfig{URL: "amqp://user:" + password + "@host:5672/%zz"}.Validate(),
	} {
		if err == nil || strings.Contains(err.Error(), password) {
			t.Errorf("got %v, want an error that does not quote the password", err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"amqp://guest:guest@rabbit:5672/":         "amqp://guest:xxxxx@rabbit:5672/",
		"nats://s3cret-token@nats:4222":           "nats://xxxxx@nats:4222",
		"nats://a:4222,nats://user:pass@b:4222":   "nats://a:4222,nats://user:xxxxx@b:4222",
		"nats://127.0.0.1:4222":                   "nats://127.0.0.1:4222",
		"amqp://user:pa%20ss@rabbit:5672/%zzhost": "(unparsable URL)",
	} {
		if got := redactURL(raw); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{first: 100 * time.Millisecond, max: time.Second}
	for n, base := range map[int]time.Duration{
		1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond,
		5: time.Second, 1000: time.Second,
	} {
		for range 100 {
			if d := b.delay(n); d < base/2 || d > base {
				t.Fatalf("delay(%d) = %s, want within [%s, %s]", n, d, base/2, base)
			}
		}
	}
}

func TestStatusWarnsOncePerOutage(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	s := newStatus(zap.New(core), errors.New("not connected yet"))
	warnings := func() int { return logs.FilterLevelExact(zapcore.WarnLevel).Len() }

	for range 5 {
		s.fail(errors.New("connection refused"))
	}
	if warnings() != 1 {
		t.Fatalf("%d warnings for one outage, want 1", warnings())
	}
	s.warned = time.Now().Add(-warnEvery)
	s.fail(errors.New("connection refused"))
	if warnings() != 2 {
		t.Fatalf("%d warnings once the outage lasted %s, want 2", warnings(), warnEvery)
	}
	if got := logs.All()[1].ContextMap()["failed_attempts"]; got != int64(6) {
		t.Errorf("failed_attempts %v, want 6", got)
	}

	s.ok("connected")
	s.ok("connected")
	if s.problem() != nil || logs.FilterMessage("connected").Len() != 1 {
		t.Errorf("problem %v after ok, %d info lines; want nil, 1", s.problem(), logs.FilterMessage("connected").Len())
	}
	s.fail(errors.New("connection lost"))
	if warnings() != 3 {
		t.Errorf("%d warnings after a new outage, want 3", warnings())
	}
}

func TestChannelClosed(t *testing.T) {
	for _, tc := range []struct {
		reason      *amqp.Error
		unavailable bool
	}{
		{nil, true}, // closed by the publisher
		{&amqp.Error{Code: amqp.ConnectionForced, Reason: "CONNECTION_FORCED - shutdown", Server: true}, true},
		{&amqp.Error{Code: amqp.FrameError, Reason: "EOF"}, true},
		{&amqp.Error{Code: amqp.NotFound, Reason: "NOT_FOUND - no exchange", Server: true}, true},
		{&amqp.Error{Code: amqp.PreconditionFailed, Reason: "PRECONDITION_FAILED - message size 200000000 is larger than configured max size 134217728", Server: true}, false},
	} {
		if got := IsUnavailable(channelClosed(tc.reason)); got != tc.unavailable {
			t.Errorf("channel closed with %v: unavailable %t, want %t", tc.reason, got, tc.unavailable)
		}
	}
}
