package ports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/domain"
)

func TestAccessLog(t *testing.T) {
	id := withHeader("X-Request-Id", "req-7")
	cases := []struct {
		name   string
		send   func(h *harness) *httptest.ResponseRecorder
		method string
		route  string
		path   string
		status int
		level  zapcore.Level
		userID string
		// username is the name a failed login tried, logged for operators.
		username string
	}{
		{
			name: "authenticated",
			send: func(h *harness) *httptest.ResponseRecorder {
				return h.do(http.MethodPut, "/api/v1/users/"+targetID+"/password?token=query-secret", `{"password":"`+secretPassword+`"}`,
					withCookie(sessionToken), withHeader("Authorization", "Bearer header-secret"), id)
			},
			method: http.MethodPut, route: "/api/v1/users/{id}/password", path: "/api/v1/users/" + targetID + "/password",
			status: http.StatusNoContent, level: zapcore.InfoLevel, userID: actorID,
		},
		{
			name: "login",
			send: func(h *harness) *httptest.ResponseRecorder {
				return h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`, id)
			},
			method: http.MethodPost, route: "/api/v1/account/login", path: "/api/v1/account/login",
			status: http.StatusNoContent, level: zapcore.InfoLevel,
		},
		{
			name: "failed login",
			send: func(h *harness) *httptest.ResponseRecorder {
				h.login.err = domain.ErrInvalidCredentials
				return h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`, id)
			},
			method: http.MethodPost, route: "/api/v1/account/login", path: "/api/v1/account/login",
			status: http.StatusUnauthorized, level: zapcore.WarnLevel, username: "alice",
		},
		{
			name: "throttled login",
			send: func(h *harness) *httptest.ResponseRecorder {
				h.login.err = &domain.Error{Code: domain.CodeRateLimited, Detail: "Too many failed logins.", RetryAfter: time.Minute}
				return h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`, id)
			},
			method: http.MethodPost, route: "/api/v1/account/login", path: "/api/v1/account/login",
			status: http.StatusTooManyRequests, level: zapcore.WarnLevel, username: "alice",
		},
		{
			name: "login refused for another reason",
			send: func(h *harness) *httptest.ResponseRecorder {
				h.login.err = domain.Unavailable("database down", 0)
				return h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`, id)
			},
			method: http.MethodPost, route: "/api/v1/account/login", path: "/api/v1/account/login",
			status: http.StatusServiceUnavailable, level: zapcore.ErrorLevel,
		},
		{
			name: "authorization refused",
			send: func(h *harness) *httptest.ResponseRecorder {
				h.setAdmin.err = domain.ErrForbidden
				return h.do(http.MethodPut, "/api/v1/users/"+targetID+"/roles/admin", "", withCookie(sessionToken), id)
			},
			method: http.MethodPut, route: "/api/v1/users/{id}/roles/admin", path: "/api/v1/users/" + targetID + "/roles/admin",
			status: http.StatusForbidden, level: zapcore.WarnLevel, userID: actorID,
		},
		{
			name: "client error",
			send: func(h *harness) *httptest.ResponseRecorder {
				return h.do(http.MethodPost, "/api/v1/account/signup", `{"username":"alice","password":"`+secretPassword+`","x":1}`, id)
			},
			method: http.MethodPost, route: "/api/v1/account/signup", path: "/api/v1/account/signup",
			status: http.StatusBadRequest, level: zapcore.InfoLevel,
		},
		{
			name: "server error",
			send: func(h *harness) *httptest.ResponseRecorder {
				h.me.err = domain.Unavailable("database down", 0)
				return h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken), id)
			},
			method: http.MethodGet, route: "/api/v1/account/me", path: "/api/v1/account/me",
			status: http.StatusServiceUnavailable, level: zapcore.ErrorLevel, userID: actorID,
		},
		{
			name: "not found",
			send: func(h *harness) *httptest.ResponseRecorder {
				return h.do(http.MethodGet, "/nope", "", id)
			},
			method: http.MethodGet, route: "", path: "/nope",
			status: http.StatusNotFound, level: zapcore.InfoLevel,
		},
		{
			name: "method not allowed",
			send: func(h *harness) *httptest.ResponseRecorder {
				return h.do(http.MethodPatch, "/api/v1/users/"+targetID, "", id)
			},
			method: http.MethodPatch, route: "/api/v1/users/{id}", path: "/api/v1/users/" + targetID,
			status: http.StatusMethodNotAllowed, level: zapcore.InfoLevel,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.router()
			w := c.send(h)
			entries := h.logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want exactly one: %v", len(entries), entries)
			}
			e := entries[0]
			if e.Message != "http request" || e.Level != c.level {
				t.Errorf("line %q at %v, want \"http request\" at %v", e.Message, e.Level, c.level)
			}
			fields := e.ContextMap()
			want := map[string]any{
				"method":         c.method,
				"route":          c.route,
				"path":           c.path,
				"status":         int64(c.status),
				"bytes":          int64(w.Body.Len()),
				"correlation_id": "req-7",
				"remote":         "192.0.2.1:1234",
			}
			for k, v := range want {
				if fields[k] != v {
					t.Errorf("%s = %#v, want %#v", k, fields[k], v)
				}
			}
			if got, ok := fields["user_id"]; c.userID != "" && got != c.userID || c.userID == "" && ok {
				t.Errorf("user_id = %v, want %q", got, c.userID)
			}
			if got, ok := fields["username"]; c.username != "" && got != c.username || c.username == "" && ok {
				t.Errorf("username = %v, want %q", got, c.username)
			}
			if _, ok := fields["duration"].(time.Duration); !ok {
				t.Errorf("duration = %#v", fields["duration"])
			}
			line := fmt.Sprint(fields)
			for _, secret := range []string{secretPassword, sessionToken, "query-secret", "header-secret", "token="} {
				if strings.Contains(line, secret) {
					t.Errorf("the log line holds %q: %s", secret, line)
				}
			}
		})
	}
}

