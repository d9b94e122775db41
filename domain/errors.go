package domain

import (
	"errors"
	"fmt"
	"time"
)

// Code is the stable, machine-readable name of a failure. The set is closed: the HTTP
// port maps each code to one status, and clients may switch on it.
type Code string

// The codes a use case can fail with, grouped by the status the HTTP port answers
// them with. The port adds the few only it can meet (a body that does not parse, a
// method a route does not take…), which no use case ever sees.
const (
	CodeValidationFailed       Code = "validation_failed"        // 400
	CodeUnauthenticated        Code = "unauthenticated"          // 401
	CodeInvalidCredentials     Code = "invalid_credentials"      // 401
	CodeAccountInactive        Code = "account_inactive"         // 401
	CodeForbidden              Code = "forbidden"                // 403
	CodeInvalidCurrentPassword Code = "invalid_current_password" // 403
	CodeNotFound               Code = "not_found"                // 404
	CodeUsernameTaken          Code = "username_taken"           // 409
	CodeRateLimited            Code = "rate_limited"             // 429
	CodeInternal               Code = "internal"                 // 500
	CodeUnavailable            Code = "unavailable"              // 503
)

// FieldError names one request field at fault and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type that crosses layers. Everything a client may see is in
// it: the code, a human sentence, the fields at fault, and how long to wait before
// retrying. It is plain data, so that the bus can hand a copy of it to the sender
// and the sender's errors.Is works as the handler's did.
type Error struct {
	Code       Code
	Detail     string
	Fields     []FieldError
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Detail)
	}
	return fmt.Sprintf("%s: %s %v", e.Code, e.Detail, e.Fields)
}

// Is makes errors.Is(err, domain.ErrNotFound) true for any *Error with the same code,
// whatever its detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// NewError builds an *Error with a code and a human detail.
func NewError(code Code, detail string) *Error {
	return &Error{Code: code, Detail: detail}
}

// ValidationError reports the rules one or more fields break.
func ValidationError(fields ...FieldError) *Error {
	return &Error{Code: CodeValidationFailed, Detail: "The request breaks one or more rules.", Fields: fields}
}

// Sentinels to compare with errors.Is; build new errors with NewError for a better detail.
var (
	ErrUnauthenticated        = NewError(CodeUnauthenticated, "Authentication required.")
	ErrInvalidCredentials     = NewError(CodeInvalidCredentials, "Invalid username or password.")
	ErrAccountInactive        = NewError(CodeAccountInactive, "This account is inactive.")
	ErrForbidden              = NewError(CodeForbidden, "You are not allowed to do this.")
	ErrInvalidCurrentPassword = NewError(CodeInvalidCurrentPassword, "The current password is wrong.")
	ErrNotFound               = NewError(CodeNotFound, "The resource does not exist.")
	ErrUsernameTaken          = NewError(CodeUsernameTaken, "Username already exists.")
	ErrUnavailable            = NewError(CodeUnavailable, "The service is temporarily unavailable; try again shortly.")
	ErrInternal               = NewError(CodeInternal, "An unexpected error occurred.")
)

// Unavailable reports a dependency that is down or saturated; retryAfter is the hint
// given to the client.
func Unavailable(detail string, retryAfter time.Duration) *Error {
	return &Error{Code: CodeUnavailable, Detail: detail, RetryAfter: retryAfter}
}

// AsError returns err as a *Error when it is one (or wraps one).
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
