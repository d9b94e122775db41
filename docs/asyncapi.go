package docs

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// document is the AsyncAPI document of the user events.
//
//go:embed asyncapi.json
var document []byte

// specSchema is the official JSON Schema of AsyncAPI 3.0.0, bundled: every definition
// it refers to is inside it, each under its own $id.
//
//go:embed asyncapi-3.0.0.schema.json
var specSchema []byte

// documentURL is the base URL the event schemas are compiled under. It names no
// place that could be fetched: the document is always the embedded one.
const documentURL = "urn:accounts:docs:asyncapi.json"

// AsyncAPI returns the AsyncAPI 3.0.0 document of the user events (asyncapi.json). It
// is a copy, so a caller that changes it changes nothing here.
func AsyncAPI() []byte {
	return bytes.Clone(document)
}

// ValidateAsyncAPI checks the document against the official AsyncAPI 3.0.0 JSON
// Schema, and checks what that schema cannot: that every local $ref in the document
// points at something, and that each operation lists only messages of its own
// channel.
func ValidateAsyncAPI() error {
	return validateDocument(document)
}

// ValidateEvent checks one event payload, as published, against the document: it
// reads the payload's "type", finds the message of that name, and validates the
// payload against that message's payload schema, with format assertions on (uuid,
// date-time). A payload that is not a JSON object, has no string "type", or names a
// type the document does not define is refused.
func ValidateEvent(payload []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("docs: event payload is not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errors.New("docs: event payload is not a JSON object")
	}
	typ, ok := obj["type"].(string)
	if !ok {
		return errors.New(`docs: event payload has no string member "type"`)
	}
	msgs, err := eventSchemas()
	if err != nil {
		return err
	}
	msg, ok := msgs[typ]
	if !ok {
		return fmt.Errorf("docs: unknown event type %q", typ)
	}
	if err := msg.payload.Validate(v); err != nil {
		return fmt.Errorf("docs: %s event does not match its schema: %w", typ, err)
	}
	return nil
}

// ValidateHeaders checks the application headers of one event of the given type
// (correlation_id, and traceparent and tracestate when tracing is on) against that
// message's headers schema. Broker-specific headers such as Nats-Msg-Id may be in
// headers too: the schema allows them.
func ValidateHeaders(eventType string, headers map[string]string) error {
	msgs, err := eventSchemas()
	if err != nil {
		return err
	}
	msg, ok := msgs[eventType]
	if !ok {
		return fmt.Errorf("docs: unknown event type %q", eventType)
	}
	if msg.headers == nil {
		return fmt.Errorf("docs: message %q has no headers schema", eventType)
	}
	v := make(map[string]any, len(headers))
	for k, h := range headers {
		v[k] = h
	}
	if err := msg.headers.Validate(v); err != nil {
		return fmt.Errorf("docs: headers of %s event do not match their schema: %w", eventType, err)
	}
	return nil
}

// EventTypes lists the event types the document defines a message for, sorted.
func EventTypes() ([]string, error) {
	msgs, err := eventSchemas()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(msgs)), nil
}

// newCompiler returns a compiler that knows no resource but those added to it: its
// loader refuses every URL, so a $ref to anything not embedded fails instead of being
// downloaded (the default loader would read files, and an HTTP one would fetch). The
// dialect is draft-07, the base of both the AsyncAPI 3.0.0 JSON Schema and the
// AsyncAPI Schema Object, and formats are asserted.
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.UseLoader(offlineLoader{})
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	return c
}

// offlineLoader is a jsonschema.URLLoader that loads nothing.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not embedded in package docs, and schemas are never fetched", url)
}

// specValidator is the official AsyncAPI 3.0.0 schema, compiled once.
var specValidator = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(specSchema))
	if err != nil {
		return nil, fmt.Errorf("docs: asyncapi-3.0.0.schema.json: %w", err)
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("docs: asyncapi-3.0.0.schema.json is not a JSON object")
	}
	id, ok := root["$id"].(string)
	if !ok || id == "" {
		return nil, errors.New("docs: asyncapi-3.0.0.schema.json has no $id")
	}
	// One resource under the bundle's own $id. The compiler indexes every schema
	// inside it that has an $id of its own (each definition, the draft-07
	// meta-schema, the bindings), and resolves a $ref to one of those URLs inside
	// this resource before it would ask the loader.
	c := newCompiler()
	if err := c.AddResource(id, doc); err != nil {
		return nil, fmt.Errorf("docs: %w", err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("docs: compiling the AsyncAPI 3.0.0 schema: %w", err)
	}
	return sch, nil
})

