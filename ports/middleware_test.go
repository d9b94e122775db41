package ports

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
				"method":     c.method,
				"route":      c.route,
				"path":       c.path,
				"status":     int64(c.status),
				"bytes":      int64(w.Body.Len()),
				"request_id": "req-7",
				"remote":     "192.0.2.1:1234",
			}
			for k, v := range want {
				if fields[k] != v {
					t.Errorf("%s = %#v, want %#v", k, fields[k], v)
				}
			}
			if got, ok := fields["user_id"]; c.userID != "" && got != c.userID || c.userID == "" && ok {
				t.Errorf("user_id = %v, want %q", got, c.userID)
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
	if entries[0].Level != zapcore.ErrorLevel || fields["status"] != int64(500) || fields["request_id"] != "req-panic" ||
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
