package ports

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/ports/openapi"
	"github.com/example/accounts/queries"
)

func TestRoutes(t *testing.T) {
	want := []Route{
		{http.MethodGet, "/"},
		{http.MethodGet, "/api/v1/"},
		{http.MethodPost, "/api/v1/account/login"},
		{http.MethodPost, "/api/v1/account/logout"},
		{http.MethodGet, "/api/v1/account/me"},
		{http.MethodPut, "/api/v1/account/password"},
		{http.MethodPost, "/api/v1/account/signup"},
		{http.MethodGet, "/api/v1/users"},
		{http.MethodPost, "/api/v1/users"},
		{http.MethodGet, "/api/v1/users/{id}"},
		{http.MethodDelete, "/api/v1/users/{id}/activation"},
		{http.MethodPut, "/api/v1/users/{id}/activation"},
		{http.MethodPut, "/api/v1/users/{id}/password"},
		{http.MethodDelete, "/api/v1/users/{id}/roles/admin"},
		{http.MethodPut, "/api/v1/users/{id}/roles/admin"},
		{http.MethodGet, "/docs"},
		{http.MethodGet, "/livez"},
		{http.MethodGet, "/openapi.json"},
		{http.MethodGet, "/readyz"},
	}
	if got := Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() = %v\nwant %v", got, want)
	}
}

// TestRoutesMatchTheOpenAPIDocument keeps the router and the contract in step: the
// router serves exactly the operations the document describes.
func TestRoutesMatchTheOpenAPIDocument(t *testing.T) {
	ops, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var documented []Route
	for _, op := range ops {
		documented = append(documented, Route{Method: op.Method, Path: op.Path})
	}
	if routes := Routes(); !slices.Equal(routes, documented) {
		t.Errorf("the router serves %v\nthe document describes %v", routes, documented)
	}
}

// TestRealDocumentHandlers mounts the documentation as the service does and checks
// that the router leaves the Swagger UI's content security policy alone.
func TestRealDocumentHandlers(t *testing.T) {
	h := newHarness(t)
	h.cfg.Docs, h.cfg.Spec = openapi.UIHandler(), openapi.SpecHandler()
	for _, path := range []string{"/docs", "/docs/", "/docs/swagger-ui.css", "/openapi.json"} {
		w := h.do(http.MethodGet, path, "")
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, w.Code)
		}
		if csp := w.Header().Get("Content-Security-Policy"); csp == "default-src 'none'; frame-ancestors 'none'" {
			t.Errorf("GET %s: the API's CSP replaced the document's", path)
		}
	}
}

// TestEveryRouteIsServed checks that Routes() tells the truth: each of its routes,
// called with its own method, reaches a handler rather than a 404 or 405.
func TestEveryRouteIsServed(t *testing.T) {
	for _, route := range Routes() {
		t.Run(route.Method+" "+route.Path, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(route.Method, strings.ReplaceAll(route.Path, "{id}", targetID), "")
			if w.Code == http.StatusNotFound || w.Code == http.StatusMethodNotAllowed {
				t.Errorf("status = %d; body %s", w.Code, w.Body)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	allowed := map[string][]string{}
	for _, route := range Routes() {
		allowed[route.Path] = append(allowed[route.Path], route.Method)
	}
	allowed["/docs/"] = []string{http.MethodGet}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "PROPFIND"}
	for path, ok := range allowed {
		slices.Sort(ok)
		for _, m := range methods {
			if slices.Contains(ok, m) {
				continue
			}
			for _, id := range []string{targetID, "not-a-uuid"} {
				concrete := strings.ReplaceAll(path, "{id}", id)
				if path == "/docs/" {
					concrete = "/docs/index.html"
				}
				t.Run(m+" "+concrete, func(t *testing.T) {
					h := newHarness(t)
					w := h.do(m, concrete, `{"username":"alice"}`, withCookie(sessionToken), withHeader("X-Request-Id", "req-1"))
					if m == http.MethodHead {
						if w.Code != http.StatusMethodNotAllowed {
							t.Fatalf("status = %d, want 405", w.Code)
						}
					} else {
						wantProblem(t, w, http.StatusMethodNotAllowed, codeMethodNotAllowed)
					}
					if got, want := w.Header().Get("Allow"), strings.Join(ok, ", "); got != want {
						t.Errorf("Allow = %q, want %q", got, want)
					}
					if got := w.Header().Get("X-Request-Id"); got != "req-1" {
						t.Errorf("X-Request-Id = %q", got)
					}
					if h.authenticate.calls != 0 {
						t.Error("the session was checked before the method")
					}
				})
			}
		}
	}
}

func TestNotFound(t *testing.T) {
	paths := []string{
		"/nope",
		"/api",
		"/api/v1",
		"/api/v2/",
		"/api/v1/users/",
		"/api/v1/account/me/",
		"/api/v1/account",
		"/api/v1/users/" + targetID + "/",
		"/api/v1/users/" + targetID + "/roles",
		"/api/v1/users/" + targetID + "/roles/user",
		"/api/v1/users/a/b",
		"/api/v1//users",
		"/api/v1/./users",
		"/api/v1/users/../users",
		"/livez/",
		"/readyz/",
		"/openapi.json/",
		"/docsx",
		"//",
	}
	for _, path := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(method+" "+path, func(t *testing.T) {
				h := newHarness(t)
				w := h.do(method, path, "", withHeader("X-Request-Id", "req-404"))
				wantProblem(t, w, http.StatusNotFound, domain.CodeNotFound)
				if got := w.Header().Get("X-Request-Id"); got != "req-404" {
					t.Errorf("X-Request-Id = %q", got)
				}
				if w.Header().Get("Allow") != "" {
					t.Errorf("a 404 with Allow %q", w.Header().Get("Allow"))
				}
			})
		}
	}
}

