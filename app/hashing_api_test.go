package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"
	"golang.org/x/crypto/bcrypt"

	"github.com/example/accounts/adapters/throttle"
	"github.com/example/accounts/commands"
)

// fromAddr is a transport whose connections come from the local address ip, so that
// the service sees another client than 127.0.0.1 (the whole of 127.0.0.0/8 is
// loopback).
func fromAddr(t *testing.T, ip string) *http.Transport {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext,
		MaxIdleConnsPerHost: 64,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// clientFrom is s.client() connecting from ip.
func (s *service) clientFrom(ip string) *client {
	c := s.client()
	c.http.Transport.(*contractCheck).next = fromAddr(s.t, ip)
	return c
}

// clientFromWith is clientFrom sharing jar (nil: a new one) with the client that
// logged in.
func (s *service) clientFromWith(ip string, jar http.CookieJar) *client {
	c := s.clientFrom(ip)
	if jar != nil {
		c.http.Jar = jar
	}
	return c
}

// assertRateLimited checks a 429 as the contract describes it.
func assertRateLimited(t *testing.T, what string, r response) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests || r.Code() != "rate_limited" {
		t.Errorf("%s: got %d %q, want 429 rate_limited; body %s", what, r.Status, r.Code(), r.Body)
		return
	}
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("%s: Retry-After %q, want whole seconds, at least 1", what, r.Header.Get("Retry-After"))
	}
}

// floodResult counts a flooder's answers by status.
type floodResult struct {
	mu       sync.Mutex
	byStatus map[int]int // 0 for a request that got no answer
	noRetry  int         // 429s without Retry-After
	done     chan struct{}
}

func (f *floodResult) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, count := range f.byStatus {
		n += count
	}
	return n
}

func (f *floodResult) add(status int, h http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byStatus[status]++
	if status == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
		f.noRetry++
	}
}

