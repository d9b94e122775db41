package ports

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// fakeSender records the last message it was sent, with its context, and answers
// with res or err, after delay.
type fakeSender[M, R any] struct {
	msg   M
	ctx   context.Context
	calls int
	res   R
	err   error
	delay time.Duration
}

func (f *fakeSender[M, R]) Send(ctx context.Context, msg M) (R, error) {
	f.ctx, f.msg = ctx, msg
	f.calls++
	time.Sleep(f.delay)
	return f.res, f.err
}

const (
	sessionToken   = "session-token"
	refreshedToken = "refreshed-token"
	actorID        = "0190a8b2-7c3e-7d41-9a8e-5f2b6c1d3e4f"
	targetID       = "0190a8b2-7c3e-7d41-9a8e-000000000001"
	secretPassword = "correct horse battery"
)

var (
	theActor = domain.Actor{ID: actorID, Role: domain.RoleSuperAdmin, SessionID: "session-id"}
	created  = time.Date(2026, 11, 24, 8, 0, 0, 123456789, time.UTC)
	updated  = time.Date(2026, 11, 24, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	aUser    = queries.UserView{ID: targetID, Username: "bob.smith", Role: domain.RoleUser, IsActive: true, CreatedAt: created, UpdatedAt: updated}
	// aUserJSON is aUser as the API writes it: UTC, exactly six fractional digits.
	aUserJSON = `{"id":"` + targetID + `","username":"bob.smith","role":"user","is_active":true,` +
		`"created_at":"2026-11-24T08:00:00.123456Z","updated_at":"2026-11-24T08:30:00.000000Z"}`
)

// harness is the router wired to fake senders that succeed unless told otherwise,
// with its log lines observed.
type harness struct {
	t                 *testing.T
	handler           http.Handler
	logs              *observer.ObservedLogs
	cfg               Config
	signup            *fakeSender[commands.Signup, commands.SignupResult]
	login             *fakeSender[commands.Login, commands.LoginResult]
	logout            *fakeSender[commands.Logout, commands.NoResult]
	authenticate      *fakeSender[commands.Authenticate, commands.Authenticated]
	changeOwnPassword *fakeSender[commands.ChangeOwnPassword, commands.NoResult]
	createUser        *fakeSender[commands.CreateUser, commands.CreateUserResult]
	setUserPassword   *fakeSender[commands.SetUserPassword, commands.NoResult]
	setAdmin          *fakeSender[commands.SetAdmin, commands.NoResult]
	setActive         *fakeSender[commands.SetActive, commands.NoResult]
	me                *fakeSender[queries.Me, queries.UserView]
	getUser           *fakeSender[queries.GetUser, queries.UserView]
	listUsers         *fakeSender[queries.ListUsers, queries.UserPage]
	probes            []Probe
	// aborted says whether the last request was aborted (http.ErrAbortHandler), as
	// net/http does by closing the connection without an answer.
	aborted bool
}

const testMaxBody = 1024

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{
		t: t,
		cfg: Config{
			MaxBodyBytes:   testMaxBody,
			RequestTimeout: 5 * time.Second,
			CookieName:     "auth_token",
			Docs:           stubDocument("swagger ui"),
			Spec:           stubDocument(`{"openapi":"3.1.0"}`),
		},
		signup:            &fakeSender[commands.Signup, commands.SignupResult]{res: commands.SignupResult{ID: targetID}},
		login:             &fakeSender[commands.Login, commands.LoginResult]{res: commands.LoginResult{Token: sessionToken}},
		logout:            &fakeSender[commands.Logout, commands.NoResult]{},
		authenticate:      &fakeSender[commands.Authenticate, commands.Authenticated]{res: commands.Authenticated{Actor: theActor}},
		changeOwnPassword: &fakeSender[commands.ChangeOwnPassword, commands.NoResult]{},
		createUser:        &fakeSender[commands.CreateUser, commands.CreateUserResult]{res: commands.CreateUserResult{ID: targetID, CreatedAt: created}},
		setUserPassword:   &fakeSender[commands.SetUserPassword, commands.NoResult]{},
		setAdmin:          &fakeSender[commands.SetAdmin, commands.NoResult]{},
		setActive:         &fakeSender[commands.SetActive, commands.NoResult]{},
		me:                &fakeSender[queries.Me, queries.UserView]{res: aUser},
		getUser:           &fakeSender[queries.GetUser, queries.UserView]{res: aUser},
		listUsers:         &fakeSender[queries.ListUsers, queries.UserPage]{},
	}
	return h
}

