package domain_test

import (
	"strings"
	"testing"

	"github.com/example/accounts/domain"
)

// The messages clients see in errors[].message, one per username rule of the contract.
const (
	msgLength     = "must be 5 to 20 characters long"
	msgCharacters = "may contain only ASCII letters, digits, '.', '_' and '-'"
	msgStart      = "must start with a letter or a digit"
	msgEnd        = "must end with a letter or a digit"
	msgAdjacent   = "must not contain two special characters ('.', '_', '-') in a row"
)

func TestValidateUsernameAccepts(t *testing.T) {
	accepted := []string{
		// The examples of the contract.
		"username",
		"user.name",
		"u-ser_name",
		"aaaaa",
		strings.Repeat("a", 20),
		// Boundaries and other shapes the rules allow.
		"12345",
		strings.Repeat("9", 20),
		"a-b_c.d",
		"a.b.c",
		"UserName",
		"ZZZZZ",
		"0a-1b",
		"a.b-c_d.e-f_g.h-i_jk",
	}
	for _, name := range accepted {
		t.Run(name, func(t *testing.T) {
			if fe := domain.ValidateUsername(name); fe != nil {
				t.Fatalf("ValidateUsername(%q) = %+v, want nil", name, *fe)
			}
		})
	}
}

func TestValidateUsernameRejectsWithFirstFailingRule(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		// The examples of the contract.
		{"leading dot", ".username", msgStart},
		{"trailing underscore", "username_", msgEnd},
		{"double dot", "user..name", msgAdjacent},
		{"dot underscore", "user._name", msgAdjacent},
		{"bang", "user!name", msgCharacters},
		{"four chars", "aaaa", msgLength},
		{"twenty-one chars", strings.Repeat("a", 21), msgLength},

		// Rule 1: length, counted in characters, checked before anything else.
		{"empty", "", msgLength},
		{"one char", "a", msgLength},
		{"too short and starts with dot", ".a", msgLength},
		{"too short and bad characters", "a!b", msgLength},
		{"too long and bad characters", strings.Repeat("a", 20) + "!", msgLength},
		{"four non-ASCII runes", "éééé", msgLength},

		// Rule 2: ASCII letters, digits and . _ - only.
		{"five non-ASCII runes fail rule 2 not rule 1", "ééééé", msgCharacters},
		{"one accented letter", "usérname", msgCharacters},
		{"greek letters", "αβγδε", msgCharacters},
		{"fullwidth letters", "ａｂｃｄｅ", msgCharacters},
		{"inner space", "user name", msgCharacters},
		{"leading space is not trimmed", " user", msgCharacters},
		{"trailing space is not trimmed", "user ", msgCharacters},
		{"tab", "user\tname", msgCharacters},
		{"NUL byte", "user\x00", msgCharacters},
		{"invalid UTF-8", "\xffabcd", msgCharacters},
		{"at sign", "user@host", msgCharacters},
		{"plus", "user+name", msgCharacters},
		{"bad character wins over bad end", "user!name.", msgCharacters},
		{"bad character wins over bad start", ".user!name", msgCharacters},

		// Rule 3: starts with a letter or digit.
		{"leading dot with valid rest", ".abcde", msgStart},
		{"leading hyphen", "-user", msgStart},
		{"leading underscore", "_user", msgStart},
		{"bad start wins over bad end and adjacency", ".a..b", msgStart},

		// Rule 4: ends with a letter or digit.
		{"trailing dot", "user.", msgEnd},
		{"trailing hyphen", "user-", msgEnd},
		{"bad end wins over adjacency", "a..bc.", msgEnd},

		// Rule 5: no two special characters in a row.
		{"double hyphen", "a--bc", msgAdjacent},
		{"double underscore", "ab__c", msgAdjacent},
		{"hyphen dot", "ab-.c", msgAdjacent},
		{"three specials", "a-_-b", msgAdjacent},
		{"twenty chars with adjacency", strings.Repeat("a", 9) + ".." + strings.Repeat("a", 9), msgAdjacent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe := domain.ValidateUsername(tc.in)
			if fe == nil {
				t.Fatalf("ValidateUsername(%q) = nil, want %q", tc.in, tc.want)
			}
			if fe.Field != "username" {
				t.Errorf("Field = %q, want username", fe.Field)
			}
			if fe.Message != tc.want {
				t.Errorf("ValidateUsername(%q).Message = %q, want %q", tc.in, fe.Message, tc.want)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", false},
		{"five ASCII", "12345", false},
		{"six ASCII", "123456", true},
		{"five two-byte characters", "ééééé", false},
		{"six two-byte characters", "éééééé", true},
		{"five emoji (20 bytes)", "😀😀😀😀😀", false},
		{"six emoji", "😀😀😀😀😀😀", true},
		{"combining marks count as code points", "e\u0301e\u0301e\u0301", true},
		{"five code points with a combining mark", "e\u0301abc", false},
		{"six spaces", "      ", false},
		{"whitespace mix", "\t\n \t\n ", false},
		{"five spaces", "     ", false},
		{"NUL bytes", "\x00\x00\x00\x00\x00\x00", false},
		{"spaces around a visible character", "     .     ", true},
		{"invalid UTF-8", "\xff\xfe\xfd\xfc\xfb\xfa", true},
		{"longer than bcrypt's 72 bytes", strings.Repeat("p", 200), true},
		{"very long", strings.Repeat("ü", 10000), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe := domain.ValidatePassword("password", tc.in)
			if tc.ok {
				if fe != nil {
					t.Fatalf("ValidatePassword(%q) = %+v, want nil", tc.in, *fe)
				}
				return
			}
			if fe == nil {
				t.Fatalf("ValidatePassword(%q) = nil, want an error", tc.in)
			}
			if fe.Field != "password" || fe.Message == "" {
				t.Errorf("got %+v, want field password and a message", *fe)
			}
		})
	}
}