// An escaped slash would become a separator once decoded, leading a request to a
// route its path does not name; it gets the 404 of any unknown path instead, in
// either letter case, whatever the method and cookie.
func TestEscapedSlashNamesNothing(t *testing.T) {
	requests := []struct{ method, path, body string }{
		{http.MethodPut, "/api/v1/users/" + targetID + "%2Fpassword", `{"password":"` + secretPassword + `"}`},
		{http.MethodPut, "/api/v1/users/" + targetID + "%2fpassword", `{"password":"` + secretPassword + `"}`},
		{http.MethodGet, "/api/v1/account%2Fme", ""},
		{http.MethodGet, "/api%2Fv1/", ""},
		{http.MethodGet, "/docs%2Findex.html", ""},
	}
	for _, req := range requests {
		t.Run(req.method+" "+req.path, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(req.method, req.path, req.body, withCookie(sessionToken))
			wantProblem(t, w, http.StatusNotFound, domain.CodeNotFound)
			if h.authenticate.calls != 0 || h.setUserPassword.calls != 0 || h.me.calls != 0 {
				t.Error("a path with an escaped slash reached a handler")
			}
		})
	}
}

// Escaped unreserved characters mean what they encode (RFC 3986 §6.2.2.2), so a
// client or proxy that escapes more than it must still reaches the same resource.
func TestEscapedUnreservedCharactersAreEquivalent(t *testing.T) {
	t.Run("path", func(t *testing.T) {
		h := newHarness(t)
		w := h.do(http.MethodGet, "/api/v1/account/m%65", "", withCookie(sessionToken))
		wantBody(t, w, http.StatusOK, aUserJSON)
		if h.me.msg != (queries.Me{Actor: theActor}) {
			t.Errorf("sent %+v", h.me.msg)
		}
	})
	t.Run("id", func(t *testing.T) {
		h := newHarness(t)
		w := h.do(http.MethodGet, "/api/v1/users/"+strings.ReplaceAll(targetID, "-", "%2D"), "", withCookie(sessionToken))
		wantBody(t, w, http.StatusOK, aUserJSON)
		if h.getUser.msg != (queries.GetUser{Actor: theActor, UserID: targetID}) {
			t.Errorf("sent %+v", h.getUser.msg)
		}
	})
}

func TestRootRedirectsToDocs(t *testing.T) {
	w := newHarness(t).do(http.MethodGet, "/", "")
	if w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "/docs" {
		t.Errorf("got %d to %q, want 307 to /docs", w.Code, w.Header().Get("Location"))
	}
}

func TestStatusEndpoints(t *testing.T) {
	for _, path := range []string{"/api/v1/", "/livez", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			wantBody(t, newHarness(t).do(http.MethodGet, path, ""), http.StatusOK, `{"status":"ok"}`)
		})
	}
}

