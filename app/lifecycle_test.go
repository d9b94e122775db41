package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/bus"
)

// TestShutdownFinishesInFlightRequests: stopping the service lets a request that is
// already being served complete, then refuses new connections.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	s, app := startServiceApp(t, nil)

	body := `{"username":"late.comer","password":"` + testPassword + `"}`
	conn, rd := signupInFlight(t, s, len(body))

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
		defer cancel()
		stopped <- app.Stop(ctx)
	}()
	// Once new connections are refused, the stop has begun; only then does the
	// in-flight request get its body.
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			break
		}
		_ = c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}

	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("in-flight signup: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight signup: %d, want 201", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}

// TestShutdownCutsRequestsThatOutlastTheDrain: a request still running when
// [http] shutdown_timeout is up has its connection closed, and the stop goes on to
// close the bus after the server, instead of spending Fx's whole stop budget on the
// drain and failing.
func TestShutdownCutsRequestsThatOutlastTheDrain(t *testing.T) {
	t.Parallel()
	var b *bus.Bus
	s, app := startServiceApp(t, map[string]string{
		"APP_HTTP_SHUTDOWN_TIMEOUT": "50ms",
		// Far beyond Fx's stop timeout: nothing but the drain's bound may end the
		// stuck request.
		"APP_HTTP_REQUEST_TIMEOUT": "10m",
	}, fx.Populate(&b))

	// A signup whose body never comes: the handler waits for it.
	_, rd := signupInFlight(t, s, 100)

	ctx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}

	if _, err := io.ReadAll(rd); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the stuck request's connection was not closed: %v", err)
	}
	warned := s.Logs.FilterMessage("shutting down: in-flight requests did not finish in time; closing their connections").
		FilterLevelExact(zapcore.WarnLevel).Len()
	if warned != 1 {
		t.Errorf("%d warnings about the cut requests, want 1", warned)
	}
	if n := s.Logs.FilterMessage("OnStop hook failed").Len(); n != 0 {
		t.Errorf("%d stop hooks failed", n)
	}
	// Fx logs each hook as it finishes: the server's must come before the bus's.
	var stopped []string
	for _, e := range s.Logs.FilterMessage("OnStop hook executed").All() {
		stopped = append(stopped, toString(e.ContextMap()["caller"]))
	}
	hook := func(name string) int {
		return slices.IndexFunc(stopped, func(caller string) bool { return strings.HasSuffix(caller, "."+name) })
	}
	if server, busAt := hook("runServer"), hook("newBus"); server < 0 || busAt < 0 || server > busAt {
		t.Errorf("stop hooks ran in the order %v, want runServer's then newBus's", stopped)
	}
	if b.Ready() == nil {
		t.Error("the bus still runs after stop")
	}
	// The database is the caller's to close, after the app, as serve does.
	if err := s.DB.Close(); err != nil {
		t.Errorf("closing the database after stop: %v", err)
	}
}

// TestHashingSaturated: when every hashing slot is busy for longer than hash_wait,
// the request gets 503 with Retry-After instead of queueing without bound.
func TestHashingSaturated(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{
		"APP_SECURITY_BCRYPT_COST":      "11",
		"APP_SECURITY_HASH_CONCURRENCY": "1",
		"APP_SECURITY_HASH_WAIT":        "10ms",
	})
	// Ten signups at once, one hashing slot, each hash far longer than the wait:
	// some must find the slot taken, whatever the scheduling.
	rs := concurrently(10, func(i int) response {
		return s.client().do("POST", "/api/v1/account/signup",
			map[string]string{"username": fmt.Sprintf("user%d.name", i), "password": testPassword})
	})
	created, refused := countStatus(rs, http.StatusCreated, ""), countStatus(rs, http.StatusServiceUnavailable, "unavailable")
	if created == 0 || refused == 0 || created+refused != len(rs) {
		t.Fatalf("%d created and %d refused of %d, want both and nothing else", created, refused, len(rs))
	}
	for _, r := range rs {
		if r.Status == http.StatusServiceUnavailable && r.Header.Get("Retry-After") == "" {
			t.Error("503 without Retry-After")
		}
	}
	// The refused ones left nothing behind.
	n, err := s.DB.NewSelect().Table("users").Count(t.Context())
	if err != nil || int(n) != created {
		t.Errorf("%d users stored (%v), want the %d created", n, err, created)
	}
}

// signupInFlight starts a signup whose body of length bytes is not sent yet and
// returns once the handler has begun reading it (its 100 Continue has come): from
// then until the body comes, the request is in flight. The caller writes the body
// to conn, or never does, and reads the response from rd.
func signupInFlight(t *testing.T, s *service, length int) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(conn, "POST /api/v1/account/signup HTTP/1.1\r\nHost: accounts\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", length)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(conn)
	if status, err := rd.ReadString('\n'); err != nil || !strings.Contains(status, "100 Continue") {
		t.Fatalf("want 100 Continue, got %q, %v", status, err)
	}
	if _, err := rd.ReadString('\n'); err != nil { // the interim response's empty line
		t.Fatal(err)
	}
	return conn, rd
}