// The messages of the password rules, in the order they are checked.
const (
	msgPasswordLength    = "must be at least 6 characters long"
	msgPasswordInvisible = "must contain a visible character, not only spaces or invisible ones"
)

// A password that looks empty, whatever code points make it up, is refused; one
// visible character among the invisible ones is enough.
func TestValidatePasswordRefusesInvisibleOnly(t *testing.T) {
	refused := map[string]string{
		"ASCII spaces":                  "      ",
		"tabs and line breaks":          "\t\r\n\v\f\t",
		"no-break spaces":               strings.Repeat("\u00a0", 6),
		"ideographic spaces":            strings.Repeat("\u3000", 6),
		"other Unicode spaces":          "\u1680\u2000\u2007\u200a\u202f\u205f",
		"line and paragraph separators": "\u2028\u2029\u2028\u2029\u2028\u2029",
		"zero width space":              strings.Repeat("\u200b", 6),
		"zero width joiners":            "\u200c\u200d\u200c\u200d\u200c\u200d",
		"byte order marks":              strings.Repeat("\ufeff", 6),
		"word joiners":                  strings.Repeat("\u2060", 6),
		"invisible operators":           "\u2061\u2062\u2063\u2064\u2061\u2062",
		"direction marks":               "\u200e\u200f\u061c\u202a\u202e\u2066",
		"soft hyphens":                  strings.Repeat("\u00ad", 6),
		"Hangul filler":                 strings.Repeat("\u3164", 6),
		"Hangul choseong filler":        strings.Repeat("\u115f", 6),
		"Hangul jungseong filler":       strings.Repeat("\u1160", 6),
		"halfwidth Hangul filler":       strings.Repeat("\uffa0", 6),
		"Mongolian vowel separator":     strings.Repeat("\u180e", 6),
		"variation selectors":           "\ufe0f\ufe0e\ufe00\U000e0100\u180b\ufe0f",
		"combining grapheme joiners":    strings.Repeat("\u034f", 6),
		"tag characters":                "\U000e0001\U000e0041\U000e0061\U000e007f\U000e0020\U000e0041",
		"Braille blanks":                strings.Repeat("\u2800", 6),
		"C0 and C1 controls":            "\x00\x07\x1b\x7f\u0080\u009f",
		"NUL bytes":                     strings.Repeat("\x00", 6),
		"a mix of them all":             " \u200b\ufeff\u2060\u3164\u115f\u1160\u180e\t\u00a0",
		"many":                          strings.Repeat("\u200b ", 5000),
	}
	for name, pw := range refused {
		t.Run(name, func(t *testing.T) {
			fe := domain.ValidatePassword("new_password", pw)
			if fe == nil {
				t.Fatalf("ValidatePassword(%+q) = nil, want it refused", pw)
			}
			if fe.Field != "new_password" || fe.Message != msgPasswordInvisible {
				t.Errorf("ValidatePassword(%+q) = %+v, want new_password: %q", pw, *fe, msgPasswordInvisible)
			}
		})
	}

	accepted := map[string]string{
		"one letter among zero width spaces": "\u200b\u200ba\u200b\u200b\u200b",
		"one letter among spaces":            "     x",
		"a dot between fillers":              "\u3164\u3164.\u3164\u3164\u3164",
		"emoji with variation selectors":     "\u2764\ufe0f\u2764\ufe0f\u2764\ufe0f",
		"a combining mark alone is drawn":    strings.Repeat("\u0301", 6),
		"a flag made of tag characters":      "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
		"private use":                        strings.Repeat("\ue000", 6),
		"replacement characters":             strings.Repeat("\ufffd", 6),
	}
	for name, pw := range accepted {
		t.Run(name, func(t *testing.T) {
			if fe := domain.ValidatePassword("password", pw); fe != nil {
				t.Errorf("ValidatePassword(%+q) = %+v, want nil", pw, *fe)
			}
		})
	}
}

