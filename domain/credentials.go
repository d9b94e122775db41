package domain

import (
	"strings"
	"unicode"
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

// ValidatePassword applies the rules of a password being set to the field named
// field: at least six Unicode code points, and at least one of them visible. Any
// character may appear, and there is no upper bound but the body size.
func ValidatePassword(field, password string) *FieldError {
	if fe := ValidatePasswordToCheck(field, password); fe != nil {
		return fe
	}
	if strings.IndexFunc(password, isVisible) < 0 {
		return &FieldError{Field: field, Message: "must contain a visible character, not only spaces or invisible ones"}
	}
	return nil
}

// ValidatePasswordToCheck applies the rules every stored password meets to one given
// to be checked against it (a login's, a current password): only the length. The
// visible-character rule came later, so a password set before it may be invisible,
// and its owner must still be able to log in and change it.
func ValidatePasswordToCheck(field, password string) *FieldError {
	if utf8.RuneCountInString(password) < PasswordMinLength {
		return &FieldError{Field: field, Message: "must be at least 6 characters long"}
	}
	return nil
}

// isVisible reports whether r draws something. A password of nothing else looks
// empty, or like a few spaces, to its owner, and is what a paste of stray formatting
// or a stuck key makes. Invisible are white space, control and format characters
// (zero width space, joiners, direction marks, the byte order mark, U+180E), the
// rest of what Unicode tells renderers to ignore (variation selectors, the Hangul
// fillers, letters by category that draw nothing), and the blank Braille pattern,
// the usual stand-in for a space where one is refused.
func isVisible(r rune) bool {
	return !unicode.IsSpace(r) && !unicode.IsControl(r) &&
		!unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) &&
		r != brailleBlank
}

const brailleBlank = '\u2800'

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
