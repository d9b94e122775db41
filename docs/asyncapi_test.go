package docs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/example/accounts/domain"
)

// specSchemaSHA256 is the digest of schemas/3.0.0.json in @asyncapi/specs 6.11.1
// (README.md). The file must stay byte for byte the official one.
const specSchemaSHA256 = "d4571a420e6ffb7fcc7066c95a6db1202f299a3c51daa103d0706bf30f95e626"

func TestSpecSchemaIsTheOfficialFile(t *testing.T) {
	sum := sha256.Sum256(specSchema)
	if got := hex.EncodeToString(sum[:]); got != specSchemaSHA256 {
		t.Errorf("asyncapi-3.0.0.schema.json has SHA-256 %s, want %s: it must be the unmodified file of @asyncapi/specs", got, specSchemaSHA256)
	}
	var root struct {
		ID     string `json:"$id"`
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(specSchema, &root); err != nil {
		t.Fatal(err)
	}
	if root.ID != "http://asyncapi.com/definitions/3.0.0/asyncapi.json" {
		t.Errorf("$id = %q, want the AsyncAPI 3.0.0 schema", root.ID)
	}
}

func TestDocumentConformsToAsyncAPI300(t *testing.T) {
	if err := ValidateAsyncAPI(); err != nil {
		t.Fatal(err)
	}
}

func TestAsyncAPIReturnsACopy(t *testing.T) {
	doc := AsyncAPI()
	if !json.Valid(doc) {
		t.Fatal("AsyncAPI() is not JSON")
	}
	doc[0] = 'x'
	if AsyncAPI()[0] != '{' {
		t.Error("changing what AsyncAPI() returned changed the embedded document")
	}
}

// The compiler never fetches: a $ref to anything not embedded fails to compile.
func TestCompilerLoadsNothing(t *testing.T) {
	for _, ref := range []string{
		"https://asyncapi.com/definitions/3.0.0/asyncapi.json",
		"http://asyncapi.com/definitions/9.9.9/info.json",
		"file:///etc/hostname",
	} {
		c := newCompiler()
		if err := c.AddResource("urn:test:schema.json", map[string]any{"$ref": ref}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Compile("urn:test:schema.json")
		var loadErr *jsonschema.LoadURLError
		if !errors.As(err, &loadErr) {
			t.Errorf("$ref %s: compile error %v, want a LoadURLError", ref, err)
		}
	}
}

// brokenDocument returns a copy of the document, decoded, for a test to break.
func brokenDocument(t *testing.T, breakIt func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(document, &doc); err != nil {
		t.Fatal(err)
	}
	breakIt(doc)
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func obj(v any, path ...string) map[string]any {
	m, _ := lookup(v, path...).(map[string]any)
	return m
}

func TestBrokenDocumentsFail(t *testing.T) {
	cases := []struct {
		name string
		// bySchema: the official schema itself refuses it, rather than the checks of
		// references that validateDocument adds.
		bySchema bool
		breakIt  func(doc map[string]any)
	}{
		{"asyncapi version 2.0.0", true, func(doc map[string]any) {
			doc["asyncapi"] = "2.0.0"
		}},
		{"no info title", true, func(doc map[string]any) {
			delete(obj(doc, "info"), "title")
		}},
		{"operation action of AsyncAPI 2", true, func(doc map[string]any) {
			obj(doc, "operations", "publishUserEventsNats")["action"] = "publish"
		}},
		{"server without protocol", true, func(doc map[string]any) {
			delete(obj(doc, "servers", "rabbitmq"), "protocol")
		}},
		{"unknown member of a message", true, func(doc map[string]any) {
			obj(doc, "components", "messages", "user.created")["messageId"] = "userCreated"
		}},
		// Only a schema whose binding definitions were all resolved can see this.
		{"AMQP exchange of an unknown type", true, func(doc map[string]any) {
			obj(doc, "channels", "userEventsRabbitmq", "bindings", "amqp", "exchange")["type"] = "broadcast"
		}},
		{"AMQP delivery mode 3", true, func(doc map[string]any) {
			obj(doc, "operations", "publishUserEventsRabbitmq", "bindings", "amqp")["deliveryMode"] = 3
		}},
		{"channel that an operation references removed", false, func(doc map[string]any) {
			delete(obj(doc, "channels"), "userEventsNats")
		}},
		{"payload schema that does not exist", false, func(doc map[string]any) {
			obj(doc, "components", "messages", "user.reactivated", "payload")["$ref"] = "#/components/schemas/UserRevived"
		}},
		{"operation lists a message of another channel", false, func(doc map[string]any) {
			op := obj(doc, "operations", "publishUserEventsNats")
			op["messages"] = []any{map[string]any{"$ref": "#/channels/userEventsRabbitmq/messages/user.created"}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateDocument(brokenDocument(t, tc.breakIt))
			if err == nil {
				t.Fatal("a broken document validated")
			}
			var verr *jsonschema.ValidationError
			if got := errors.As(err, &verr); got != tc.bySchema {
				t.Errorf("refused by the official schema: %v, want %v; error: %v", got, tc.bySchema, err)
			}
		})
	}
}

func TestEventTypesAreTheDomainsEvents(t *testing.T) {
	got, err := EventTypes()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, typ := range domain.EventTypes() {
		want = append(want, string(typ))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("document defines messages %v, the domain has events %v", got, want)
	}
}

// Every message of the document, as a test sees it.
type message struct {
	Name     string `json:"name"`
	Examples []struct {
		Name    string            `json:"name"`
		Headers map[string]string `json:"headers"`
		Payload json.RawMessage   `json:"payload"`
	} `json:"examples"`
}

func documentMessages(t *testing.T) map[string]message {
	t.Helper()
	var doc struct {
		Components struct {
			Messages map[string]message `json:"messages"`
		} `json:"components"`
	}
	if err := json.Unmarshal(document, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Messages
}

func TestEveryExampleValidates(t *testing.T) {
	for key, msg := range documentMessages(t) {
		if msg.Name != key {
			t.Errorf("message %q is named %q; the name is the event type, and so is the key", key, msg.Name)
		}
		if len(msg.Examples) == 0 {
			t.Errorf("message %q has no example", key)
		}
		for _, ex := range msg.Examples {
			var env struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(ex.Payload, &env); err != nil {
				t.Fatal(err)
			}
			if env.Type != key {
				t.Errorf("example %q of message %q has type %q", ex.Name, key, env.Type)
			}
			if err := ValidateEvent(ex.Payload); err != nil {
				t.Errorf("example %q of message %q: %v", ex.Name, key, err)
			}
			if err := ValidateHeaders(key, ex.Headers); err != nil {
				t.Errorf("headers of example %q of message %q: %v", ex.Name, key, err)
			}
		}
	}
}

// validEvents holds one valid payload per event type, for the tests to break.
func validEvents() map[string]map[string]any {
	envelope := func(typ string, data map[string]any) map[string]any {
		return map[string]any{
			"event_id":    "01a20c91-a07b-7e65-bf14-08d2a9c7e3f0",
			"type":        typ,
			"version":     1,
			"occurred_at": "2026-11-24T08:00:00.123456Z",
			"user_id":     "01a1f2d0-0039-7e52-b3a6-41c9d07f8e2a",
			"sequence":    7,
			"actor_id":    "0190e3b7-5a21-7f4c-8b2d-93e0c6a7f158",
			"data":        data,
		}
	}
	return map[string]map[string]any{
		"user.signed_up":        envelope("user.signed_up", map[string]any{"username": "maria.k", "role": "user"}),
		"user.created":          envelope("user.created", map[string]any{"username": "Super_Admin-1", "role": "super_admin"}),
		"user.inactivated":      envelope("user.inactivated", map[string]any{}),
		"user.reactivated":      envelope("user.reactivated", map[string]any{}),
		"user.role_changed":     envelope("user.role_changed", map[string]any{"from": "admin", "to": "user"}),
		"user.password_changed": envelope("user.password_changed", map[string]any{"by": "admin"}),
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestValidateEventAccepts(t *testing.T) {
	for typ, ev := range validEvents() {
		if err := ValidateEvent(marshal(t, ev)); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	accepted := map[string]func(ev map[string]any){
		"actor_id null (signup, command line)": func(ev map[string]any) { ev["actor_id"] = nil },
		"first event of a user older than events, above 1": func(ev map[string]any) {
			ev["sequence"] = 42
		},
		"user id of another UUID version": func(ev map[string]any) {
			ev["user_id"] = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
		},
		"username of 20 characters": func(ev map[string]any) {
			ev["type"] = "user.created"
			ev["data"] = map[string]any{"username": "abcdefghij.-_klmnopq", "role": "admin"}
		},
	}
	for name, change := range accepted {
		ev := validEvents()["user.inactivated"]
		change(ev)
		if err := ValidateEvent(marshal(t, ev)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateEventRefuses(t *testing.T) {
	type breaker = func(events map[string]map[string]any) any
	// change returns the event of type typ with one change made by f.
	change := func(typ string, f func(ev map[string]any)) breaker {
		return func(events map[string]map[string]any) any {
			ev := events[typ]
			f(ev)
			return ev
		}
	}
	set := func(typ, member string, v any) breaker {
		return change(typ, func(ev map[string]any) { ev[member] = v })
	}
	setData := func(typ, member string, v any) breaker {
		return change(typ, func(ev map[string]any) { ev["data"].(map[string]any)[member] = v })
	}
	cases := map[string]breaker{
		"unknown type":                      set("user.inactivated", "type", "user.deleted"),
		"type of another case":              set("user.inactivated", "type", "User.Inactivated"),
		"type not a string":                 set("user.inactivated", "type", 3),
		"extra envelope member":             set("user.inactivated", "tenant", "acme"),
		"extra data member":                 setData("user.password_changed", "at", "home"),
		"extra member in empty data":        setData("user.inactivated", "reason", "spam"),
		"extra member in signup data":       setData("user.signed_up", "email", "m@example.com"),
		"occurred_at without fraction":      set("user.inactivated", "occurred_at", "2026-11-24T08:00:00Z"),
		"occurred_at with three digits":     set("user.inactivated", "occurred_at", "2026-11-24T08:00:00.123Z"),
		"occurred_at with nine digits":      set("user.inactivated", "occurred_at", "2026-11-24T08:00:00.123456789Z"),
		"occurred_at not UTC":               set("user.inactivated", "occurred_at", "2026-11-24T09:00:00.123456+01:00"),
		"occurred_at as +00:00":             set("user.inactivated", "occurred_at", "2026-11-24T08:00:00.123456+00:00"),
		"occurred_at lowercase z":           set("user.inactivated", "occurred_at", "2026-11-24T08:00:00.123456z"),
		"occurred_at not a date":            set("user.inactivated", "occurred_at", "2026-13-45T08:00:00.123456Z"),
		"occurred_at a number":              set("user.inactivated", "occurred_at", 1795507200),
		"event_id not a UUID":               set("user.inactivated", "event_id", "evt-42"),
		"event_id UUID of 31 digits":        set("user.inactivated", "event_id", "01a20c91-a07b-7e65-bf14-08d2a9c7e3f"),
		"event_id uppercase":                set("user.inactivated", "event_id", "01A20C91-A07B-7E65-BF14-08D2A9C7E3F0"),
		"event_id without hyphens":          set("user.inactivated", "event_id", "01a20c91a07b7e65bf1408d2a9c7e3f0"),
		"event_id UUID v4":                  set("user.inactivated", "event_id", "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"),
		"user_id not a UUID":                set("user.inactivated", "user_id", "42"),
		"user_id null":                      set("user.inactivated", "user_id", nil),
		"actor_id not a UUID":               set("user.inactivated", "actor_id", "admin"),
		"actor_id empty":                    set("user.inactivated", "actor_id", ""),
		"sequence 0":                        set("user.inactivated", "sequence", 0),
		"sequence negative":                 set("user.inactivated", "sequence", -1),
		"sequence fractional":               set("user.inactivated", "sequence", 1.5),
		"sequence as a string":              set("user.inactivated", "sequence", "7"),
		"version 2":                         set("user.inactivated", "version", 2),
		"version as a string":               set("user.inactivated", "version", "1"),
		"data null":                         set("user.inactivated", "data", nil),
		"data an array":                     set("user.inactivated", "data", []any{}),
		"signup with role admin":            setData("user.signed_up", "role", "admin"),
		"created with an unknown role":      setData("user.created", "role", "owner"),
		"username too short":                setData("user.created", "username", "mari"),
		"username too long":                 setData("user.created", "username", "abcdefghijklmnopqrstu"),
		"username with a space":             setData("user.signed_up", "username", "maria k"),
		"username not ASCII":                setData("user.signed_up", "username", "maría.k"),
		"role change to an unknown role":    setData("user.role_changed", "to", "root"),
		"password changed by other":         setData("user.password_changed", "by", "other"),
		"password changed without by":       change("user.password_changed", func(ev map[string]any) { ev["data"] = map[string]any{} }),
		"role_changed with password data":   set("user.role_changed", "data", map[string]any{"by": "self"}),
		"inactivated with role change data": set("user.inactivated", "data", map[string]any{"from": "user", "to": "admin"}),
		"password_changed with signup data": set("user.password_changed", "data", map[string]any{"username": "maria.k", "role": "user"}),
		"signed_up with empty data":         set("user.signed_up", "data", map[string]any{}),
		"not an object":                     func(map[string]map[string]any) any { return []any{"user.inactivated"} },
		"a string":                          func(map[string]map[string]any) any { return "user.inactivated" },
		"no type":                           change("user.inactivated", func(ev map[string]any) { delete(ev, "type") }),
	}
	for _, member := range []string{"event_id", "type", "version", "occurred_at", "user_id", "sequence", "actor_id", "data"} {
		for _, typ := range []string{"user.signed_up", "user.inactivated"} {
			cases["missing "+member+" in "+typ] = change(typ, func(ev map[string]any) { delete(ev, member) })
		}
	}
	for _, member := range []string{"username", "role"} {
		cases["missing data "+member] = change("user.created", func(ev map[string]any) {
			delete(ev["data"].(map[string]any), member)
		})
	}
	for name, breakIt := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			payload := marshal(t, breakIt(validEvents()))
			if err := ValidateEvent(payload); err == nil {
				t.Errorf("ValidateEvent accepted %s", payload)
			}
		})
	}
	for name, payload := range map[string]string{
		"not JSON":       `{"type":"user.inactivated"`,
		"trailing data":  `{}{}`,
		"empty":          ``,
		"unknown type":   `{"type":"user.renamed"}`,
		"type of proto":  `{"type":"__proto__"}`,
		"type of prefix": `{"type":"user."}`,
	} {
		if err := ValidateEvent([]byte(payload)); err == nil {
			t.Errorf("%s: ValidateEvent accepted %q", name, payload)
		}
	}
}

func TestValidateEventSaysWhyUnknown(t *testing.T) {
	err := ValidateEvent([]byte(`{"type":"user.deleted"}`))
	if err == nil || !strings.Contains(err.Error(), `unknown event type "user.deleted"`) {
		t.Errorf("error %v, want one naming the unknown type", err)
	}
}

func TestValidateHeaders(t *testing.T) {
	ok := []map[string]string{
		{"correlation_id": "K7QF3ZP2M4XW6HNTB5RJ2DLC4E"},
		{"correlation_id": "a"},
		{"correlation_id": strings.Repeat("x", 128)},
		{"correlation_id": "req-1.A_b", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "congo=t61rcWkgMzE"},
		{"correlation_id": "req-1", "Nats-Msg-Id": "01a20c91-a07b-7e65-bf14-08d2a9c7e3f0", "Content-Type": "application/json"},
	}
	for _, h := range ok {
		if err := ValidateHeaders("user.created", h); err != nil {
			t.Errorf("%v: %v", h, err)
		}
	}
	bad := []map[string]string{
		nil,
		{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"correlation_id": ""},
		{"correlation_id": strings.Repeat("x", 129)},
		{"correlation_id": "req 1"},
		{"correlation_id": "req/1"},
		{"correlation_id": "req-1", "traceparent": "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"},
		{"correlation_id": "req-1", "traceparent": "not a traceparent"},
	}
	for _, h := range bad {
		if err := ValidateHeaders("user.created", h); err == nil {
			t.Errorf("ValidateHeaders accepted %v", h)
		}
	}
	if err := ValidateHeaders("user.deleted", map[string]string{"correlation_id": "a"}); err == nil {
		t.Error("ValidateHeaders accepted an unknown event type")
	}
}

// The schemas are compiled once and shared; validating from many goroutines at once
// is safe (run with -race).
func TestValidateConcurrently(t *testing.T) {
	events := validEvents()
	var wg sync.WaitGroup
	for _, typ := range slices.Sorted(maps.Keys(events)) {
		payload := marshal(t, events[typ])
		for range 4 {
			wg.Go(func() {
				if err := ValidateEvent(payload); err != nil {
					t.Errorf("%s: %v", typ, err)
				}
				if err := ValidateAsyncAPI(); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}
