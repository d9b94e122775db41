package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// concurrently runs f n times at once and returns the statuses.
func concurrently(n int, f func(i int) response) []response {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		out   = make([]response, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

func countStatus(rs []response, status int, code string) int {
	n := 0
	for _, r := range rs {
		if r.Status == status && r.Code() == code {
			n++
		}
	}
	return n
}

// TestLoginThrottleHoldsUnderConcurrency: wrong passwords sent all at once get no
// more password checks than the limit allows; the rest are 429.
func TestLoginThrottleHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "3"})
	s.superAdmin("target.root")

	rs := concurrently(20, func(int) response {
		return s.client().login("target.root", "wrong password")
	})
	if n := countStatus(rs, http.StatusUnauthorized, "invalid_credentials"); n != 3 {
		t.Errorf("%d wrong passwords checked, want the limit of 3", n)
	}
	if n := countStatus(rs, http.StatusTooManyRequests, "rate_limited"); n != 17 {
		t.Errorf("%d answered 429, want 17", n)
	}
}

// TestConcurrentCorrectLoginsAreNotThrottled: only failed logins count, so a burst
// of correct ones beyond the limit all get in.
func TestConcurrentCorrectLoginsAreNotThrottled(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "3"})
	s.superAdmin("busy.root")

	rs := concurrently(12, func(int) response {
		return s.client().login("busy.root", testPassword)
	})
	if n := countStatus(rs, http.StatusNoContent, ""); n != 12 {
		t.Errorf("%d of 12 correct logins got in", n)
	}
}

// TestConcurrentOwnPasswordChanges: two sessions of one user change the password at
// once. One wins; the other either proved a password that is no longer current
// (403), or, when the winner had finished before it was even authenticated, comes
// with a session the winner ended (401). The winner's session stays, the loser's
// ends, and only the winner's new password logs in. Whether the two overlap is the
// scheduler's call; the overlap itself is pinned down, deterministically, by the
// commands test TestChangeOwnPasswordLosesToAConcurrentChange.
func TestConcurrentOwnPasswordChanges(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	id := s.superAdmin("two.sessions")
	clients := []*client{s.loggedIn("two.sessions"), s.loggedIn("two.sessions")}
	newPasswords := []string{"first new password", "second new password"}

	rs := concurrently(2, func(i int) response {
		return clients[i].do("PUT", "/api/v1/account/password",
			map[string]string{"current_password": testPassword, "new_password": newPasswords[i]})
	})
	lost := countStatus(rs, http.StatusForbidden, "invalid_current_password") + countStatus(rs, http.StatusUnauthorized, "unauthenticated")
	if countStatus(rs, http.StatusNoContent, "") != 1 || lost != 1 {
		t.Fatalf("got %d %q and %d %q, want one 204 and one 403 invalid_current_password or 401 unauthenticated",
			rs[0].Status, rs[0].Code(), rs[1].Status, rs[1].Code())
	}
	winner, loser := 0, 1
	if rs[1].Status == http.StatusNoContent {
		winner, loser = 1, 0
	}
	assertStatus(t, clients[winner].do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	assertStatus(t, clients[loser].do("GET", "/api/v1/account/me", nil), http.StatusUnauthorized, "unauthenticated")
	if n := s.sessionCount(id); n != 1 {
		t.Errorf("%d sessions left, want the winner's", n)
	}
	assertStatus(t, s.client().login("two.sessions", newPasswords[loser]), http.StatusUnauthorized, "invalid_credentials")
	assertStatus(t, s.client().login("two.sessions", newPasswords[winner]), http.StatusNoContent, "")
}

// TestThrottleBehindATrustedProxy: with the proxy trusted, the per-address limit
// keys on the client X-Forwarded-For names, so one client's failures do not lock
// out the others behind the same proxy.
func TestThrottleBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{
		"APP_HTTP_TRUSTED_PROXIES":               "127.0.0.1",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_IP":      "2",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "0",
	})
	login := func(client, username string) response {
		return s.client().do("POST", "/api/v1/account/login",
			map[string]string{"username": username, "password": "wrong password"}, "X-Forwarded-For", client)
	}
	for i := range 2 {
		assertStatus(t, login("203.0.113.1", fmt.Sprintf("user%d.name", i)), http.StatusUnauthorized, "invalid_credentials")
	}
	assertStatus(t, login("203.0.113.1", "user9.name"), http.StatusTooManyRequests, "rate_limited")
	assertStatus(t, login("203.0.113.2", "user9.name"), http.StatusUnauthorized, "invalid_credentials")
}
