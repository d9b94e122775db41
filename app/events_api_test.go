package main

import (
	"net/http"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An inactivated user's cookie is refused on the very next request; the session
// rows are deleted soon after, by the user.inactivated handler.
func TestInactivationEndsSessionsAtOnceAndDeletesTheirRows(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]string{"APP_EVENTS_POLL_INTERVAL": "20ms"})
	second := w.s.loggedIn("user0")

	r := w.admin.do("DELETE", "/api/v1/users/"+w.userID+"/activation", nil, "X-Request-Id", "inactivate-user0")
	assertStatus(t, r, http.StatusNoContent, "")
	assertStatus(t, w.user.do("GET", "/api/v1/account/me", nil), http.StatusUnauthorized, "unauthenticated")
	assertStatus(t, second.do("GET", "/api/v1/account/me", nil), http.StatusUnauthorized, "unauthenticated")
	waitFor(t, "the session rows to be deleted", func() bool { return w.s.sessionCount(w.userID) == 0 })
	if n := w.s.sessionCount(w.adminID); n != 1 {
		t.Errorf("the admin has %d sessions, want its own", n)
	}

	// The handler's log line names the request that caused the event.
	var logged bool
	for _, e := range w.s.Logs.FilterMessage("event handled").All() {
		ctx := e.ContextMap()
		logged = logged || ctx["consumer_group"] == groupEndSessions && ctx["correlation_id"] == "inactivate-user0" &&
			ctx["event_type"] == "user.inactivated"
	}
	if !logged {
		t.Error("no log line of the session cleanup with the request's correlation id")
	}
}

// Inactivate, then reactivate before the handler has run: the old sessions stay
// ended, and a session begun after the reactivation survives the late handler.
func TestReactivationBeforeTheHandlerRevivesNoSession(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]string{"APP_EVENTS_POLL_INTERVAL": "20ms"})

	// Hold the handler back: its consumer group cannot read the outbox while
	// another transaction holds the group's row.
	hold, err := w.s.DB.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback() }()
	if _, err := hold.ExecContext(t.Context(),
		`SELECT 1 FROM watermill_offsets_user_events WHERE consumer_group = ? FOR UPDATE`, groupEndSessions); err != nil {
		t.Fatal(err)
	}

	assertStatus(t, w.admin.do("DELETE", "/api/v1/users/"+w.userID+"/activation", nil), http.StatusNoContent, "")
	assertStatus(t, w.admin.do("PUT", "/api/v1/users/"+w.userID+"/activation", nil), http.StatusNoContent, "")
	// The old cookie does not come back to life with the user...
	assertStatus(t, w.user.do("GET", "/api/v1/account/me", nil), http.StatusUnauthorized, "unauthenticated")
	// ...though the user may log in again.
	fresh := w.s.loggedIn("user0")
	assertStatus(t, fresh.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	if n := w.s.sessionCount(w.userID); n != 2 {
		t.Fatalf("%d session rows before the handler ran, want the old one and the new", n)
	}

	if err := hold.Commit(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old session row to be deleted", func() bool { return w.s.sessionCount(w.userID) == 1 })
	time.Sleep(100 * time.Millisecond) // the handler must not take the new one later either
	assertStatus(t, fresh.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	if n := w.s.sessionCount(w.userID); n != 1 {
		t.Errorf("%d session rows after the handler ran, want the new one", n)
	}
}
