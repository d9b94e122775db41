package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/example/accounts/domain"
)

// Metadata keys every event message carries. They travel with the event from the
// outbox to its handlers and to the broker's headers.
const (
	// MetadataCorrelationID is the id of the request that caused the change.
	MetadataCorrelationID = "correlation_id"
	// MetadataEventType is the event's type, so that a handler can skip the events
	// it does not care about without decoding them.
	MetadataEventType = "event_type"
	// MetadataUserID is the user the event is about, so that forwarding can keep
	// one user's events in order without decoding them.
	MetadataUserID = "user_id"
)

// timestampLayout is RFC 3339 in UTC with exactly six fractional digits, the form
// of every timestamp the service publishes (time.RFC3339Nano would trim zeros).
const timestampLayout = "2006-01-02T15:04:05.000000Z"

// envelope is an event on the wire: the JSON that other services receive. Its
// shape is the public contract described by the AsyncAPI document.
type envelope struct {
	EventID    string           `json:"event_id"`
	Type       domain.EventType `json:"type"`
	Version    int              `json:"version"`
	OccurredAt string           `json:"occurred_at"`
	UserID     string           `json:"user_id"`
	Sequence   int64            `json:"sequence"`
	ActorID    *string          `json:"actor_id"`
	Data       jsontext.Value   `json:"data"`
}

// Delivered is an event as a consumer receives it: with the id it was published
// under, which stays the same however often it is delivered.
type Delivered struct {
	ID    string
	Event domain.Event
}

// newMessage gives e a new event id (a UUIDv7, so ids sort by time) and turns it
// into the message the outbox stores, carrying ctx's correlation id and the event
// type.
func newMessage(ctx context.Context, e domain.Event) (*message.Message, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("outbox: event id: %w", err)
	}
	payload, err := Marshal(id.String(), e)
	if err != nil {
		return nil, err
	}
	msg := message.NewMessage(id.String(), payload)
	// Every event names what caused it; a change made with no request around it
	// (none is known today) gets an id of its own rather than none.
	cid := domain.CorrelationID(ctx)
	if cid == "" {
		cid = domain.NewCorrelationID()
	}
	msg.Metadata.Set(MetadataCorrelationID, cid)
	msg.Metadata.Set(MetadataEventType, string(e.Type()))
	msg.Metadata.Set(MetadataUserID, e.UserID)
	msg.SetContext(ctx)
	return msg, nil
}

// Marshal renders event e, published as id, as its wire JSON.
func Marshal(id string, e domain.Event) ([]byte, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("outbox: %s data: %w", e.Type(), err)
	}
	env := envelope{
		EventID:    id,
		Type:       e.Type(),
		Version:    e.Data.SchemaVersion(),
		OccurredAt: e.OccurredAt.UTC().Format(timestampLayout),
		UserID:     e.UserID,
		Sequence:   e.Sequence,
		Data:       data,
	}
	if e.ActorID != "" {
		env.ActorID = &e.ActorID
	}
	return json.Marshal(env)
}

// Unmarshal reads wire JSON back into the event and its id. It is strict, like the
// contract: a member missing, unknown or of the wrong type, an unknown type or a
// version this code does not know is an error, never a guess.
func Unmarshal(payload []byte) (Delivered, error) {
	var env envelope
	if err := json.Unmarshal(payload, &env, json.RejectUnknownMembers(true)); err != nil {
		return Delivered{}, fmt.Errorf("outbox: event: %w", err)
	}
	decode, ok := decoders[env.Type]
	if !ok {
		return Delivered{}, fmt.Errorf("outbox: unknown event type %q", env.Type)
	}
	if env.Data == nil || env.EventID == "" || env.UserID == "" {
		return Delivered{}, fmt.Errorf("outbox: %s event %q lacks its id, user or data", env.Type, env.EventID)
	}
	data, err := decode(env.Data)
	if err != nil {
		return Delivered{}, fmt.Errorf("outbox: %s data: %w", env.Type, err)
	}
	if env.Version != data.SchemaVersion() {
		return Delivered{}, fmt.Errorf("outbox: %s version %d, want %d", env.Type, env.Version, data.SchemaVersion())
	}
	at, err := time.Parse(timestampLayout, env.OccurredAt)
	if err != nil {
		return Delivered{}, fmt.Errorf("outbox: %s occurred_at: %w", env.Type, err)
	}
	e := domain.Event{UserID: env.UserID, Sequence: env.Sequence, OccurredAt: at, Data: data}
	if env.ActorID != nil {
		e.ActorID = *env.ActorID
	}
	return Delivered{ID: env.EventID, Event: e}, nil
}

// decoders reads the data of each event type into its domain type.
var decoders = map[domain.EventType]func(jsontext.Value) (domain.EventData, error){
	domain.EventUserSignedUp:        decodeData[domain.UserSignedUp],
	domain.EventUserCreated:         decodeData[domain.UserCreated],
	domain.EventUserInactivated:     decodeData[domain.UserInactivated],
	domain.EventUserReactivated:     decodeData[domain.UserReactivated],
	domain.EventUserRoleChanged:     decodeData[domain.UserRoleChanged],
	domain.EventUserPasswordChanged: decodeData[domain.UserPasswordChanged],
}

func decodeData[T domain.EventData](v jsontext.Value) (domain.EventData, error) {
	var d T
	err := json.Unmarshal(v, &d, json.RejectUnknownMembers(true))
	return d, err
}
