package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/example/accounts/adapters/broker/brokertest"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/docs"
)

// received is one event as a plain client of a broker got it.
type received struct {
	Headers map[string]string
	Payload []byte
	Event   struct {
		EventID    string         `json:"event_id"`
		Type       string         `json:"type"`
		Version    int            `json:"version"`
		OccurredAt string         `json:"occurred_at"`
		UserID     string         `json:"user_id"`
		Sequence   int64          `json:"sequence"`
		ActorID    *string        `json:"actor_id"`
		Data       map[string]any `json:"data"`
	}
}

// brokerUnderTest is one broker: setUp gives the service settings that publish to a
// throwaway destination on it, and a plain client of that broker to read them.
type brokerUnderTest struct {
	name  string
	setUp func(t *testing.T) (map[string]string, brokerReader)
}

type brokerReader interface {
	// listen is called once the service runs; from then on nothing is missed.
	listen(t *testing.T)
	// read returns the next n events to arrive, each once: like any consumer, it
	// drops an event whose id it has seen (delivery is at least once).
	read(t *testing.T, n int) []received
	// nothingMore fails the test if another event arrives shortly.
	nothingMore(t *testing.T)
	// duplicates is how many deliveries read dropped as already seen.
	duplicates() int
}

var brokers = []brokerUnderTest{
	{"nats", func(t *testing.T) (map[string]string, brokerReader) {
		stream := brokertest.NewStream(t)
		return map[string]string{
			"APP_EVENTS_BROKER":       "nats",
			"APP_EVENTS_NATS_URL":     brokertest.NATSURL(),
			"APP_EVENTS_NATS_STREAM":  stream.Name,
			"APP_EVENTS_NATS_SUBJECT": stream.Subject,
		}, &natsReader{stream: stream}
	}},
	{"amqp", func(t *testing.T) (map[string]string, brokerReader) {
		exchange := brokertest.NewExchange(t)
		return map[string]string{
			"APP_EVENTS_BROKER":        "amqp",
			"APP_EVENTS_AMQP_URL":      brokertest.AMQPURL(),
			"APP_EVENTS_AMQP_EXCHANGE": exchange.Name,
		}, &amqpReader{exchange: exchange}
	}},
}

// natsReader reads the stream from its start: JetStream keeps what it stored.
type natsReader struct {
	stream *brokertest.Stream
	seen   int
}

// listen waits for the service to have declared the stream.
func (r *natsReader) listen(t *testing.T) { r.stream.Messages(t, 0) }

func (r *natsReader) read(t *testing.T, n int) []received {
	t.Helper()
	var out []received
	for _, m := range r.stream.Messages(t, r.seen+n)[r.seen:] {
		h := map[string]string{}
		for k := range m.Headers() {
			h[k] = m.Headers().Get(k)
		}
		out = append(out, decodeReceived(t, h, m.Data()))
	}
	r.seen += n
	return out
}

// JetStream drops a message whose Nats-Msg-Id it has stored already (within its
// duplicate window): what the stream holds has no duplicates.
func (r *natsReader) duplicates() int { return 0 }

func (r *natsReader) nothingMore(t *testing.T) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	r.stream.Messages(t, r.seen)
}

// amqpReader binds a queue of its own: a fanout exchange keeps nothing for queues
// bound later, so it listens as soon as the service has declared the exchange.
type amqpReader struct {
	exchange   *brokertest.Exchange
	deliveries <-chan amqp.Delivery
	seen       map[string]bool
	dropped    int
}

func (r *amqpReader) listen(t *testing.T) { r.deliveries = r.exchange.Subscribe(t) }

