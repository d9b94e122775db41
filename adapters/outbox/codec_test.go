package outbox_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/docs"
	"github.com/example/accounts/domain"
)

const (
	eventID = "019ad3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
	userID  = "0190b3a2-0000-7000-8000-000000000001"
	actorID = "0190b3a2-0000-7000-8000-000000000002"
)

var at = time.Date(2026, 11, 24, 8, 0, 0, 120000000, time.UTC)

// The wire form of every event type: exact, because other services parse it.
func TestMarshal(t *testing.T) {
	tests := []struct {
		data    domain.EventData
		actorID string
		want    string
	}{
		{domain.UserSignedUp{Username: "alice", Role: domain.RoleUser}, "",
			`"type":"user.signed_up","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":1,"actor_id":null,"data":{"username":"alice","role":"user"}}`},
		{domain.UserCreated{Username: "bobby", Role: domain.RoleAdmin}, actorID,
			`"type":"user.created","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":1,"actor_id":"` + actorID + `","data":{"username":"bobby","role":"admin"}}`},
		{domain.UserInactivated{}, actorID,
			`"type":"user.inactivated","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":1,"actor_id":"` + actorID + `","data":{}}`},
		{domain.UserReactivated{}, actorID,
			`"type":"user.reactivated","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":1,"actor_id":"` + actorID + `","data":{}}`},
		{domain.UserRoleChanged{From: domain.RoleUser, To: domain.RoleAdmin}, actorID,
			`"type":"user.role_changed","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":1,"actor_id":"` + actorID + `","data":{"from":"user","to":"admin"}}`},
		{domain.UserPasswordChanged{By: domain.ChangedBySelf}, userID,
			`"type":"user.password_changed","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":1,"actor_id":"` + userID + `","data":{"by":"self"}}`},
	}
	seen := map[domain.EventType]bool{}
	for _, tc := range tests {
		t.Run(string(tc.data.EventType()), func(t *testing.T) {
			e := domain.Event{UserID: userID, Sequence: 1, ActorID: tc.actorID, OccurredAt: at.In(time.FixedZone("X", 3600)), Data: tc.data}
			got, err := outbox.Marshal(eventID, e)
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"event_id":"` + eventID + `",` + tc.want; string(got) != want {
				t.Errorf("Marshal =\n %s\nwant\n %s", got, want)
			}
			// What other services receive is what the AsyncAPI document promises.
			if err := docs.ValidateEvent(got); err != nil {
				t.Errorf("the event breaks the AsyncAPI document: %v", err)
			}
			back, err := outbox.Unmarshal(got)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			e.OccurredAt = at
			if back.ID != eventID || !reflect.DeepEqual(back.Event, e) {
				t.Errorf("Unmarshal = %+v, want %s %+v", back, eventID, e)
			}
		})
		seen[tc.data.EventType()] = true
	}
	for _, typ := range domain.EventTypes() {
		if !seen[typ] {
			t.Errorf("no wire test for %s", typ)
		}
	}
}

// Decoding is as strict as the contract: what the service did not write is refused,
// never half read.
func TestUnmarshalRefuses(t *testing.T) {
	valid := `{"event_id":"` + eventID + `","type":"user.role_changed","version":1,"occurred_at":"2026-11-24T08:00:00.120000Z","user_id":"` + userID + `","sequence":2,"actor_id":null,"data":{"from":"user","to":"admin"}}`
	if _, err := outbox.Unmarshal([]byte(valid)); err != nil {
		t.Fatalf("the valid event is refused: %v", err)
	}
	for name, payload := range map[string]string{
		"unknown type":         strings.Replace(valid, "user.role_changed", "user.deleted", 1),
		"unknown version":      strings.Replace(valid, `"version":1`, `"version":2`, 1),
		"unknown member":       strings.Replace(valid, `"sequence":2`, `"sequence":2,"extra":1`, 1),
		"unknown data member":  strings.Replace(valid, `"to":"admin"`, `"to":"admin","why":"x"`, 1),
		"another type's data":  strings.Replace(valid, `{"from":"user","to":"admin"}`, `{"by":"self"}`, 1),
		"duplicate member":     strings.Replace(valid, `"sequence":2`, `"sequence":2,"sequence":3`, 1),
		"no data":              strings.Replace(valid, `,"data":{"from":"user","to":"admin"}`, ``, 1),
		"no event id":          strings.Replace(valid, `"event_id":"`+eventID+`",`, ``, 1),
		"timestamp not in UTC": strings.Replace(valid, `08:00:00.120000Z`, `09:00:00.120000+01:00`, 1),
		"not an object":        `[]`,
	} {
		if _, err := outbox.Unmarshal([]byte(payload)); err == nil {
			t.Errorf("%s: accepted %s", name, payload)
		}
	}
}
