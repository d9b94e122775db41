package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"
)

// TestShapeChecks covers check 2 of the order of checks: whatever does not parse into
// the endpoint's request is refused before authentication is even looked at.
func TestShapeChecks(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	s.superAdmin("root0")
	root := s.loggedIn("root0")
	anon := s.client()

	big := `{"username":"root0","password":"` + strings.Repeat("x", 64*1024) + `"}`
	cases := []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		header []string
		status int
		code   string
	}{
		{"body over the limit", anon, "POST", "/api/v1/account/login", big, nil, 413, "payload_too_large"},
		{"too large beats wrong media type", anon, "POST", "/api/v1/account/login", big, []string{"Content-Type", "text/plain"}, 413, "payload_too_large"},
		{"text/plain", anon, "POST", "/api/v1/account/login", `{}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
		{"no content type", anon, "POST", "/api/v1/account/signup", `{}`, []string{"Content-Type", ""}, 415, "unsupported_media_type"},
		{"charset parameter allowed", s.client(), "POST", "/api/v1/account/login", `{"username":"root0","password":"` + testPassword + `"}`,
			[]string{"Content-Type", "application/json; charset=utf-8"}, 204, ""},
		{"malformed JSON", anon, "POST", "/api/v1/account/signup", `{"username":`, nil, 400, "invalid_request"},
		{"empty body", anon, "POST", "/api/v1/account/signup", ``, nil, 400, "invalid_request"},
		{"unknown field", anon, "POST", "/api/v1/account/signup", `{"username":"someone","password":"secret1","admin":true}`, nil, 400, "invalid_request"},
		{"key in another case", anon, "POST", "/api/v1/account/signup", `{"Username":"someone","password":"secret1"}`, nil, 400, "invalid_request"},
		{"duplicate key", anon, "POST", "/api/v1/account/signup", `{"username":"someone","username":"other1","password":"secret1"}`, nil, 400, "invalid_request"},
		{"missing field", anon, "POST", "/api/v1/account/signup", `{"username":"someone"}`, nil, 400, "invalid_request"},
		{"wrong type", anon, "POST", "/api/v1/account/signup", `{"username":"someone","password":123456}`, nil, 400, "invalid_request"},
		{"null field", anon, "POST", "/api/v1/account/signup", `{"username":"someone","password":null}`, nil, 400, "invalid_request"},
		{"trailing data", anon, "POST", "/api/v1/account/signup", `{"username":"someone","password":"secret1"}{}`, nil, 400, "invalid_request"},
		{"not an object", anon, "POST", "/api/v1/account/signup", `["someone","secret1"]`, nil, 400, "invalid_request"},
		{"invalid UTF-8", anon, "POST", "/api/v1/account/signup", []byte("{\"username\":\"someone\",\"password\":\"secret\xff\xfe\"}"), nil, 400, "invalid_request"},
		{"role super_admin", root, "POST", "/api/v1/users", `{"username":"someone","password":"secret1","role":"super_admin"}`, nil, 400, "invalid_request"},
		{"role in another case", root, "POST", "/api/v1/users", `{"username":"someone","password":"secret1","role":"Admin"}`, nil, 400, "invalid_request"},
		{"malformed id before authentication", anon, "GET", "/api/v1/users/not-a-uuid", nil, nil, 400, "invalid_request"},
		{"malformed id", root, "PUT", "/api/v1/users/1234/activation", nil, nil, 400, "invalid_request"},
		{"no cookie", anon, "GET", "/api/v1/users", nil, nil, 401, "unauthenticated"},
		{"body ignored where none is taken", root, "GET", "/api/v1/account/me", `not json`, []string{"Content-Type", "text/plain"}, 200, ""},
		{"unknown route", anon, "GET", "/api/v1/nothing", nil, nil, 404, "not_found"},
		{"trailing slash", anon, "GET", "/api/v1/users/", nil, nil, 404, "not_found"},
		{"wrong method", anon, "GET", "/api/v1/account/login", nil, nil, 405, "method_not_allowed"},
		{"wrong method on a templated path", anon, "PATCH", "/api/v1/users/0190b3a2-0000-7000-8000-000000000000", nil, nil, 405, "method_not_allowed"},
		{"wrong method on roles", anon, "POST", "/api/v1/users/0190b3a2-0000-7000-8000-000000000000/roles/admin", nil, nil, 405, "method_not_allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do(tc.method, tc.path, tc.body, tc.header...)
			assertStatus(t, r, tc.status, tc.code)
			if tc.status >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
			if tc.status == 405 && r.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if r.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestDocsAndRoot(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	c := s.client()
	r := c.do("GET", "/", nil)
	if r.Status != http.StatusTemporaryRedirect || r.Header.Get("Location") != "/docs" {
		t.Fatalf("GET /: %d %q", r.Status, r.Header.Get("Location"))
	}
	if r := c.do("GET", "/docs", nil); r.Status != 200 || !strings.Contains(string(r.Body), "swagger") {
		t.Fatalf("GET /docs: %d", r.Status)
	}
	if r := c.do("GET", "/openapi.json", nil); r.Status != 200 || r.JSON(t)["openapi"] == nil {
		t.Fatalf("GET /openapi.json: %d", r.Status)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	c := s.client()
	if got := c.do("GET", "/api/v1/", nil, "X-Request-Id", "abc.DEF_123-x").Header.Get("X-Request-Id"); got != "abc.DEF_123-x" {
		t.Errorf("caller's id not kept: %q", got)
	}
	for _, bad := range []string{strings.Repeat("a", 129), "has space", "semi;colon"} {
		got := c.do("GET", "/api/v1/", nil, "X-Request-Id", bad).Header.Get("X-Request-Id")
		if got == "" || got == bad {
			t.Errorf("id %q answered with %q", bad, got)
		}
	}

	// The id names the request's access log line, which names the user and holds
	// no secret.
	s.superAdmin("root0")
	login := c.do("POST", "/api/v1/account/login", map[string]string{"username": "root0", "password": testPassword}, "X-Request-Id", "login-1")
	token := login.Cookie("auth_token").Value
	c.do("GET", "/api/v1/account/me", nil, "X-Request-Id", "me-1")
	// The line is written once the response has gone out: the client may read the
	// response first.
	meLines := func() []observer.LoggedEntry {
		return s.Logs.Filter(func(e observer.LoggedEntry) bool {
			return e.Message == "http request" && e.ContextMap()["correlation_id"] == "me-1"
		}).All()
	}
	waitFor(t, "the access log line", func() bool { return len(meLines()) > 0 })
	time.Sleep(50 * time.Millisecond) // room for a second line, should there be one
	lines := meLines()
	if len(lines) != 1 {
		t.Errorf("%d access log lines for one request", len(lines))
	}
	for _, e := range lines {
		if fields := e.ContextMap(); fields["user_id"] == nil || fields["user_id"] == "" {
			t.Errorf("access log lacks user_id: %v", fields)
		}
	}
	for _, e := range s.Logs.All() {
		text := e.Message
		for k, v := range e.ContextMap() {
			text += " " + k + "=" + toString(v)
		}
		if strings.Contains(text, testPassword) || strings.Contains(text, token) {
			t.Errorf("a log line reveals a secret: %s", text)
		}
	}
}