func TestReadiness(t *testing.T) {
	var calls []string
	probe := func(name string, err error) Probe {
		return func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Errorf("probe %s runs without a deadline", name)
			}
			calls = append(calls, name)
			return err
		}
	}
	h := newHarness(t)
	h.probes = []Probe{probe("database", nil), probe("bus", errors.New("bus not running"))}
	w := h.do(http.MethodGet, "/readyz", "")
	wantProblem(t, w, http.StatusServiceUnavailable, domain.CodeUnavailable)
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if strings.Contains(w.Body.String(), "bus not running") {
		t.Errorf("the failing probe's error reached the client: %s", w.Body)
	}
	if !slices.Equal(calls, []string{"database", "bus"}) {
		t.Errorf("probes ran: %q", calls)
	}
	line := h.logs.FilterMessage("http request").All()[0]
	if got := line.ContextMap()["error"]; !strings.Contains(got.(string), "bus not running") {
		t.Errorf("logged error %q, want the probe's", got)
	}
}

func TestLivenessIgnoresProbes(t *testing.T) {
	h := newHarness(t)
	h.probes = []Probe{func(context.Context) error { return errors.New("database down") }}
	wantBody(t, h.do(http.MethodGet, "/livez", ""), http.StatusOK, `{"status":"ok"}`)
}

func TestDocumentation(t *testing.T) {
	for path, body := range map[string]string{
		"/docs":            "swagger ui",
		"/docs/":           "swagger ui",
		"/docs/index.html": "swagger ui",
		"/openapi.json":    `{"openapi":"3.1.0"}`,
	} {
		t.Run(path, func(t *testing.T) {
			w := newHarness(t).do(http.MethodGet, path, "")
			if w.Code != http.StatusOK || w.Body.String() != body {
				t.Fatalf("got %d %q, want 200 %q", w.Code, w.Body, body)
			}
			// The documents choose their own caching and content security policy.
			for _, name := range []string{"Content-Security-Policy", "Cache-Control"} {
				if got := w.Header().Get(name); got != "" {
					t.Errorf("%s = %q, want it left to the document's handler", name, got)
				}
			}
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	requests := map[string]func(h *harness) *httptest.ResponseRecorder{
		"success": func(h *harness) *httptest.ResponseRecorder {
			return h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))
		},
		"no body": func(h *harness) *httptest.ResponseRecorder {
			return h.do(http.MethodPost, "/api/v1/account/logout", "", withCookie(sessionToken))
		},
		"problem":   func(h *harness) *httptest.ResponseRecorder { return h.do(http.MethodGet, "/api/v1/account/me", "") },
		"not found": func(h *harness) *httptest.ResponseRecorder { return h.do(http.MethodGet, "/nope", "") },
		"redirect":  func(h *harness) *httptest.ResponseRecorder { return h.do(http.MethodGet, "/", "") },
	}
	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
	}
	for name, do := range requests {
		t.Run(name, func(t *testing.T) {
			w := do(newHarness(t))
			for header, value := range want {
				if got := w.Header().Get(header); got != value {
					t.Errorf("%s = %q, want %q", header, got, value)
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	cases := map[string]bool{ // the header sent → whether it is kept
		"abc":                    true,
		"A-z_0.9":                true,
		strings.Repeat("a", 128): true,
		"":                       false,
		strings.Repeat("a", 129): false,
		"has space":              false,
		"a/b":                    false,
		"naïve":                  false,
		"a,b":                    false,
		"<script>":               false,
	}
	for sent, kept := range cases {
		t.Run(sent, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken), withHeader("X-Request-Id", sent))
			got := w.Header().Get("X-Request-Id")
			if kept && got != sent || !kept && (got == sent || !validRequestID(got)) {
				t.Errorf("X-Request-Id = %q for %q sent", got, sent)
			}
			if id := domain.CorrelationID(h.me.ctx); id != got {
				t.Errorf("the bus got correlation id %q, the client %q", id, got)
			}
		})
	}
}

// Two X-Request-Id headers, even valid ones, are no usable id: a new one is made.
func TestDuplicateRequestIDIsReplaced(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodGet, "/livez", "", func(r *http.Request) {
		r.Header.Add("X-Request-Id", "first")
		r.Header.Add("X-Request-Id", "second")
	})
	if got := w.Header().Get("X-Request-Id"); got == "first" || got == "second" || !validRequestID(got) {
		t.Errorf("X-Request-Id = %q, want a new one", got)
	}
}

func TestGeneratedRequestIDsDiffer(t *testing.T) {
	h := newHarness(t)
	a := h.do(http.MethodGet, "/livez", "").Header().Get("X-Request-Id")
	b := h.do(http.MethodGet, "/livez", "").Header().Get("X-Request-Id")
	if a == b || len(a) < 16 {
		t.Errorf("generated ids %q and %q", a, b)
	}
}