// flood sends, from workers goroutines at once over the client address of tr,
// signups of fresh names and correct logins to the flooder's own account, as fast
// as they are answered, until stop is closed.
func flood(s *service, tr http.RoundTripper, workers int, login map[string]string, stop <-chan struct{}) *floodResult {
	res := &floodResult{byStatus: map[int]int{}, done: make(chan struct{})}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				path, body := "/api/v1/account/login", login
				if w%2 == 0 {
					path = "/api/v1/account/signup"
					body = map[string]string{"username": fmt.Sprintf("flood%d", seq.Add(1)), "password": testPassword}
				}
				data, _ := json.Marshal(body)
				resp, err := hc.Post(s.URL+path, "application/json", bytes.NewReader(data))
				if err != nil {
					res.add(0, nil)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				res.add(resp.StatusCode, resp.Header)
				if resp.StatusCode == http.StatusTooManyRequests {
					// Answering 429s costs CPU too, which this test leaves to the
					// hashing it watches: a flood of requests as such is a matter
					// for the proxy in front.
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(res.done)
	}()
	return res
}

// TestHashingFloodFromOneAddressLeavesOthersLoggingIn: one address sending signups
// and correct logins as fast as it can, which no failure limit sees, must not keep
// the hashing slots from another address: the flood gets 429, and the other client
// logs in every time and can sign up.
func TestHashingFloodFromOneAddressLeavesOthersLoggingIn(t *testing.T) {
	t.Parallel()
	const cost = 8
	// One hashing slot, a hash of some 25 ms, two seconds' wait for it: 64
	// flooders would queue past that, while a budget of two a second, two at once,
	// leaves the slot mostly free and queues a few hashes at most ahead of anyone,
	// with room for a busy machine; it is still more than the other client needs.
	s := startService(t, map[string]string{
		"APP_SECURITY_BCRYPT_COST":         strconv.Itoa(cost),
		"APP_SECURITY_HASH_CONCURRENCY":    "1",
		"APP_SECURITY_HASH_WAIT":           "2s",
		"APP_RATELIMIT_HASH_PER_MINUTE_IP": "120",
		"APP_RATELIMIT_HASH_BURST_IP":      "2",
	})
	s.superAdmin("other.user")
	flooderLogin := map[string]string{"username": "flooder", "password": testPassword}
	assertStatus(t, s.clientFromWith("127.0.0.1", nil).do("POST", "/api/v1/account/signup", flooderLogin), http.StatusCreated, "")

	stop := make(chan struct{})
	began := time.Now()
	res := flood(s, fromAddr(t, "127.0.0.1"), 64, flooderLogin, stop)
	time.Sleep(300 * time.Millisecond) // the flood is in full swing

	var statuses []int
	for range 5 {
		// A fresh client each time: a logged-in one would be told 403.
		statuses = append(statuses, s.clientFrom("127.0.0.2").login("other.user", testPassword).Status)
		time.Sleep(500 * time.Millisecond)
	}
	signup := s.clientFromWith("127.0.0.2", nil).do("POST", "/api/v1/account/signup",
		map[string]string{"username": "other.signup", "password": testPassword})
	close(stop)
	<-res.done
	elapsed := time.Since(began)

	t.Logf("flooder: %v over %s; other client's logins: %v; its signup: %d", res.byStatus, elapsed.Round(time.Millisecond), statuses, signup.Status)
	if n := countOf(statuses, http.StatusNoContent); n != len(statuses) {
		t.Errorf("the other client logged in %d times of %d: %v", n, len(statuses), statuses)
	}
	if signup.Status != http.StatusCreated {
		t.Errorf("the other client's signup: %d %s", signup.Status, signup.Body)
	}
	// The flooder's budget: the burst of 2 (one spent on its own signup before the
	// flood) and two a second since.
	granted := res.byStatus[http.StatusCreated] + res.byStatus[http.StatusNoContent]
	if limit := 2 + int(2*elapsed.Seconds()) + 1; granted > limit {
		t.Errorf("the flooder got %d hashing requests through in %s, want at most %d", granted, elapsed, limit)
	}
	if res.byStatus[http.StatusTooManyRequests] == 0 || res.noRetry > 0 {
		t.Errorf("flooder: %d answered 429, %d of them without Retry-After", res.byStatus[http.StatusTooManyRequests], res.noRetry)
	}
	if res.byStatus[0] > 0 {
		t.Errorf("%d flood requests got no answer at all", res.byStatus[0])
	}
	// The flood was heavy enough to matter: had the budget let it through, it
	// would have asked the one slot for several times the hashing it can do in
	// the time, and the other client would have waited behind it.
	hashTime := time.Now()
	if _, err := bcrypt.GenerateFromPassword([]byte(testPassword), cost); err != nil {
		t.Fatal(err)
	}
	capacity := float64(elapsed) / float64(time.Since(hashTime))
	if sent := res.total(); float64(sent) < 3*capacity {
		t.Errorf("the flooder sent %d requests, want at least three times the %.0f hashes the slot could make meanwhile", sent, capacity)
	}
}

func countOf(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

// TestHashBudgetCoversEveryEndpointThatHashes: once an address has spent its budget,
// signup, login, own password change, and an admin creating a user or setting a
// password all answer 429 with Retry-After, whoever is logged in; requests that
// hash nothing go on, and other addresses have budgets of their own.
func TestHashBudgetCoversEveryEndpointThatHashes(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{
		"APP_RATELIMIT_HASH_PER_MINUTE_IP": "1",
		"APP_RATELIMIT_HASH_BURST_IP":      "3",
	})
	// Set up from 127.0.0.2: three hashes of its own.
	s.superAdmin("root0")
	root := s.clientFrom("127.0.0.2")
	assertStatus(t, root.login("root0", testPassword), http.StatusNoContent, "")
	userID := root.createUser("user0", "user")
	user := s.clientFrom("127.0.0.2")
	assertStatus(t, user.login("user0", testPassword), http.StatusNoContent, "")

	// 127.0.0.1 spends its burst of three.
	local := s.client()
	for i := range 3 {
		assertStatus(t, local.do("POST", "/api/v1/account/signup",
			map[string]string{"username": fmt.Sprintf("spender%d", i), "password": testPassword}), http.StatusCreated, "")
	}

	// Then every operation that hashes is refused from 127.0.0.1, before anything
	// is looked at: the names here are free, taken or missing alike.
	anon := s.clientFromWith("127.0.0.1", nil)
	asRoot := s.clientFromWith("127.0.0.1", root.http.Jar)
	asUser := s.clientFromWith("127.0.0.1", user.http.Jar)
	assertRateLimited(t, "signup", anon.do("POST", "/api/v1/account/signup", map[string]string{"username": "spender0", "password": testPassword}))
	assertRateLimited(t, "login", anon.do("POST", "/api/v1/account/login", map[string]string{"username": "user0", "password": testPassword}))
	assertRateLimited(t, "own password change", asUser.do("PUT", "/api/v1/account/password",
		map[string]string{"current_password": testPassword, "new_password": "another-password"}))
	assertRateLimited(t, "admin creates a user", asRoot.do("POST", "/api/v1/users",
		map[string]string{"username": "user1", "password": testPassword, "role": "user"}))
	assertRateLimited(t, "admin sets a password", asRoot.do("PUT", "/api/v1/users/"+userID+"/password",
		map[string]string{"password": "another-password"}))

	// The rules still come first: a broken request is 400, not 429.
	assertStatus(t, local.do("POST", "/api/v1/account/signup", map[string]string{"username": "x", "password": testPassword}),
		http.StatusBadRequest, "validation_failed")
	// What hashes nothing is not held up.
	assertStatus(t, asUser.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	// Nothing changed: the password is still the old one.
	assertStatus(t, s.clientFrom("127.0.0.3").login("user0", testPassword), http.StatusNoContent, "")
	// Another address has a budget of its own.
	assertStatus(t, s.clientFrom("127.0.0.4").do("POST", "/api/v1/account/signup",
		map[string]string{"username": "elsewhere", "password": testPassword}), http.StatusCreated, "")
}

// TestSessionCapEndsTheOldestSessions: a login beyond [session] max_per_user ends
// the user's oldest sessions; the newer ones, and other users', go on.
func TestSessionCapEndsTheOldestSessions(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{"APP_SESSION_MAX_PER_USER": "3"})
	id := s.superAdmin("root0")
	other := s.superAdmin("root1")
	bystander := s.loggedIn("root1")

	var clients []*client
	for range 5 {
		clients = append(clients, s.loggedIn("root0"))
		if n := s.sessionCount(id); n > 3 {
			t.Fatalf("%d sessions after %d logins, want at most 3", n, len(clients))
		}
	}

	if n := s.sessionCount(id); n != 3 {
		t.Errorf("%d sessions, want 3", n)
	}
	for i, c := range clients {
		want, code := http.StatusOK, ""
		if i < 2 {
			want, code = http.StatusUnauthorized, "unauthenticated"
		}
		r := c.do("GET", "/api/v1/account/me", nil)
		if r.Status != want || r.Code() != code {
			t.Errorf("session of login %d: %d %q, want %d %q", i+1, r.Status, r.Code(), want, code)
		}
	}
	if n := s.sessionCount(other); n != 1 {
		t.Errorf("another user has %d sessions, want its 1", n)
	}
	assertStatus(t, bystander.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
}

// offsetClock is the real clock moved forward by a test.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestCurrentPasswordGuessesAreThrottled: a stolen cookie cannot guess the current
// password without limit. Wrong current passwords count as failed logins of the
// account: past the limit the change is refused with 429, the right password
// included, and so are logins to the account, until the window passes. The
// throttle's clock is moved rather than waited for.
func TestCurrentPasswordGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	clock := &offsetClock{}
	s, app := startServiceApp(t, map[string]string{"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "3"},
		fx.Decorate(func(cfg Config) commands.LoginThrottle {
			return throttle.NewLoginThrottle(cfg.RateLimit.LoginPerMinuteIP, cfg.RateLimit.LoginPerMinuteAccount, clock.Now)
		}))
	t.Cleanup(app.RequireStop)
	s.superAdmin("owner0")
	thief := s.loggedIn("owner0")
	change := func(c *client, current, next string) response {
		return c.do("PUT", "/api/v1/account/password", map[string]string{"current_password": current, "new_password": next})
	}

	for i := range 3 {
		r := change(thief, fmt.Sprintf("guess-%d", i), "thief-password")
		assertStatus(t, r, http.StatusForbidden, "invalid_current_password")
	}
	checked := s.clientFromWith("127.0.0.1", thief.http.Jar)
	assertRateLimited(t, "a fourth guess", change(checked, "guess-3", "thief-password"))
	assertRateLimited(t, "the right current password", change(checked, testPassword, "thief-password"))
	// The limit is the account's: its logins wait too, from any address.
	r := s.clientFrom("127.0.0.2").login("owner0", testPassword)
	assertStatus(t, r, http.StatusTooManyRequests, "rate_limited")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 20 {
		t.Fatalf("Retry-After %q, want 1 to 20 seconds at 3 a minute", r.Header.Get("Retry-After"))
	}
	// Still the owner's password: every session stands.
	assertStatus(t, thief.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")

	clock.advance(time.Duration(retry) * time.Second)
	assertStatus(t, change(thief, testPassword, "owner-password"), http.StatusNoContent, "")
	assertStatus(t, s.clientFrom("127.0.0.2").login("owner0", "owner-password"), http.StatusNoContent, "")
}