// The length rule is checked first: a short invisible password is told it is short.
func TestValidatePasswordLengthComesFirst(t *testing.T) {
	for _, pw := range []string{"", " ", "\u200b\u200b\u200b\u200b\u200b", "     "} {
		fe := domain.ValidatePassword("password", pw)
		if fe == nil || fe.Message != msgPasswordLength {
			t.Errorf("ValidatePassword(%+q) = %+v, want %q", pw, fe, msgPasswordLength)
		}
	}
}

func TestValidatePasswordNamesTheGivenField(t *testing.T) {
	for _, field := range []string{"password", "current_password", "new_password"} {
		fe := domain.ValidatePassword(field, "short")
		if fe == nil || fe.Field != field {
			t.Errorf("ValidatePassword(%q, short) = %+v, want field %q", field, fe, field)
		}
	}
}

// A password given to be checked meets only the length rule: one set before the
// visible-character rule may be made of spaces, and must still be accepted for
// checking, while the same password can no longer be set.
func TestValidatePasswordToCheck(t *testing.T) {
	for _, pw := range []string{"      ", strings.Repeat("\u200b", 6), "correct horse"} {
		if fe := domain.ValidatePasswordToCheck("password", pw); fe != nil {
			t.Errorf("ValidatePasswordToCheck(%+q) = %+v, want nil", pw, *fe)
		}
	}
	if fe := domain.ValidatePasswordToCheck("current_password", "short"); fe == nil || fe.Field != "current_password" || fe.Message != msgPasswordLength {
		t.Errorf("ValidatePasswordToCheck(short) = %+v, want current_password: %q", fe, msgPasswordLength)
	}
}

func TestValidate(t *testing.T) {
	t.Run("nothing", func(t *testing.T) {
		if err := domain.Validate(); err != nil {
			t.Fatalf("Validate() = %v, want nil", err)
		}
	})
	t.Run("only nils", func(t *testing.T) {
		if err := domain.Validate(nil, nil, nil); err != nil {
			t.Fatalf("Validate(nil, nil, nil) = %v, want nil", err)
		}
	})
	t.Run("gathers the non-nil in order", func(t *testing.T) {
		a := &domain.FieldError{Field: "username", Message: "a"}
		b := &domain.FieldError{Field: "password", Message: "b"}
		err := domain.Validate(nil, a, nil, b, nil)
		e, ok := domain.AsError(err)
		if !ok {
			t.Fatalf("Validate = %v, want a *domain.Error", err)
		}
		if e.Code != domain.CodeValidationFailed {
			t.Errorf("Code = %q, want %q", e.Code, domain.CodeValidationFailed)
		}
		want := []domain.FieldError{*a, *b}
		if len(e.Fields) != len(want) {
			t.Fatalf("Fields = %+v, want %+v", e.Fields, want)
		}
		for i := range want {
			if e.Fields[i] != want[i] {
				t.Errorf("Fields[%d] = %+v, want %+v", i, e.Fields[i], want[i])
			}
		}
	})
	t.Run("real rules together", func(t *testing.T) {
		err := domain.Validate(
			domain.ValidateUsername("ok.name"),
			domain.ValidatePassword("password", "short"),
		)
		e, ok := domain.AsError(err)
		if !ok || len(e.Fields) != 1 || e.Fields[0].Field != "password" {
			t.Fatalf("Validate = %v, want one field error on password", err)
		}
	})
}
