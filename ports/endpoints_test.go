package ports

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/domain"
)

// The tests in this file run over every endpoint of the API that does more than
// answer a constant, checking what all of them must share.

type authKind int

const (
	loggedIn  authKind = iota // the endpoint needs a session
	loggedOut                 // signup and login refuse a valid session
)

type apiEndpoint struct {
	method string
	path   string   // with a valid id where the template has {id}
	body   string   // a valid body; "" when the endpoint takes none
	fields []string // the body's members, in order
	auth   authKind
	fail   func(h *harness, err error) // makes the endpoint's use case fail with err
	calls  func(h *harness) int        // how often the use case was sent
}

func (e apiEndpoint) String() string { return e.method + " " + e.path }

func apiEndpoints() []apiEndpoint {
	users := "/api/v1/users/" + targetID
	return []apiEndpoint{
		{http.MethodPost, "/api/v1/account/signup", `{"username":"alice","password":"` + secretPassword + `"}`, []string{"username", "password"}, loggedOut,
			func(h *harness, err error) { h.signup.err = err }, func(h *harness) int { return h.signup.calls }},
		{http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"` + secretPassword + `"}`, []string{"username", "password"}, loggedOut,
			func(h *harness, err error) { h.login.err = err }, func(h *harness) int { return h.login.calls }},
		{http.MethodPost, "/api/v1/account/logout", "", nil, loggedIn,
			func(h *harness, err error) { h.logout.err = err }, func(h *harness) int { return h.logout.calls }},
		{http.MethodGet, "/api/v1/account/me", "", nil, loggedIn,
			func(h *harness, err error) { h.me.err = err }, func(h *harness) int { return h.me.calls }},
		{http.MethodPut, "/api/v1/account/password", `{"current_password":"old-secret","new_password":"` + secretPassword + `"}`, []string{"current_password", "new_password"}, loggedIn,
			func(h *harness, err error) { h.changeOwnPassword.err = err }, func(h *harness) int { return h.changeOwnPassword.calls }},
		{http.MethodPost, "/api/v1/users", `{"username":"carol","password":"` + secretPassword + `","role":"admin"}`, []string{"username", "password", "role"}, loggedIn,
			func(h *harness, err error) { h.createUser.err = err }, func(h *harness) int { return h.createUser.calls }},
		{http.MethodGet, "/api/v1/users", "", nil, loggedIn,
			func(h *harness, err error) { h.listUsers.err = err }, func(h *harness) int { return h.listUsers.calls }},
		{http.MethodGet, users, "", nil, loggedIn,
			func(h *harness, err error) { h.getUser.err = err }, func(h *harness) int { return h.getUser.calls }},
		{http.MethodPut, users + "/password", `{"password":"` + secretPassword + `"}`, []string{"password"}, loggedIn,
			func(h *harness, err error) { h.setUserPassword.err = err }, func(h *harness) int { return h.setUserPassword.calls }},
		{http.MethodPut, users + "/roles/admin", "", nil, loggedIn,
			func(h *harness, err error) { h.setAdmin.err = err }, func(h *harness) int { return h.setAdmin.calls }},
		{http.MethodDelete, users + "/roles/admin", "", nil, loggedIn,
			func(h *harness, err error) { h.setAdmin.err = err }, func(h *harness) int { return h.setAdmin.calls }},
		{http.MethodPut, users + "/activation", "", nil, loggedIn,
			func(h *harness, err error) { h.setActive.err = err }, func(h *harness) int { return h.setActive.calls }},
		{http.MethodDelete, users + "/activation", "", nil, loggedIn,
			func(h *harness, err error) { h.setActive.err = err }, func(h *harness) int { return h.setActive.calls }},
	}
}

func (e apiEndpoint) hasID() bool { return strings.Contains(e.path, targetID) }

// successStatus is what e answers when everything goes well.
func (e apiEndpoint) successStatus() int {
	switch e.String() {
	case "POST /api/v1/account/signup", "POST /api/v1/users":
		return http.StatusCreated
	case "GET /api/v1/account/me", "GET /api/v1/users", "GET /api/v1/users/" + targetID:
		return http.StatusOK
	}
	return http.StatusNoContent
}

// shapeCase is a request body that must be refused before anything else is looked at.
type shapeCase struct {
	name   string
	body   string
	opts   []option
	status int
	code   domain.Code
	fields []string
}

// shapeCases are the refusals of step 2 of the order of checks for an endpoint with a body.
func shapeCases(e apiEndpoint) []shapeCase {
	first := e.fields[0]
	capitalized := strings.ToUpper(first[:1]) + first[1:]
	bad := func(name, body string, fields ...string) shapeCase {
		return shapeCase{name: name, body: body, status: http.StatusBadRequest, code: codeInvalidRequest, fields: fields}
	}
	return []shapeCase{
		{name: "body one byte over the limit", body: oneByteTooLarge(first),
			status: http.StatusRequestEntityTooLarge, code: codePayloadTooLarge},
		{name: "too large and not JSON: size first", body: strings.Repeat("a", testMaxBody+1), opts: []option{withHeader("Content-Type", "text/plain")},
			status: http.StatusRequestEntityTooLarge, code: codePayloadTooLarge},
		{name: "Content-Length over the limit", body: e.body, opts: []option{claimLength(testMaxBody + 1)},
			status: http.StatusRequestEntityTooLarge, code: codePayloadTooLarge},
		{name: "text/plain", body: e.body, opts: []option{withHeader("Content-Type", "text/plain")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		{name: "no content type", body: e.body, opts: []option{withoutHeader("Content-Type")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		{name: "a JSON-like media type", body: e.body, opts: []option{withHeader("Content-Type", "application/problem+json")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		{name: "malformed content type", body: e.body, opts: []option{withHeader("Content-Type", "application/json; charset")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		{name: "JSON in another charset", body: e.body, opts: []option{withHeader("Content-Type", "application/json; charset=latin1")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		{name: "a compressed body", body: e.body, opts: []option{withHeader("Content-Encoding", "gzip")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		{name: "identity, then gzip", body: e.body, opts: []option{withHeader("Content-Encoding", "identity, gzip")},
			status: http.StatusUnsupportedMediaType, code: codeUnsupportedMediaType},
		bad("empty body", ""),
		bad("whitespace", " \n"),
		bad("null", "null"),
		bad("array", "[]"),
		bad("string", `"text"`),
		bad("number", "1"),
		bad("truncated", `{"`+first+`":`),
		bad("not JSON", `{`+first+`: "x"}`),
		bad("trailing object", e.body+`{}`),
		bad("trailing garbage", e.body+` x`),
		bad("invalid UTF-8", `{"`+first+"\":\"\xff\xfe\"}"),
		bad("invalid UTF-8 in a name", "{\"\xff\":\"x\"}"),
		bad("duplicate member", `{"`+first+`":"x",`+e.body[1:], first),
		bad("case-mismatched name", `{"`+capitalized+`":"x"}`, capitalized),
		bad("unknown member", `{"extra":"x",`+e.body[1:], "extra"),
		bad("null member", `{"`+first+`":null}`, first),
		bad("number member", `{"`+first+`":42}`, first),
		bad("object member", `{"`+first+`":{"a":1}}`, first),
		bad("array member", `{"`+first+`":["x"]}`, first),
		bad("empty object", `{}`, e.fields...),
	}
}

// oneByteTooLarge is a valid body one byte longer than the limit.
func oneByteTooLarge(member string) string {
	prefix := `{"` + member + `":"`
	return prefix + strings.Repeat("a", testMaxBody+1-len(prefix)-len(`"}`)) + `"}`
}

// claimLength makes the request claim a Content-Length without sending that much.
func claimLength(n int64) option {
	return func(r *http.Request) { r.ContentLength = n }
}

func TestShapeIsCheckedBeforeTheSession(t *testing.T) {
	for _, e := range apiEndpoints() {
		if e.body == "" {
			continue
		}
		for _, c := range shapeCases(e) {
			t.Run(e.String()+"/"+c.name, func(t *testing.T) {
				h := newHarness(t)
				w := h.do(e.method, e.path, c.body, append([]option{withCookie(sessionToken)}, c.opts...)...)
				wantProblem(t, w, c.status, c.code, c.fields...)
				if h.authenticate.calls != 0 || e.calls(h) != 0 {
					t.Errorf("the session or the use case was consulted for a malformed request")
				}
				if len(setCookies(w)) != 0 {
					t.Errorf("Set-Cookie = %q, want none", setCookies(w))
				}
			})
		}
	}
}

func TestBodiesAreIgnoredWhereNoneIsTaken(t *testing.T) {
	for _, e := range apiEndpoints() {
		if e.body != "" {
			continue
		}
		t.Run(e.String(), func(t *testing.T) {
			h := newHarness(t)
			huge := strings.Repeat("x", testMaxBody+1)
			w := h.do(e.method, e.path, huge, withCookie(sessionToken), withHeader("Content-Type", "text/plain"))
			if w.Code != e.successStatus() {
				t.Fatalf("status = %d, want %d; body %s", w.Code, e.successStatus(), w.Body)
			}
		})
	}
}

func TestMediaTypeMayHaveParametersAndAnyCase(t *testing.T) {
	for _, ct := range []string{"application/json", "Application/JSON", "application/json; charset=utf-8", "application/json;charset=UTF-8", "application/json; charset=\"utf-8\"", "application/json; charset=utf8"} {
		t.Run(ct, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"secret"}`, withHeader("Content-Type", ct))
			wantNoContent(t, w)
		})
	}
}

// A body that says it comes as it is, in any letter case, is read.
func TestIdentityContentEncodingIsAccepted(t *testing.T) {
	for _, ce := range []string{"identity", "IDENTITY", " identity "} {
		h := newHarness(t)
		w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"secret"}`, withHeader("Content-Encoding", ce))
		wantNoContent(t, w)
	}
}