// stubDocument stands in for the documentation handlers; it sets no security headers
// of its own, so the test sees exactly what the router adds.
func stubDocument(body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, body)
	})
}

func (h *harness) router() http.Handler {
	if h.handler == nil {
		core, logs := observer.New(zapcore.DebugLevel)
		h.logs = logs
		h.handler = NewRouter(h.cfg, Senders{
			Signup:            h.signup,
			Login:             h.login,
			Logout:            h.logout,
			Authenticate:      h.authenticate,
			ChangeOwnPassword: h.changeOwnPassword,
			CreateUser:        h.createUser,
			SetUserPassword:   h.setUserPassword,
			SetAdmin:          h.setAdmin,
			SetActive:         h.setActive,
			Me:                h.me,
			GetUser:           h.getUser,
			ListUsers:         h.listUsers,
		}, h.probes, zap.New(core))
	}
	return h.handler
}

// option changes a test request.
type option func(*http.Request)

func withCookie(token string) option {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth_token", Value: token}) }
}

func withHeader(name, value string) option {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func withoutHeader(name string) option {
	return func(r *http.Request) { r.Header.Del(name) }
}

// do serves one request; a non-empty body is sent as application/json unless an
// option says otherwise.
func (h *harness) do(method, path, body string, opts ...option) (w *httptest.ResponseRecorder) {
	h.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, opt := range opts {
		opt(r)
	}
	w = httptest.NewRecorder()
	h.aborted = false
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler { //nolint:errorlint // net/http compares the same way
				panic(v)
			}
			h.aborted = true
		}
	}()
	h.router().ServeHTTP(w, r)
	return w
}

// wantProblem checks that w is the problem document for status and code, naming
// exactly the given fields in "errors" (and having no "errors" when none are given).
func wantProblem(t *testing.T, w *httptest.ResponseRecorder, status int, code domain.Code, fields ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
		Errors *[]struct {
			Field   string `json:"field"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %s: %v", w.Body, err)
	}
	if p.Type != "about:blank" || p.Title != http.StatusText(status) || p.Status != status || p.Code != string(code) || p.Detail == "" {
		t.Errorf("problem = %s, want type about:blank, title %q, status %d, code %s, a detail", w.Body, http.StatusText(status), status, code)
	}
	if len(fields) == 0 {
		if p.Errors != nil {
			t.Errorf("problem has errors, want none: %s", w.Body)
		}
		return
	}
	var got []string
	if p.Errors != nil {
		for _, e := range *p.Errors {
			if e.Message == "" {
				t.Errorf("field error %q has no message", e.Field)
			}
			got = append(got, e.Field)
		}
	}
	if !slices.Equal(got, fields) {
		t.Errorf("problem names fields %q, want %q: %s", got, fields, w.Body)
	}
}

// wantBody checks the status, the JSON content type and the exact body.
func wantBody(t *testing.T, w *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if got := w.Body.String(); got != body {
		t.Errorf("body = %s\nwant   %s", got, body)
	}
}

func wantNoContent(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("got %d %q, want 204 with no body", w.Code, w.Body)
	}
}

// setCookies returns the Set-Cookie headers of w.
func setCookies(w *httptest.ResponseRecorder) []string {
	return w.Result().Header.Values("Set-Cookie")
}

const (
	sessionCookieHeader = "auth_token=" + sessionToken + "; Path=/; HttpOnly; SameSite=Lax"
	removalCookieHeader = "auth_token=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
)