func (r *amqpReader) read(t *testing.T, n int) []received {
	t.Helper()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	var out []received
	for len(out) < n {
		d := brokertest.Receive(t, r.deliveries)
		if r.seen[d.MessageId] {
			r.dropped++
			continue
		}
		r.seen[d.MessageId] = true
		h := map[string]string{"message_id": d.MessageId, "content_type": d.ContentType, "type": d.Type,
			"delivery_mode": fmt.Sprint(d.DeliveryMode)}
		for k, v := range d.Headers {
			h[k] = fmt.Sprint(v)
		}
		out = append(out, decodeReceived(t, h, d.Body))
	}
	return out
}

func (r *amqpReader) duplicates() int { return r.dropped }

func (r *amqpReader) nothingMore(t *testing.T) {
	t.Helper()
	for {
		select {
		case d := <-r.deliveries:
			if !r.seen[d.MessageId] {
				t.Errorf("unexpected event: %s", d.Body)
			}
			r.dropped++
		case <-time.After(300 * time.Millisecond):
			return
		}
	}
}

// eachBroker runs test once per broker, in parallel.
func eachBroker(t *testing.T, test func(t *testing.T, b brokerUnderTest)) {
	t.Helper()
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// serviceOn starts the service publishing to a throwaway destination on broker b,
// and returns it with a reader of that destination, listening already.
func serviceOn(t *testing.T, b brokerUnderTest) (*service, brokerReader) {
	t.Helper()
	env, reader := b.setUp(t)
	env["APP_EVENTS_POLL_INTERVAL"] = "20ms"
	s := startService(t, env)
	reader.listen(t)
	return s, reader
}

func decodeReceived(t *testing.T, headers map[string]string, payload []byte) received {
	t.Helper()
	r := received{Headers: headers, Payload: payload}
	if err := json.Unmarshal(payload, &r.Event); err != nil {
		t.Fatalf("event payload %s: %v", payload, err)
	}
	// The contract, as other services read it.
	if err := docs.ValidateEvent(payload); err != nil {
		t.Errorf("event breaks the AsyncAPI document: %v\n%s", err, payload)
	}
	if err := docs.ValidateHeaders(r.Event.Type, headers); err != nil {
		t.Errorf("headers break the AsyncAPI document: %v\n%v", err, headers)
	}
	return r
}

// wantEvent is what the test expects of one event; sequence is per user.
type wantEvent struct {
	typ, user, actor, requestID string
	sequence                    int64
	data                        map[string]any
}

var correlationIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// Every kind of change, through the API and the command line, reaches each broker
// as one event a plain client of that broker reads: payload, headers, ids, per-user
// sequence and the request's correlation id. Requests that change nothing or fail
// publish nothing.
func TestEventsReachTheBroker(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, b brokerUnderTest) {
		s, reader := serviceOn(t, b)
		with := func(id string) []string { return []string{"X-Request-Id", id} }

		rootID := s.superAdmin("root.events")
		root := s.loggedIn("root.events")
		r := s.client().do("POST", "/api/v1/account/signup", map[string]string{"username": "alice.events", "password": testPassword}, with("req-signup")...)
		assertStatus(t, r, http.StatusCreated, "")
		aliceID := toString(r.JSON(t)["id"])
		r = root.do("POST", "/api/v1/users", map[string]string{"username": "bobby.events", "password": testPassword, "role": "admin"}, with("req-create")...)
		assertStatus(t, r, http.StatusCreated, "")
		bobID := toString(r.JSON(t)["id"])
		alice := s.loggedIn("alice.events")

		steps := []struct {
			c            *client
			method, path string
			body         any
			requestID    string
			status       int
		}{
			{root, "DELETE", "/api/v1/users/" + bobID + "/roles/admin", nil, "req-revoke", 204},
			{root, "DELETE", "/api/v1/users/" + bobID + "/roles/admin", nil, "req-revoke-again", 204}, // no change
			{root, "PUT", "/api/v1/users/" + bobID + "/roles/admin", nil, "req-grant", 204},
			{alice, "PUT", "/api/v1/account/password", map[string]string{"current_password": testPassword, "new_password": "alice-new-password"}, "req-own-password", 204},
			{root, "PUT", "/api/v1/users/" + bobID + "/password", map[string]string{"password": "bobby-new-password"}, "req-set-password", 204},
			{root, "DELETE", "/api/v1/users/" + aliceID + "/activation", nil, "req-inactivate", 204},
			{root, "DELETE", "/api/v1/users/" + aliceID + "/activation", nil, "req-inactivate-again", 204}, // no change
			{root, "PUT", "/api/v1/users/" + aliceID + "/activation", nil, "req-reactivate", 204},
			{root, "PUT", "/api/v1/users/" + aliceID + "/activation", nil, "req-reactivate-again", 204}, // no change
		}
		for _, st := range steps {
			if r := st.c.do(st.method, st.path, st.body, with(st.requestID)...); r.Status != st.status {
				t.Fatalf("%s %s: %d %s, want %d", st.method, st.path, r.Status, r.Body, st.status)
			}
		}
		// Failures change nothing and publish nothing.
		r = s.client().do("POST", "/api/v1/account/signup", map[string]string{"username": "alice.events", "password": testPassword}, with("req-taken")...)
		assertStatus(t, r, http.StatusConflict, "username_taken")
		// Alice's session ended with her inactivation; she logs in again.
		alice = s.client()
		assertStatus(t, alice.login("alice.events", "alice-new-password"), http.StatusNoContent, "")
		assertStatus(t, alice.do("DELETE", "/api/v1/users/"+bobID+"/activation", nil, with("req-forbidden")...), http.StatusForbidden, "forbidden")
		r = root.do("PUT", "/api/v1/users/"+bobID+"/password", map[string]string{"password": "short"}, with("req-invalid")...)
		assertStatus(t, r, http.StatusBadRequest, "validation_failed")

		want := []wantEvent{
			{"user.signed_up", aliceID, "", "req-signup", 1, map[string]any{"username": "alice.events", "role": "user"}},
			{"user.created", bobID, rootID, "req-create", 1, map[string]any{"username": "bobby.events", "role": "admin"}},
			{"user.role_changed", bobID, rootID, "req-revoke", 2, map[string]any{"from": "admin", "to": "user"}},
			{"user.role_changed", bobID, rootID, "req-grant", 3, map[string]any{"from": "user", "to": "admin"}},
			{"user.password_changed", aliceID, aliceID, "req-own-password", 2, map[string]any{"by": "self"}},
			{"user.password_changed", bobID, rootID, "req-set-password", 4, map[string]any{"by": "admin"}},
			{"user.inactivated", aliceID, rootID, "req-inactivate", 3, map[string]any{}},
			{"user.reactivated", aliceID, rootID, "req-reactivate", 4, map[string]any{}},
		}
		// One user's events arrive in their order; different users' events
		// may interleave in any order.
		got := map[string]received{} // by user and sequence
		last := map[string]int64{}
		for _, g := range reader.read(t, len(want)+1) {
			e := g.Event
			if e.Sequence <= last[e.UserID] {
				t.Errorf("%s of %s arrived after its sequence %d", e.Type, e.UserID, last[e.UserID])
			}
			last[e.UserID] = e.Sequence
			got[fmt.Sprint(e.UserID, "/", e.Sequence)] = g
			assertBrokerHeaders(t, b.name, g)
		}
		assertCreatedOnTheCommandLine(t, got[rootID+"/1"], rootID)
		for _, w := range want {
			g, ok := got[fmt.Sprint(w.user, "/", w.sequence)]
			e := g.Event
			switch {
			case !ok:
				t.Errorf("no event %d of %s (%s)", w.sequence, w.user, w.typ)
				continue
			case e.Type != w.typ || e.Version != 1:
				t.Errorf("event %d of %s: %s version %d, want %s", w.sequence, w.user, e.Type, e.Version, w.typ)
			}
			if actor := deref(e.ActorID); actor != w.actor {
				t.Errorf("%s: actor %q, want %q", w.typ, actor, w.actor)
			}
			if fmt.Sprint(e.Data) != fmt.Sprint(w.data) {
				t.Errorf("%s: data %v, want %v", w.typ, e.Data, w.data)
			}
			if g.Headers["correlation_id"] != w.requestID {
				t.Errorf("%s: correlation_id %q, want the request's %q", w.typ, g.Headers["correlation_id"], w.requestID)
			}
		}
		ids := map[string]bool{}
		for _, g := range got {
			ids[g.Event.EventID] = true
		}
		if len(ids) != len(want)+1 {
			t.Errorf("%d distinct event ids for %d events", len(ids), len(want)+1)
		}
		// Nothing more: the no-ops and the failures published nothing, and in
		// normal running nothing was published twice.
		reader.nothingMore(t)
		if n := reader.duplicates(); n > 0 {
			t.Errorf("%d events delivered twice", n)
		}
	})
}