// withContext sends the request with ctx, as the server does once it has one.
func withContext(ctx context.Context) option {
	return func(r *http.Request) { *r = *r.WithContext(ctx) }
}

// A client that hangs up is not an outage: its request is logged as nginx's 499 at
// info, whatever error the cancellation caused inside, and nothing is written for it.
func TestClientThatHangsUpIsLogged499(t *testing.T) {
	for name, err := range map[string]error{
		"the cancellation itself": fmt.Errorf("send: %w", context.Canceled),
		"a bus failure":           domain.Unavailable("no reply from the bus", 0),
		"an internal error":       errors.New("connection reset"),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.router()
			h.me.err = err
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken), withContext(ctx))
			if w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" || w.Header().Get("Retry-After") != "" {
				t.Errorf("answered a client that is gone: %d %v %s", w.Code, w.Header(), w.Body)
			}
			if !h.aborted {
				t.Error("the request was not aborted: net/http would answer 200 to anyone still listening")
			}
			entries := h.logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want exactly one: %v", len(entries), entries)
			}
			fields := entries[0].ContextMap()
			if entries[0].Level != zapcore.InfoLevel || fields["status"] != int64(499) {
				t.Errorf("logged status %v at %v, want 499 at info", fields["status"], entries[0].Level)
			}
			if _, ok := fields["error"]; ok {
				t.Errorf("logged the error %v of a request nobody waits for", fields["error"])
			}
			if got := h.logs.FilterLevelExact(zapcore.ErrorLevel).Len(); got != 0 {
				t.Errorf("%d error lines, want none", got)
			}
		})
	}
}

// A deadline that passes is the service being too slow, not the client leaving:
// that stays a 503 worth an error line.
func TestDeadlineIsStill503(t *testing.T) {
	h := newHarness(t)
	h.router()
	h.me.err = fmt.Errorf("send: %w", context.DeadlineExceeded)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken), withContext(ctx))
	wantProblem(t, w, http.StatusServiceUnavailable, domain.CodeUnavailable)
	entries := h.logs.All()
	if len(entries) != 1 || entries[0].Level != zapcore.ErrorLevel || entries[0].ContextMap()["status"] != int64(503) {
		t.Errorf("logged %v, want one error line with status 503", entries)
	}
}

