package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/broker/brokertest"
	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/adapters/postgres/pgtest"
)

// TestReadinessFollowsTheBus: with the bus stopped no request can be answered, so
// the service is not ready, though the process is alive.
func TestReadinessFollowsTheBus(t *testing.T) {
	t.Parallel()
	var b *bus.Bus
	s, app := startServiceApp(t, nil, fx.Populate(&b))
	t.Cleanup(app.RequireStop)
	c := s.client()
	assertStatus(t, c.do("GET", "/readyz", nil), http.StatusOK, "")

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	r := c.do("GET", "/readyz", nil)
	assertStatus(t, r, http.StatusServiceUnavailable, "unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	assertStatus(t, c.do("GET", "/livez", nil), http.StatusOK, "")
}

// TestDatabaseOutage: the database goes away under the running service (the network
// to it is cut), then comes back. Meanwhile requests get 503 with Retry-After and no
// driver text, and readiness says so; afterwards the service recovers by itself.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	// The network to the database, which the test can cut.
	proxy, proxiedURL := brokertest.ViaProxy(t, pgtest.NewURL(t), "5432")
	dbURL, err := url.Parse(proxiedURL)
	if err != nil {
		t.Fatal(err)
	}
	s := startService(t, map[string]string{"APP_DATABASE_URL": proxiedURL})

	id := s.superAdmin("root0")
	c := s.loggedIn("root0")
	assertStatus(t, c.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")

	proxy.Cut()
	r := waitForStatus(t, c, "/readyz", http.StatusServiceUnavailable)
	assertStatus(t, r, http.StatusServiceUnavailable, "unavailable")

	// An outage is no reason to log anybody out: no cookie removal.
	me := c.do("GET", "/api/v1/account/me", nil)
	login := s.client().login("root0", testPassword)
	for name, r := range map[string]response{"me": me, "login": login} {
		if r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" {
			t.Errorf("%s: got %d %q, want 503 unavailable; body %s", name, r.Status, r.Code(), r.Body)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", name)
		}
		if len(r.Cookies) != 0 {
			t.Errorf("%s: cookies set during the outage: %v", name, r.Header.Values("Set-Cookie"))
		}
		for _, driverText := range []string{"postgres", "sql", "dial", "connect", "refused", "EOF", dbURL.Host} {
			if strings.Contains(string(r.Body), driverText) {
				t.Errorf("%s: body reveals %q: %s", name, driverText, r.Body)
			}
		}
	}
	// What the client is not told, the log says.
	var causes int
	for _, e := range s.Logs.FilterMessage("bus handler failed").FilterLevelExact(zapcore.WarnLevel).All() {
		if text, _ := e.ContextMap()["error"].(string); strings.Contains(text, "postgres: ") {
			causes++
		}
	}
	if causes == 0 {
		t.Error("no log line gives the cause of the 503s")
	}

	proxy.Restore()
	waitForStatus(t, c, "/readyz", http.StatusOK)
	assertStatus(t, c.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	assertStatus(t, s.client().login("root0", testPassword), http.StatusNoContent, "")
	if n := s.sessionCount(id); n != 2 {
		t.Errorf("%d sessions after recovery, want the first and the new one", n)
	}
}

// waitForStatus polls path until it answers status, and fails the test if it does
// not within a generous deadline: a state change that takes a moment to be seen is
// not asserted on its timing.
func waitForStatus(t *testing.T, c *client, path string, status int) response {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := c.do("GET", path, nil)
		if r.Status == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers %d %s, want %d", path, r.Status, r.Body, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
