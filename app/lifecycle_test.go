package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/bus"
)

// slowHashing makes every password hash take a noticeable time, so tests can catch
// requests in flight.
var slowHashing = map[string]string{"APP_SECURITY_BCRYPT_COST": "11"}

// TestShutdownFinishesInFlightRequests: stopping the service lets a request that is
// already being served complete, then refuses new connections.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	s, app := startServiceApp(t, slowHashing)
	type result struct {
		status int
		err    error
	}
	done := make(chan result)
	go func() {
		body := strings.NewReader(`{"username":"late.comer","password":"` + testPassword + `"}`)
		resp, err := http.Post(s.URL+"/api/v1/account/signup", "application/json", body)
		if err != nil {
			done <- result{err: err}
			return
		}
		_ = resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	time.Sleep(100 * time.Millisecond) // let the signup reach the password hash
	app.RequireStop()

	if r := <-done; r.err != nil || r.status != http.StatusCreated {
		t.Fatalf("in-flight signup: %d %v", r.status, r.err)
	}
	if resp, err := http.Get(s.URL + "/livez"); err == nil {
		_ = resp.Body.Close()
		t.Error("the stopped service still accepts connections")
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

	// A signup whose body never comes: the handler waits for it. The 100 Continue
	// says the handler has started reading, so the request is in flight.
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(conn, "POST /api/v1/account/signup HTTP/1.1\r\nHost: accounts\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(conn)
	if status, err := rd.ReadString('\n'); err != nil || !strings.Contains(status, "100 Continue") {
		t.Fatalf("want 100 Continue, got %q, %v", status, err)
	}

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
		"APP_SECURITY_BCRYPT_COST":      "10",
		"APP_SECURITY_HASH_CONCURRENCY": "1",
		"APP_SECURITY_HASH_WAIT":        "10ms",
	})
	var wg sync.WaitGroup
	results := make([]response, 2)
	for i, name := range []string{"first.user", "second.user"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.client().do("POST", "/api/v1/account/signup", map[string]string{"username": name, "password": testPassword})
		}()
	}
	wg.Wait()

	statuses := map[int]int{}
	for _, r := range results {
		statuses[r.Status]++
		if r.Status == http.StatusServiceUnavailable {
			assertStatus(t, r, 503, "unavailable")
			if r.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		}
	}
	if statuses[201] != 1 || statuses[503] != 1 {
		t.Fatalf("want one 201 and one 503, got %v", statuses)
	}
}