// The super admin the command line created: user.created, with no actor, and the
// command line's own correlation id.
func assertCreatedOnTheCommandLine(t *testing.T, g received, rootID string) {
	t.Helper()
	e := g.Event
	if e.Type != "user.created" || e.UserID != rootID || e.Sequence != 1 || e.ActorID != nil ||
		fmt.Sprint(e.Data) != fmt.Sprint(map[string]any{"username": "root.events", "role": "super_admin"}) {
		t.Errorf("first event %s, want the super admin's user.created with no actor", g.Payload)
	}
	if !correlationIDPattern.MatchString(g.Headers["correlation_id"]) {
		t.Errorf("command line event's correlation_id %q", g.Headers["correlation_id"])
	}
}

// assertBrokerHeaders checks what each broker carries besides the payload: the
// event id where the broker deduplicates or identifies messages, and the type.
func assertBrokerHeaders(t *testing.T, broker string, g received) {
	t.Helper()
	id := g.Event.EventID
	switch broker {
	case "nats":
		if g.Headers["Nats-Msg-Id"] != id || g.Headers["Content-Type"] != "application/json" {
			t.Errorf("NATS headers %v, want Nats-Msg-Id %s and Content-Type application/json", g.Headers, id)
		}
	case "amqp":
		if g.Headers["message_id"] != id || g.Headers["content_type"] != "application/json" ||
			g.Headers["type"] != g.Event.Type || g.Headers["delivery_mode"] != "2" {
			t.Errorf("AMQP properties %v, want message_id %s, application/json, type %s, persistent", g.Headers, id, g.Event.Type)
		}
	}
	for k := range g.Headers {
		if len(k) > 10 && k[:10] == "_watermill" {
			t.Errorf("Watermill's own header %q reached the broker", k)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// A broker that is down at start or goes away later costs the API nothing: requests
// succeed, /readyz stays 200, a warning says events wait, and once the broker is
// back every event reaches it, in order. (An event whose confirmation the outage
// cut off may arrive twice, as at-least-once allows; the reader drops it by id.)
func TestBrokerOutageLosesNothing(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, b brokerUnderTest) {
		env, reader := b.setUp(t)
		proxy := brokerProxy(t, env)
		env["APP_EVENTS_POLL_INTERVAL"] = "20ms"
		env["APP_DATABASE_URL"] = pgtest.NewURL(t)

		first, app := startServiceApp(t, env)
		reader.listen(t)
		first.superAdmin("root.outage")
		reader.read(t, 1)

		// The broker goes away.
		proxy.Cut()
		root := first.loggedIn("root.outage")
		userID := root.createUser("user.outage", "user")
		toggleAdmin(t, root, userID, 4)
		assertStatus(t, root.do("GET", "/readyz", nil), http.StatusOK, "")
		waitFor(t, "a warning that events wait", func() bool {
			return first.Logs.FilterMessage("events wait in the outbox: their destination is unavailable").Len() > 0
		})
		proxy.Restore()
		assertSequences(t, reader.read(t, 5), userID, 1, 2, 3, 4, 5)

		// The service restarts while the broker is down.
		proxy.Cut()
		app.RequireStop()
		second := startService(t, env)
		root = second.loggedIn("root.outage")
		toggleAdmin(t, root, userID, 2)
		assertStatus(t, root.do("GET", "/readyz", nil), http.StatusOK, "")
		proxy.Restore()
		assertSequences(t, reader.read(t, 2), userID, 6, 7)
		reader.nothingMore(t)
	})
}

// brokerProxy puts a proxy the test can cut between the service and its broker.
func brokerProxy(t *testing.T, env map[string]string) *brokertest.Proxy {
	t.Helper()
	if url, ok := env["APP_EVENTS_NATS_URL"]; ok {
		proxy, through := brokertest.ViaProxy(t, url, "4222")
		env["APP_EVENTS_NATS_URL"] = through
		return proxy
	}
	proxy, through := brokertest.ViaProxy(t, env["APP_EVENTS_AMQP_URL"], "5672")
	env["APP_EVENTS_AMQP_URL"] = through
	return proxy
}

// toggleAdmin grants and revokes admin n times in turn, starting from a plain
// user: n role changes. An even n leaves a plain user again.
func toggleAdmin(t *testing.T, root *client, userID string, n int) {
	t.Helper()
	for i := range n {
		method := "PUT"
		if i%2 == 1 {
			method = "DELETE"
		}
		assertStatus(t, root.do(method, "/api/v1/users/"+userID+"/roles/admin", nil), http.StatusNoContent, "")
	}
}

func assertSequences(t *testing.T, got []received, userID string, want ...int64) {
	t.Helper()
	for i, g := range got {
		if g.Event.UserID != userID || g.Event.Sequence != want[i] {
			t.Errorf("event %d: %s of %s, sequence %d; want sequence %d of %s", i, g.Event.Type, g.Event.UserID, g.Event.Sequence, want[i], userID)
		}
	}
}

// Two instances on one database and one broker: each event reaches the broker
// once, and each inactivation's session cleanup runs once.
func TestTwoInstancesPublishEachEventOnce(t *testing.T) {
	t.Parallel()
	// RabbitMQ, which deduplicates nothing: a second publish would arrive.
	b := brokers[1]
	env, reader := b.setUp(t)
	env["APP_EVENTS_POLL_INTERVAL"] = "20ms"
	env["APP_DATABASE_URL"] = pgtest.NewURL(t)
	one := startService(t, env)
	two := startService(t, env)
	reader.listen(t)

	one.superAdmin("root.twice")
	roots := []*client{one.loggedIn("root.twice"), two.loggedIn("root.twice")}
	const users = 10
	for i := range users {
		root := roots[i%2]
		id := root.createUser(fmt.Sprintf("user.twice%d", i), "user")
		two.loggedIn(fmt.Sprintf("user.twice%d", i))
		assertStatus(t, roots[(i+1)%2].do("DELETE", "/api/v1/users/"+id+"/activation", nil), http.StatusNoContent, "")
	}
	reader.read(t, 1+2*users)
	reader.nothingMore(t)
	if n := reader.duplicates(); n > 0 {
		t.Errorf("%d events published twice", n)
	}
	waitFor(t, "every session row to be deleted", func() bool {
		var n int
		err := one.DB.NewRaw("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE NOT u.is_active").Scan(t.Context(), &n)
		return err == nil && n == 0
	})
	handled := 0
	for _, s := range []*service{one, two} {
		for _, e := range s.Logs.FilterMessage("event handled").All() {
			if e.ContextMap()["consumer_group"] == groupEndSessions {
				handled++
			}
		}
	}
	if handled != users {
		t.Errorf("the session cleanup ran %d times for %d inactivations", handled, users)
	}
}
