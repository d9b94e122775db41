package ports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/domain"
)

func TestDomainCodes(t *testing.T) {
	cases := []struct {
		code   domain.Code
		status int
	}{
		{codeInvalidRequest, http.StatusBadRequest},
		{domain.CodeValidationFailed, http.StatusBadRequest},
		{domain.CodeUnauthenticated, http.StatusUnauthorized},
		{domain.CodeInvalidCredentials, http.StatusUnauthorized},
		{domain.CodeAccountInactive, http.StatusUnauthorized},
		{domain.CodeForbidden, http.StatusForbidden},
		{codeAlreadyAuthenticated, http.StatusForbidden},
		{domain.CodeInvalidCurrentPassword, http.StatusForbidden},
		{domain.CodeNotFound, http.StatusNotFound},
		{codeMethodNotAllowed, http.StatusMethodNotAllowed},
		{codeRequestTimeout, http.StatusRequestTimeout},
		{domain.CodeUsernameTaken, http.StatusConflict},
		{codePayloadTooLarge, http.StatusRequestEntityTooLarge},
		{codeUnsupportedMediaType, http.StatusUnsupportedMediaType},
		{domain.CodeRateLimited, http.StatusTooManyRequests},
		{domain.CodeInternal, http.StatusInternalServerError},
		{domain.CodeUnavailable, http.StatusServiceUnavailable},
	}
	if len(cases) != len(statuses) {
		t.Fatalf("%d codes tested, %d mapped", len(cases), len(statuses))
	}
	for _, c := range cases {
		t.Run(string(c.code), func(t *testing.T) {
			h := newHarness(t)
			h.me.err = domain.NewError(c.code, "Told by the use case.")
			w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))
			wantProblem(t, w, c.status, c.code)
			if !strings.Contains(w.Body.String(), `"detail":"Told by the use case."`) {
				t.Errorf("the use case's detail is lost: %s", w.Body)
			}
			retry := c.status == http.StatusTooManyRequests || c.status == http.StatusServiceUnavailable
			if got := w.Header().Get("Retry-After"); retry != (got != "") {
				t.Errorf("Retry-After = %q", got)
			}
		})
	}
}

func TestFieldErrorsAreSent(t *testing.T) {
	h := newHarness(t)
	h.signup.err = domain.ValidationError(
		domain.FieldError{Field: "username", Message: "must be 5 to 20 characters long"},
		domain.FieldError{Field: "password", Message: "must be at least 6 characters long"},
	)
	w := h.do(http.MethodPost, "/api/v1/account/signup", `{"username":"abc","password":"abc"}`)
	wantProblem(t, w, http.StatusBadRequest, domain.CodeValidationFailed, "username", "password")
	want := `"errors":[{"field":"username","message":"must be 5 to 20 characters long"},` +
		`{"field":"password","message":"must be at least 6 characters long"}]`
	if !strings.Contains(w.Body.String(), want) {
		t.Errorf("body %s lacks %s", w.Body, want)
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]string{
		0:                       "1",
		time.Millisecond:        "1",
		time.Second:             "1",
		1500 * time.Millisecond: "2",
		42 * time.Second:        "42",
	} {
		t.Run(wait.String(), func(t *testing.T) {
			h := newHarness(t)
			h.login.err = &domain.Error{Code: domain.CodeRateLimited, Detail: "Too many failed logins.", RetryAfter: wait}
			w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"secret"}`)
			wantProblem(t, w, http.StatusTooManyRequests, domain.CodeRateLimited)
			if got := w.Header().Get("Retry-After"); got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
		})
	}
}

func TestInternalErrorsStayInside(t *testing.T) {
	for name, err := range map[string]error{
		"plain error":   errors.New(`pq: password authentication failed for user "postgres"`),
		"wrapped":       fmt.Errorf("load user: %w", errors.New("driver: bad connection to 10.0.0.5")),
		"unknown code":  domain.NewError("no_such_code", "secret detail of an unknown code"),
		"internal code": fmt.Errorf("tx: %w", domain.ErrInternal),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.me.err = err
			w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))
			wantProblem(t, w, http.StatusInternalServerError, domain.CodeInternal)
			if !strings.Contains(w.Body.String(), `"detail":"An unexpected error occurred."`) {
				t.Errorf("body %s, want the generic detail", w.Body)
			}
			lines := h.logs.FilterMessage("http request").All()
			if len(lines) != 1 || lines[0].ContextMap()["error"] != err.Error() {
				t.Errorf("logged %v, want one line with the error %q", lines, err)
			}
		})
	}
}

func TestDeadlinesAreUnavailable(t *testing.T) {
	for _, err := range []error{context.DeadlineExceeded, fmt.Errorf("send: %w", context.Canceled)} {
		h := newHarness(t)
		h.me.err = err
		w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))
		wantProblem(t, w, http.StatusServiceUnavailable, domain.CodeUnavailable)
		if w.Header().Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
		}
	}
}
