package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
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