// validateDocument is ValidateAsyncAPI for any document, so tests can show that a
// broken one fails.
func validateDocument(raw []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("docs: AsyncAPI document is not JSON: %w", err)
	}
	spec, err := specValidator()
	if err != nil {
		return err
	}
	if err := spec.Validate(doc); err != nil {
		return fmt.Errorf("docs: AsyncAPI document does not conform to AsyncAPI 3.0.0: %w", err)
	}
	if err := checkRefs(doc, doc, ""); err != nil {
		return err
	}
	return checkOperations(doc)
}

// checkRefs reports the first $ref under v that is not a local reference to a part of
// doc that exists. The document is self-contained by design, so a reference to
// anything else is a mistake too.
func checkRefs(doc, v any, at string) error {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			if _, err := resolvePointer(doc, ref); err != nil {
				return fmt.Errorf("docs: AsyncAPI document: $ref at %s: %w", pointerOrRoot(at), err)
			}
		}
		for _, k := range sortedKeys(v) {
			if err := checkRefs(doc, v[k], at+"/"+escapeToken(k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := checkRefs(doc, e, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOperations reports an operation that lists a message outside its channel's
// messages, which AsyncAPI 3 forbids.
func checkOperations(doc any) error {
	ops, _ := lookup(doc, "operations").(map[string]any)
	for _, name := range sortedKeys(ops) {
		op, _ := ops[name].(map[string]any)
		channel, _ := lookup(op, "channel", "$ref").(string)
		msgs, _ := op["messages"].([]any)
		for _, m := range msgs {
			ref, _ := lookup(m, "$ref").(string)
			if !strings.HasPrefix(ref, channel+"/messages/") {
				return fmt.Errorf("docs: AsyncAPI document: operation %q lists message %q, which is not one of its channel %q", name, ref, channel)
			}
		}
	}
	return nil
}

// eventMessage is one message of the document, compiled.
type eventMessage struct {
	payload *jsonschema.Schema
	headers *jsonschema.Schema // nil when the message declares no headers
}

// eventSchemas compiles the payload and headers schemas of every message in the
// document's components, once, keyed by message name (the event type).
var eventSchemas = sync.OnceValues(func() (map[string]eventMessage, error) {
	return compileMessages(document)
})

func compileMessages(raw []byte) (map[string]eventMessage, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("docs: asyncapi.json: %w", err)
	}
	c := newCompiler()
	// The document itself is the resource: the payload schemas and the $refs between
	// them ("#/components/schemas/…") are compiled where they stand in it.
	if err := c.AddResource(documentURL, doc); err != nil {
		return nil, fmt.Errorf("docs: %w", err)
	}
	comps, _ := lookup(doc, "components", "messages").(map[string]any)
	if len(comps) == 0 {
		return nil, errors.New("docs: asyncapi.json defines no messages in its components")
	}
	out := make(map[string]eventMessage, len(comps))
	for _, key := range sortedKeys(comps) {
		msg, ok := comps[key].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("docs: message %q is not an object", key)
		}
		name, ok := msg["name"].(string)
		if !ok || name == "" {
			return nil, fmt.Errorf("docs: message %q has no name", key)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("docs: two messages are named %q", name)
		}
		if _, ok := msg["payload"]; !ok {
			return nil, fmt.Errorf("docs: message %q has no payload", key)
		}
		at := documentURL + "#/components/messages/" + escapeToken(key)
		var m eventMessage
		if m.payload, err = c.Compile(at + "/payload"); err != nil {
			return nil, fmt.Errorf("docs: compiling the payload schema of %q: %w", name, err)
		}
		if _, ok := msg["headers"]; ok {
			if m.headers, err = c.Compile(at + "/headers"); err != nil {
				return nil, fmt.Errorf("docs: compiling the headers schema of %q: %w", name, err)
			}
		}
		out[name] = m
	}
	return out, nil
}

// resolvePointer returns the value a local reference ("#/a/b") points at in doc.
func resolvePointer(doc any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("%q is not a local reference", ref)
	}
	if ptr == "" {
		return doc, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("%q is not a JSON pointer", ref)
	}
	v := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("%q points at nothing", ref)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) || strconv.Itoa(i) != tok {
				return nil, fmt.Errorf("%q points at nothing", ref)
			}
			v = c[i]
		default:
			return nil, fmt.Errorf("%q points at nothing", ref)
		}
	}
	return v, nil
}

// lookup follows object members from v; nil when one is missing.
func lookup(v any, path ...string) any {
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[p]
	}
	return v
}

// escapeToken escapes one JSON pointer reference token (RFC 6901).
func escapeToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "the root"
	}
	return p
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
