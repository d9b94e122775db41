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
