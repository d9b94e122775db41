package ports

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/example/accounts/domain"
)

// The codes only the HTTP port meets: a request that cannot become a command or a
// query fails with one of them before any use case runs. With the domain's codes
// they make the closed set clients see.
const (
	codeInvalidRequest       domain.Code = "invalid_request"        // 400
	codeAlreadyAuthenticated domain.Code = "already_authenticated"  // 403
	codeMethodNotAllowed     domain.Code = "method_not_allowed"     // 405
	codeRequestTimeout       domain.Code = "request_timeout"        // 408
	codePayloadTooLarge      domain.Code = "payload_too_large"      // 413
	codeUnsupportedMediaType domain.Code = "unsupported_media_type" // 415
)

// statuses is the one place a code becomes an HTTP status (the OpenAPI document's
// "Errors"). The set of codes is closed; a code missing here is a programming error
// and answers 500.
var statuses = map[domain.Code]int{
	codeInvalidRequest:                http.StatusBadRequest,
	domain.CodeValidationFailed:       http.StatusBadRequest,
	domain.CodeUnauthenticated:        http.StatusUnauthorized,
	domain.CodeInvalidCredentials:     http.StatusUnauthorized,
	domain.CodeAccountInactive:        http.StatusUnauthorized,
	domain.CodeForbidden:              http.StatusForbidden,
	codeAlreadyAuthenticated:          http.StatusForbidden,
	domain.CodeInvalidCurrentPassword: http.StatusForbidden,
	domain.CodeNotFound:               http.StatusNotFound,
	codeMethodNotAllowed:              http.StatusMethodNotAllowed,
	codeRequestTimeout:                http.StatusRequestTimeout,
	domain.CodeUsernameTaken:          http.StatusConflict,
	codePayloadTooLarge:               http.StatusRequestEntityTooLarge,
	codeUnsupportedMediaType:          http.StatusUnsupportedMediaType,
	domain.CodeRateLimited:            http.StatusTooManyRequests,
	domain.CodeInternal:               http.StatusInternalServerError,
	domain.CodeUnavailable:            http.StatusServiceUnavailable,
}

// errTimedOut answers a request whose deadline passed while it waited on the bus:
// the work may still finish, so the client is told to retry rather than that it failed.
var errTimedOut = domain.Unavailable("The request took too long; try again shortly.", time.Second)

// problem is an RFC 9457 problem document with the service's stable code.
type problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Code   domain.Code         `json:"code"`
	Detail string              `json:"detail"`
	Errors []domain.FieldError `json:"errors,omitempty"`
}

const problemContentType = "application/problem+json"

// internalProblem is written when even the problem document cannot be encoded.
var internalProblem = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal","detail":"An unexpected error occurred."}`)

// classify finds the domain error a client may see for err, and its status. Only a
// *domain.Error carries text meant for clients; any other error is internal and its
// text stays in the log.
func classify(err error) (*domain.Error, int) {
	if e, ok := domain.AsError(err); ok {
		if status, known := statuses[e.Code]; known {
			return e, status
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return errTimedOut, http.StatusServiceUnavailable
	}
	return domain.ErrInternal, http.StatusInternalServerError
}

// writeError answers with the problem for err. Server-side failures are noted for the
// access log line, which is where the real error text goes.
//
// A request whose client hung up gets no answer: nobody is left to read it, and err
// is then most likely the cancellation itself, which says nothing about the service's
// health. Only the access log hears of it, as a 499. The one exception is a body that
// did not arrive in time: net/http cancels the request's context then too, but the
// client is still there and is told 408.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, status := classify(err)
	if status == http.StatusRequestTimeout {
		// The rest of the body may still be on its way; the connection cannot carry
		// another request.
		w.Header().Set("Connection", "close")
	} else if errors.Is(r.Context().Err(), context.Canceled) {
		notesFrom(r.Context()).clientGone = true
		return
	}
	if status >= http.StatusInternalServerError {
		notesFrom(r.Context()).err = err
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter(e.RetryAfter))
	}
	p := problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Code:   e.Code,
		Detail: e.Detail,
		Errors: e.Fields,
	}
	if err := writeBody(w, status, problemContentType, p); err != nil {
		notesFrom(r.Context()).err = err
		writeRaw(w, http.StatusInternalServerError, problemContentType, internalProblem)
	}
}

// retryAfter is the Retry-After header value: whole seconds, rounded up, at least one.
func retryAfter(d time.Duration) string {
	seconds := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(seconds, 1), 10)
}

// invalidRequest is the 400 for a request that does not parse into what the endpoint
// takes; fields name the members at fault, when there are any.
func invalidRequest(detail string, fields ...domain.FieldError) *domain.Error {
	return &domain.Error{Code: codeInvalidRequest, Detail: detail, Fields: fields}
}