func TestMalformedIDIsRefusedBeforeAuthentication(t *testing.T) {
	ids := []struct {
		id     string
		status int
		code   domain.Code
		fields []string
	}{
		{"not-a-uuid", http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		{strings.ReplaceAll(targetID, "-", ""), http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		{"{" + targetID + "}", http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		{"urn:uuid:" + targetID, http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		{targetID[:35], http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		{targetID + "0", http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		{strings.Replace(targetID, "0", "g", 1), http.StatusBadRequest, codeInvalidRequest, []string{"id"}},
		// An escaped slash neither ends the segment nor belongs to an id: the path
		// names nothing.
		{targetID + "%2Fpassword", http.StatusNotFound, domain.CodeNotFound, nil},
	}
	for _, e := range apiEndpoints() {
		if !e.hasID() {
			continue
		}
		for _, c := range ids {
			t.Run(e.String()+"/"+c.id, func(t *testing.T) {
				h := newHarness(t)
				w := h.do(e.method, strings.Replace(e.path, targetID, c.id, 1), e.body)
				wantProblem(t, w, c.status, c.code, c.fields...)
				if e.calls(h) != 0 {
					t.Error("the use case was sent a malformed id")
				}
			})
		}
	}
}

func TestSessionIsRequired(t *testing.T) {
	for _, e := range apiEndpoints() {
		if e.auth != loggedIn {
			continue
		}
		t.Run(e.String()+"/no cookie", func(t *testing.T) {
			h := newHarness(t)
			w := h.do(e.method, e.path, e.body)
			wantProblem(t, w, http.StatusUnauthorized, domain.CodeUnauthenticated)
			if len(setCookies(w)) != 0 || h.authenticate.calls != 0 || e.calls(h) != 0 {
				t.Errorf("want no cookie, no bus round trip; got cookies %q", setCookies(w))
			}
		})
		t.Run(e.String()+"/empty cookie", func(t *testing.T) {
			h := newHarness(t)
			w := h.do(e.method, e.path, e.body, withCookie(""))
			wantProblem(t, w, http.StatusUnauthorized, domain.CodeUnauthenticated)
			if h.authenticate.calls != 0 {
				t.Error("an empty cookie was sent to be authenticated")
			}
		})
		t.Run(e.String()+"/refused cookie", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.err = domain.ErrUnauthenticated
			w := h.do(e.method, e.path, e.body, withCookie("expired"))
			wantProblem(t, w, http.StatusUnauthorized, domain.CodeUnauthenticated)
			if got := setCookies(w); len(got) != 1 || got[0] != removalCookieHeader {
				t.Errorf("Set-Cookie = %q, want the removal %q", got, removalCookieHeader)
			}
			if h.authenticate.msg.Token != "expired" || e.calls(h) != 0 {
				t.Errorf("Authenticate got %+v; use case calls %d", h.authenticate.msg, e.calls(h))
			}
		})
		t.Run(e.String()+"/session store unavailable", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.err = domain.Unavailable("database down", 0)
			w := h.do(e.method, e.path, e.body, withCookie(sessionToken))
			wantProblem(t, w, http.StatusServiceUnavailable, domain.CodeUnavailable)
			if len(setCookies(w)) != 0 {
				t.Errorf("Set-Cookie = %q: a session that could not be checked is not invalid", setCookies(w))
			}
		})
		t.Run(e.String()+"/refreshed session", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.res.RefreshedToken = refreshedToken
			w := h.do(e.method, e.path, e.body, withCookie(sessionToken))
			if w.Code != e.successStatus() {
				t.Fatalf("status = %d, want %d; body %s", w.Code, e.successStatus(), w.Body)
			}
			want := "auth_token=" + refreshedToken + "; Path=/; HttpOnly; SameSite=Lax"
			if e.String() == "POST /api/v1/account/logout" {
				want = removalCookieHeader
			}
			if got := setCookies(w); len(got) != 1 || got[0] != want {
				t.Errorf("Set-Cookie = %q, want %q", got, want)
			}
			if h.authenticate.msg.Token != sessionToken {
				t.Errorf("Authenticate got token %q", h.authenticate.msg.Token)
			}
		})
	}
}

func TestSessionIsRefusedOnSignupAndLogin(t *testing.T) {
	for _, e := range apiEndpoints() {
		if e.auth != loggedOut {
			continue
		}
		t.Run(e.String()+"/valid session", func(t *testing.T) {
			h := newHarness(t)
			w := h.do(e.method, e.path, e.body, withCookie(sessionToken))
			wantProblem(t, w, http.StatusForbidden, codeAlreadyAuthenticated)
			if e.calls(h) != 0 || len(setCookies(w)) != 0 {
				t.Errorf("use case calls %d, cookies %q; want none", e.calls(h), setCookies(w))
			}
		})
		t.Run(e.String()+"/valid session refreshed", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.res.RefreshedToken = refreshedToken
			w := h.do(e.method, e.path, e.body, withCookie(sessionToken))
			wantProblem(t, w, http.StatusForbidden, codeAlreadyAuthenticated)
			if got := setCookies(w); len(got) != 1 || !strings.HasPrefix(got[0], "auth_token="+refreshedToken+";") {
				t.Errorf("Set-Cookie = %q, want the refreshed session", got)
			}
		})
		t.Run(e.String()+"/invalid session", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.err = domain.ErrUnauthenticated
			w := h.do(e.method, e.path, e.body, withCookie("stale"))
			if w.Code != e.successStatus() {
				t.Fatalf("status = %d, want %d; body %s", w.Code, e.successStatus(), w.Body)
			}
			// One word per response on the cookie: the new session replaces the
			// removal of the stale one.
			want := removalCookieHeader
			if e.path == "/api/v1/account/login" {
				want = sessionCookieHeader
			}
			if got := setCookies(w); len(got) != 1 || got[0] != want {
				t.Errorf("Set-Cookie = %q, want only %q", got, want)
			}
		})
		t.Run(e.String()+"/invalid session and a failing use case", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.err = domain.ErrUnauthenticated
			e.fail(h, domain.ErrInvalidCredentials)
			w := h.do(e.method, e.path, e.body, withCookie("stale"))
			wantProblem(t, w, http.StatusUnauthorized, domain.CodeInvalidCredentials)
			if got := setCookies(w); len(got) != 1 || got[0] != removalCookieHeader {
				t.Errorf("Set-Cookie = %q, want the removal", got)
			}
		})
		t.Run(e.String()+"/session store unavailable", func(t *testing.T) {
			h := newHarness(t)
			h.authenticate.err = domain.Unavailable("database down", 0)
			w := h.do(e.method, e.path, e.body, withCookie(sessionToken))
			wantProblem(t, w, http.StatusServiceUnavailable, domain.CodeUnavailable)
			if e.calls(h) != 0 {
				t.Error("the use case ran although the session could not be checked")
			}
		})
		t.Run(e.String()+"/no cookie", func(t *testing.T) {
			h := newHarness(t)
			w := h.do(e.method, e.path, e.body)
			if w.Code != e.successStatus() || h.authenticate.calls != 0 {
				t.Fatalf("status = %d, Authenticate calls %d", w.Code, h.authenticate.calls)
			}
		})
	}
}

func TestUseCaseErrorsAreAnswered(t *testing.T) {
	for _, e := range apiEndpoints() {
		t.Run(e.String(), func(t *testing.T) {
			h := newHarness(t)
			e.fail(h, domain.ErrForbidden)
			w := h.do(e.method, e.path, e.body, withCookie(sessionToken))
			if e.auth == loggedOut {
				w = h.do(e.method, e.path, e.body)
			}
			wantProblem(t, w, http.StatusForbidden, domain.CodeForbidden)
		})
	}
}

func TestRequestContextReachesTheBus(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken), withHeader("X-Request-Id", "trace-42"))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	for name, ctx := range map[string]context.Context{"Authenticate": h.authenticate.ctx, "Me": h.me.ctx} {
		if id := domain.CorrelationID(ctx); id != "trace-42" {
			t.Errorf("%s: correlation id %q, want trace-42", name, id)
		}
		if deadline, ok := ctx.Deadline(); !ok || time.Until(deadline) > h.cfg.RequestTimeout {
			t.Errorf("%s: deadline %v (set: %v), want within the request timeout", name, deadline, ok)
		}
	}
}
