package domain_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/domain"
)

func TestErrorIsMatchesByCode(t *testing.T) {
	err := domain.NewError(domain.CodeNotFound, "No user with that id.")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Error("an error with code not_found does not match ErrNotFound")
	}
	if errors.Is(err, domain.ErrForbidden) {
		t.Error("an error with code not_found matches ErrForbidden")
	}
	wrapped := fmt.Errorf("loading user: %w", fmt.Errorf("query: %w", err))
	if !errors.Is(wrapped, domain.ErrNotFound) {
		t.Error("a wrapped not_found does not match ErrNotFound")
	}
	if errors.Is(errors.New("not_found"), domain.ErrNotFound) {
		t.Error("a plain error matches ErrNotFound")
	}
	if err.Is(errors.New("x")) {
		t.Error("Is matched an error of another type")
	}
}

func TestAsError(t *testing.T) {
	inner := domain.Unavailable("Hashing is saturated.", 3*time.Second)
	wrapped := fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", inner))
	e, ok := domain.AsError(wrapped)
	if !ok || e != inner {
		t.Fatalf("AsError(wrapped) = %v, %v; want the inner error", e, ok)
	}
	if e.Code != domain.CodeUnavailable || e.RetryAfter != 3*time.Second || e.Detail != "Hashing is saturated." {
		t.Errorf("Unavailable built %+v", *e)
	}
	for _, err := range []error{nil, errors.New("plain"), context.Canceled} {
		if e, ok := domain.AsError(err); ok || e != nil {
			t.Errorf("AsError(%v) = %v, %v; want nil, false", err, e, ok)
		}
	}
}

func TestSentinelCodes(t *testing.T) {
	tests := []struct {
		err  *domain.Error
		code domain.Code
	}{
		{domain.ErrUnauthenticated, domain.CodeUnauthenticated},
		{domain.ErrInvalidCredentials, domain.CodeInvalidCredentials},
		{domain.ErrAccountInactive, domain.CodeAccountInactive},
		{domain.ErrForbidden, domain.CodeForbidden},
		{domain.ErrInvalidCurrentPassword, domain.CodeInvalidCurrentPassword},
		{domain.ErrNotFound, domain.CodeNotFound},
		{domain.ErrUsernameTaken, domain.CodeUsernameTaken},
		{domain.ErrUnavailable, domain.CodeUnavailable},
		{domain.ErrInternal, domain.CodeInternal},
	}
	for _, tc := range tests {
		if tc.err.Code != tc.code {
			t.Errorf("sentinel %v has code %q, want %q", tc.err, tc.err.Code, tc.code)
		}
		if tc.err.Detail == "" {
			t.Errorf("sentinel %q has no detail", tc.code)
		}
	}
}

func TestValidationError(t *testing.T) {
	e := domain.ValidationError(domain.FieldError{Field: "username", Message: "too short"})
	if e.Code != domain.CodeValidationFailed || len(e.Fields) != 1 || e.Fields[0].Field != "username" {
		t.Fatalf("ValidationError built %+v", *e)
	}
}

func TestErrorMessage(t *testing.T) {
	plain := domain.NewError(domain.CodeForbidden, "No.").Error()
	if !strings.Contains(plain, "forbidden") || !strings.Contains(plain, "No.") {
		t.Errorf("Error() = %q, want the code and the detail", plain)
	}
	withFields := domain.ValidationError(domain.FieldError{Field: "username", Message: "too short"}).Error()
	for _, part := range []string{"validation_failed", "username", "too short"} {
		if !strings.Contains(withFields, part) {
			t.Errorf("Error() = %q, want it to mention %q", withFields, part)
		}
	}
}

func TestCorrelationID(t *testing.T) {
	if got := domain.CorrelationID(context.Background()); got != "" {
		t.Errorf("CorrelationID of a bare context = %q, want empty", got)
	}
	ctx := domain.WithCorrelationID(context.Background(), "req-42")
	if got := domain.CorrelationID(ctx); got != "req-42" {
		t.Errorf("CorrelationID = %q, want req-42", got)
	}
	inner := domain.WithCorrelationID(ctx, "req-43")
	if got := domain.CorrelationID(inner); got != "req-43" {
		t.Errorf("CorrelationID of the inner context = %q, want req-43", got)
	}
}

// A new correlation id must pass the X-Request-Id rule (1 to 128 of [A-Za-z0-9._-]) so
// that it can be sent on as one, and two must not collide.
func TestNewCorrelationID(t *testing.T) {
	a, b := domain.NewCorrelationID(), domain.NewCorrelationID()
	valid := regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	if !valid.MatchString(a) || !valid.MatchString(b) {
		t.Errorf("ids %q, %q break the X-Request-Id rule", a, b)
	}
	if a == b {
		t.Errorf("two ids are equal: %q", a)
	}
}
