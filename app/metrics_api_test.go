package main

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/example/accounts/adapters/broker/brokertest"
)

// scrape reads the admin listener's /metrics: each sample line by its name and
// labels as Prometheus writes them (labels sorted by name).
func (s *service) scrape() map[string]float64 {
	s.t.Helper()
	resp, err := http.Get(s.AdminURL + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	samples := map[string]float64{}
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			s.t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	if err := lines.Err(); err != nil {
		s.t.Fatal(err)
	}
	return samples
}

// moved is how much each sample changed between two scrapes.
func moved(before, after map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// One scenario, and the counters an operator would read off it.
func TestMetricsCountWhatTheScenarioDid(t *testing.T) {
	t.Parallel()
	stream := brokertest.NewStream(t)
	w := newWorld(t, map[string]string{
		"APP_EVENTS_BROKER":                      "nats",
		"APP_EVENTS_NATS_URL":                    brokertest.NATSURL(),
		"APP_EVENTS_NATS_STREAM":                 stream.Name,
		"APP_EVENTS_NATS_SUBJECT":                stream.Subject,
		"APP_EVENTS_POLL_INTERVAL":               "20ms",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "2",
		"APP_SESSION_MAX_PER_USER":               "2",
		"APP_SECURITY_HASH_CONCURRENCY":          "3",
	})
	s := w.s
	if s.AdminURL == "" {
		t.Fatal("no admin listener")
	}
	// Let the events of the world's making be delivered before the first scrape.
	waitFor(t, "the world's events delivered", func() bool {
		m := s.scrape()
		return m[`accounts_outbox_pending_events{broker="nats",consumer_group="publish_to_nats"}`] == 0 &&
			m[`accounts_outbox_pending_events{broker="none",consumer_group="end_sessions_on_user_inactivated"}`] == 0
	})
	before := s.scrape()

	// Two failed logins of one name, then a third refused by the throttle.
	anon := s.client()
	for range 2 {
		assertStatus(t, anon.login("ghost", "wrong-password"), http.StatusUnauthorized, "invalid_credentials")
	}
	assertStatus(t, anon.login("ghost", "wrong-password"), http.StatusTooManyRequests, "rate_limited")
	// admin0 logs in twice more: past max_per_user (2), the oldest session ends.
	s.loggedIn("admin0")
	admin := s.loggedIn("admin0")
	// user0 changes its password: its other session ends.
	other := s.loggedIn("user0")
	assertStatus(t, w.user.do("PUT", "/api/v1/account/password",
		map[string]string{"current_password": testPassword, "new_password": "another-password"}), http.StatusNoContent, "")
	// root inactivates user0: its last session ends, in the event's handler.
	assertStatus(t, w.root.do("DELETE", "/api/v1/users/"+w.userID+"/activation", nil), http.StatusNoContent, "")
	// admin0 may not touch root, and logs out (its newest session).
	assertStatus(t, admin.do("DELETE", "/api/v1/users/"+w.rootID+"/activation", nil), http.StatusForbidden, "forbidden")
	assertStatus(t, admin.do("POST", "/api/v1/account/logout", nil), http.StatusNoContent, "")
	assertStatus(t, anon.do("GET", "/api/v1/users/"+w.userID+"/no-such-thing", nil), http.StatusNotFound, "not_found")
	_ = other

	var after map[string]float64
	// Delivered, and recorded as delivered: a group moves its position once its
	// batch is handled, a moment after the handler's count.
	waitFor(t, "the scenario's events delivered", func() bool {
		after = s.scrape()
		return after[`accounts_sessions_ended_total{reason="inactivation"}`]-before[`accounts_sessions_ended_total{reason="inactivation"}`] >= 1 &&
			after[`accounts_events_handled_total{broker="nats",consumer_group="publish_to_nats",outcome="delivered"}`]-
				before[`accounts_events_handled_total{broker="nats",consumer_group="publish_to_nats",outcome="delivered"}`] >= 2 &&
			after[`accounts_outbox_pending_events{broker="nats",consumer_group="publish_to_nats"}`] == 0 &&
			after[`accounts_outbox_pending_events{broker="none",consumer_group="end_sessions_on_user_inactivated"}`] == 0 &&
			// A request is counted once its answer has gone out: the client may
			// read it first. This is the scenario's last.
			after[`accounts_http_requests_total{method="GET",route="unmatched",status="4xx"}`] > before[`accounts_http_requests_total{method="GET",route="unmatched",status="4xx"}`]
	})
	got := moved(before, after)
	want := map[string]float64{
		// Logins: three succeeded, two failed, one was refused before any hashing.
		`accounts_logins_total{outcome="success"}`:             3,
		`accounts_logins_total{outcome="invalid_credentials"}`: 2,
		`accounts_logins_total{outcome="rate_limited"}`:        1,
		`accounts_throttle_refusals_total{kind="login"}`:       1,
		`accounts_sessions_created_total`:                      3,
		`accounts_sessions_ended_total{reason="limit"}`:        1, // admin0 had 1, then 2, then 3 > 2
		`accounts_sessions_ended_total{reason="password"}`:     1, // user0's other session
		`accounts_sessions_ended_total{reason="inactivation"}`: 1, // user0's last one
		`accounts_sessions_ended_total{reason="logout"}`:       1,
		// Two events: user.password_changed and user.inactivated, each delivered
		// once to the broker; the in-process group handles only the inactivation.
		`accounts_events_handled_total{broker="nats",consumer_group="publish_to_nats",outcome="delivered"}`:                  2,
		`accounts_events_handled_total{broker="none",consumer_group="end_sessions_on_user_inactivated",outcome="delivered"}`: 1,
		`accounts_bus_operations_total{operation="commands.SetActive",outcome="forbidden"}`:                                  1,
		`accounts_bus_operations_total{operation="commands.SetActive",outcome="ok"}`:                                         1,
		`accounts_bus_operations_total{operation="commands.ChangeOwnPassword",outcome="ok"}`:                                 1,
		`accounts_http_requests_total{method="POST",route="/api/v1/account/login",status="2xx"}`:                             3,
		`accounts_http_requests_total{method="POST",route="/api/v1/account/login",status="4xx"}`:                             3,
		`accounts_http_requests_total{method="DELETE",route="/api/v1/users/{id}/activation",status="4xx"}`:                   1,
		`accounts_http_requests_total{method="GET",route="unmatched",status="4xx"}`:                                          1,
		`accounts_http_request_duration_seconds_count{route="/api/v1/users/{id}/activation"}`:                                2,
		`accounts_password_hashes_total`: 7, // 5 logins, 2 for the change
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s moved by %v, want %v", k, got[k], v)
		}
	}
	for k := range got {
		if strings.Contains(k, w.userID) || strings.Contains(k, "no-such-thing") {
			t.Errorf("a label holds a raw path or an id: %s", k)
		}
	}

	// Gauges and the collectors read at scrape time.
	for k, v := range map[string]float64{
		`accounts_password_hash_slots`:                                                                    3,
		`accounts_password_hash_slots_in_use`:                                                             0,
		`accounts_outbox_lag_seconds{broker="nats",consumer_group="publish_to_nats"}`:                     0,
		`accounts_outbox_lag_seconds{broker="none",consumer_group="end_sessions_on_user_inactivated"}`:    0,
		`accounts_outbox_pending_events{broker="none",consumer_group="end_sessions_on_user_inactivated"}`: 0,
		`accounts_events_parked_total{broker="nats",consumer_group="publish_to_nats"}`:                    0,
		`accounts_outbox_parked_events{broker="nats",consumer_group="publish_to_nats"}`:                   0,
	} {
		if got, ok := after[k]; !ok || got != v {
			t.Errorf("%s = %v (present: %v), want %v", k, got, ok, v)
		}
	}
	for _, k := range []string{`go_sql_max_open_connections{db_name="accounts"}`, `go_goroutines`, `process_resident_memory_bytes`} {
		if _, ok := after[k]; !ok {
			t.Errorf("%s missing from /metrics", k)
		}
	}
	build := false
	for k := range after {
		build = build || strings.HasPrefix(k, "go_build_info{")
	}
	if !build {
		t.Error("go_build_info missing from /metrics")
	}

	// The API's own port does not serve them.
	assertStatus(t, anon.do("GET", "/metrics", nil), http.StatusNotFound, "not_found")
}

// Go's profiles are on the admin listener when admin.pprof says so, and nowhere
// otherwise.
func TestProfilesOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		s := startService(t, map[string]string{"APP_ADMIN_PPROF": strconv.FormatBool(on)})
		resp, err := http.Get(s.AdminURL + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if on && (resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile:")) {
			t.Errorf("pprof on: %d %.100s, want the goroutine profile", resp.StatusCode, body)
		}
		if !on && resp.StatusCode != http.StatusNotFound {
			t.Errorf("pprof off: %d, want 404", resp.StatusCode)
		}
		assertStatus(t, s.client().do("GET", "/debug/pprof/", nil), http.StatusNotFound, "not_found")
	}
}