func TestPanicsAnswer500(t *testing.T) {
	h := newHarness(t)
	h.cfg.Docs = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("docs exploded") })
	w := h.do(http.MethodGet, "/docs", "", withHeader("X-Request-Id", "req-panic"))
	wantProblem(t, w, http.StatusInternalServerError, domain.CodeInternal)
	if strings.Contains(w.Body.String(), "exploded") {
		t.Errorf("the panic reached the client: %s", w.Body)
	}
	if w.Header().Get("X-Request-Id") != "req-panic" {
		t.Errorf("X-Request-Id = %q", w.Header().Get("X-Request-Id"))
	}
	entries := h.logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d log lines, want one", len(entries))
	}
	fields := entries[0].ContextMap()
	stack, _ := fields["stack"].(string)
	if entries[0].Level != zapcore.ErrorLevel || fields["status"] != int64(500) || fields["correlation_id"] != "req-panic" ||
		!strings.Contains(fmt.Sprint(fields["error"]), "docs exploded") || !strings.Contains(stack, "TestPanicsAnswer500") {
		t.Errorf("logged %v at %v", fields, entries[0].Level)
	}
}

func TestPanicAfterWritingKeepsTheResponse(t *testing.T) {
	h := newHarness(t)
	h.cfg.Spec = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		panic("too late")
	})
	w := h.do(http.MethodGet, "/openapi.json", "")
	if w.Code != http.StatusOK {
		t.Errorf("status = %d: a second status was written", w.Code)
	}
	if e := h.logs.All(); len(e) != 1 || e[0].Level != zapcore.ErrorLevel {
		t.Errorf("logged %v, want one error line", e)
	}
}

func TestRequestTimeout(t *testing.T) {
	h := newHarness(t)
	h.cfg.RequestTimeout = time.Minute
	h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))
	deadline, ok := h.me.ctx.Deadline()
	if left := time.Until(deadline); !ok || left > time.Minute || left < 50*time.Second {
		t.Errorf("deadline in %v (set: %v), want about a minute", left, ok)
	}
}

func TestConfigDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	if got.MaxBodyBytes != 64<<10 || got.RequestTimeout != 10*time.Second || got.CookieName != "auth_token" {
		t.Errorf("defaults = %+v", got)
	}
}

// Behind a trusted proxy the access line names the client as well as the peer; a
// direct client has only the peer.
func TestAccessLogNamesTheClientBehindATrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name, remote, forwarded string
		wantClient              any // nil: no client field
	}{
		{"behind the proxy", "10.0.0.5:1234", "203.0.113.9", "203.0.113.9"},
		{"direct", "192.0.2.1:1234", "203.0.113.9", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
			h.do(http.MethodGet, "/livez", "", func(r *http.Request) {
				r.RemoteAddr = tc.remote
				r.Header.Set("X-Forwarded-For", tc.forwarded)
			})
			entries := h.logs.FilterMessage("http request").All()
			if len(entries) != 1 {
				t.Fatalf("%d access lines, want 1", len(entries))
			}
			fields := entries[0].ContextMap()
			if fields["client"] != tc.wantClient || fields["remote"] != tc.remote {
				t.Errorf("client %v, remote %v; want %v and %s", fields["client"], fields["remote"], tc.wantClient, tc.remote)
			}
		})
	}
}

// observed is a RequestObserver that keeps what it hears.
type observed struct {
	requests []string
}

func (o *observed) ObserveRequest(route, method string, status int, took time.Duration) {
	if took <= 0 {
		status = -1 // a duration must be measured
	}
	o.requests = append(o.requests, fmt.Sprintf("%s %s %d", method, route, status))
}

// The metrics hear of every request by its route template, never its raw path, with
// the status the client got.
func TestRequestObserverHearsRouteTemplatesAndStatuses(t *testing.T) {
	h := newHarness(t)
	o := &observed{}
	h.cfg.Observer = o
	h.router()
	h.do(http.MethodGet, "/api/v1/users/"+targetID, "", withCookie(sessionToken))
	h.do(http.MethodGet, "/api/v1/users/"+targetID+"/nope", "", withCookie(sessionToken))
	h.do("BREW", "/api/v1/account/me", "", withCookie(sessionToken))
	h.me.err = domain.Unavailable("database down", 0)
	h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))

	want := []string{
		"GET /api/v1/users/{id} 200",
		"GET  404",
		"BREW /api/v1/account/me 405",
		"GET /api/v1/account/me 503",
	}
	if fmt.Sprint(o.requests) != fmt.Sprint(want) {
		t.Errorf("observed %q, want %q", o.requests, want)
	}
}
