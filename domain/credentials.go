package domain

import (
	"strings"
	"unicode/utf8"
)

// Length limits of the username and password rules.
const (
	UsernameMinLength = 5
	UsernameMaxLength = 20
	PasswordMinLength = 6
)

// ValidateUsername applies the username rules of the contract in order; the first rule
// broken is the message. Case is kept and nothing is trimmed.
func ValidateUsername(username string) *FieldError {
	msg := usernameProblem(username)
	if msg == "" {
		return nil
	}
	return &FieldError{Field: "username", Message: msg}
}

func usernameProblem(s string) string {
	if n := utf8.RuneCountInString(s); n < UsernameMinLength || n > UsernameMaxLength {
		return "must be 5 to 20 characters long"
	}
	for i := 0; i < len(s); i++ {
		if !isAlphanumeric(s[i]) && !isSpecial(s[i]) {
			return "may contain only ASCII letters, digits, '.', '_' and '-'"
		}
	}
	if !isAlphanumeric(s[0]) {
		return "must start with a letter or a digit"
	}
	if !isAlphanumeric(s[len(s)-1]) {
		return "must end with a letter or a digit"
	}
	for i := 1; i < len(s); i++ {
		if isSpecial(s[i]) && isSpecial(s[i-1]) {
			return "must not contain two special characters ('.', '_', '-') in a row"
		}
	}
	return ""
}

func isAlphanumeric(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isSpecial(c byte) bool {
	return strings.IndexByte("._-", c) >= 0
}

// ValidatePassword applies the password rule to the field named field: at least six
// Unicode code points, every character allowed, no upper bound but the body size.
func ValidatePassword(field, password string) *FieldError {
	if utf8.RuneCountInString(password) < PasswordMinLength {
		return &FieldError{Field: field, Message: "must be at least 6 characters long"}
	}
	return nil
}

// Validate gathers the field errors that are not nil into one validation_failed
// error, or returns nil when there are none.
func Validate(problems ...*FieldError) error {
	var fields []FieldError
	for _, p := range problems {
		if p != nil {
			fields = append(fields, *p)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return ValidationError(fields...)
}
