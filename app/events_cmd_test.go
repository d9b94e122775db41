package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/wmlog"
	"github.com/example/accounts/domain"
)

// An operator lists the events a consumer group parked, and replays them once the
// cause is mended; the replay reaches that group only.
func TestEventsParkedAndReplay(t *testing.T) {
	s := startService(t, map[string]string{"APP_EVENTS_POLL_INTERVAL": "20ms"})
	env := map[string]string{"APP_DATABASE_URL": s.Config.Database.URL}

	// A reaction that fails until it is mended, beside the service's own groups.
	var mended atomic.Bool
	var handled atomic.Int32
	r, err := outbox.NewRouter(s.DB.DB, outbox.Config{
		PollInterval: 20 * time.Millisecond,
		Retry:        outbox.RetryConfig{MaxRetries: 1, InitialInterval: time.Millisecond},
	}, zap.NewNop(), wmlog.New(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	err = r.Add(outbox.HandleEvents("flaky_reaction", func(context.Context, domain.Event) error {
		if !mended.Load() {
			return errors.New("the flaky reaction is broken")
		}
		handled.Add(1)
		return nil
	}))
	if err != nil || r.Start() != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })

	r0 := s.client().do("POST", "/api/v1/account/signup", map[string]string{"username": "parked.user", "password": testPassword},
		"X-Request-Id", "signup-to-park")
	assertStatus(t, r0, http.StatusCreated, "")

	var parked outbox.Parked
	waitFor(t, "the event to be parked", func() bool {
		code, out, _ := cli(t, env, "events", "parked")
		return code == 0 && json.Unmarshal([]byte(out), &parked) == nil
	})
	if parked.Group != "flaky_reaction" || parked.Type != "user.signed_up" || parked.Reason != "the flaky reaction is broken" ||
		parked.CorrelationID != "signup-to-park" || parked.UserID != r0.JSON(t)["id"] || parked.Sequence != 1 {
		t.Errorf("parked %+v", parked)
	}

	mended.Store(true)
	code, out, errOut := cli(t, env, "events", "replay", parked.EventID)
	if code != 0 || out != "replayed 1 events\n" {
		t.Fatalf("replay: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	waitFor(t, "the replayed event to be handled", func() bool { return handled.Load() == 1 })
	if code, out, _ := cli(t, env, "events", "parked"); code != 0 || out != "" {
		t.Errorf("parked after the replay: exit %d, %q", code, out)
	}
	if code, out, _ := cli(t, env, "events", "replay", "--all"); code != 0 || out != "replayed 0 events\n" {
		t.Errorf("replay --all with nothing parked: exit %d, %q", code, out)
	}

	for _, args := range [][]string{{"events"}, {"events", "nope"}, {"events", "replay"}, {"events", "replay", "not-an-id"}, {"events", "parked", "x"}} {
		if code, _, errOut := cli(t, env, args...); code != 2 || !strings.Contains(errOut, "usage") {
			t.Errorf("%v: exit %d, stderr %q; want the usage", args, code, errOut)
		}
	}
}

// events tail prints what another service subscribed to the broker receives: one
// JSON line per event, with its headers.
func TestEventsTail(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, b brokerUnderTest) {
		s, _ := serviceOn(t, b)
		s.superAdmin("root.tail")
		root := s.loggedIn("root.tail")

		ctx, cancel := context.WithCancel(t.Context())
		out := &lockedBuffer{}
		done := make(chan error, 1)
		go func() { done <- tailEvents(ctx, s.Config, zap.NewNop(), out) }()
		// The tail follows from now on: keep changing the user until a change of
		// theirs shows (an earlier event, the super admin's, may show too).
		type line struct {
			Headers map[string]string `json:"headers"`
			Event   struct {
				Type   string `json:"type"`
				UserID string `json:"user_id"`
			} `json:"event"`
		}
		userID := root.createUser("tailed.user", "user")
		var found *line
		waitFor(t, "an event of the user in the tail", func() bool {
			root.do("PUT", "/api/v1/users/"+userID+"/roles/admin", nil)
			root.do("DELETE", "/api/v1/users/"+userID+"/roles/admin", nil)
			for text := range strings.Lines(out.String()) {
				var l line
				if err := json.Unmarshal([]byte(text), &l); err != nil {
					t.Fatalf("tail printed %q: %v", text, err)
				}
				if l.Event.UserID == userID {
					found = &l
					return true
				}
			}
			return false
		})
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tail: %v", err)
		}
		if found.Headers["correlation_id"] == "" || found.Event.Type == "" {
			t.Errorf("tail printed %s", out.String())
		}
	})
}
