package domain_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/example/accounts/domain"
)

// The username rules restated as patterns, an oracle written apart from the rules'
// own byte loop: a name is runs of ASCII letters and digits joined by single
// special characters.
var (
	usernameShape      = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)
	usernameCharacters = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)
)

// FuzzValidateUsername checks that no string makes ValidateUsername panic, that it
// accepts exactly the names of the contract's rules, and that a refusal names the
// first rule broken.
func FuzzValidateUsername(f *testing.F) {
	for _, seed := range []string{
		"username", "user.name", "u-ser_name", "aaaaa", strings.Repeat("a", 20), "a.b-c_d.e-f_g.h-i_jk",
		".username", "username_", "user..name", "user._name", "user!name", "aaaa", strings.Repeat("a", 21),
		"", "ééééé", "usérname", "user name", "user\x00", "\xffabcd", "ａｂｃｄｅ", ".a..b", "a..bc.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		fe := domain.ValidateUsername(name)

		var want string
		switch n := utf8.RuneCountInString(name); {
		case n < domain.UsernameMinLength || n > domain.UsernameMaxLength:
			want = msgLength
		case !usernameCharacters.MatchString(name):
			want = msgCharacters
		case strings.ContainsAny(name[:1], "._-"):
			want = msgStart
		case strings.ContainsAny(name[len(name)-1:], "._-"):
			want = msgEnd
		case !usernameShape.MatchString(name):
			want = msgAdjacent
		}
		switch {
		case fe == nil && want != "":
			t.Fatalf("ValidateUsername(%q) accepted it, want %q", name, want)
		case fe == nil:
			return
		case want == "":
			t.Fatalf("ValidateUsername(%q) = %+v, want it accepted", name, *fe)
		case fe.Field != "username" || fe.Message != want:
			t.Fatalf("ValidateUsername(%q) = %+v, want username: %q", name, *fe, want)
		}
	})
}

// invisible is the oracle of the password rule's "invisible": the Unicode
// properties behind it, looked up by name rather than through the rule's code.
func invisible(r rune) bool {
	return r == '\u2800' || unicode.In(r,
		unicode.Properties["White_Space"], unicode.Categories["Cc"], unicode.Categories["Cf"],
		unicode.Properties["Other_Default_Ignorable_Code_Point"], unicode.Properties["Variation_Selector"])
}

// FuzzValidatePassword checks that no string makes ValidatePassword panic, that it
// accepts exactly the passwords of at least six code points with one visible among
// them, and that adding characters to an accepted password, or a visible one to any
// password of five code points or more, leaves it accepted.
func FuzzValidatePassword(f *testing.F) {
	for _, seed := range []string{
		"", "12345", "123456", "ééééé", "😀😀😀😀😀😀", "e\u0301e\u0301e\u0301", "      ", "\t\n \t\n ",
		"\x00\x00\x00\x00\x00\x00", "\xff\xfe\xfd\xfc\xfb\xfa", strings.Repeat("\u200b", 6), "\u200b\u200ba\u200b\u200b\u200b",
		"\ufeff\u2060\u3164\u115f\u1160\u180e", strings.Repeat("\u2800", 6), "\ufe0f\U000e0100\u034f\u00ad\u200d\u2066",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, password string) {
		fe := domain.ValidatePassword("new_password", password)

		var want string
		switch {
		case utf8.RuneCountInString(password) < domain.PasswordMinLength:
			want = msgPasswordLength
		case strings.IndexFunc(password, func(r rune) bool { return !invisible(r) }) < 0:
			want = msgPasswordInvisible
		}
		switch {
		case fe == nil && want != "":
			t.Fatalf("ValidatePassword(%+q) accepted it, want %q", password, want)
		case fe != nil && want == "":
			t.Fatalf("ValidatePassword(%+q) = %+v, want it accepted", password, *fe)
		case fe != nil && (fe.Field != "new_password" || fe.Message != want):
			t.Fatalf("ValidatePassword(%+q) = %+v, want new_password: %q", password, *fe, want)
		}

		if fe == nil {
			for _, more := range []string{" ", "\u200b", "\x00", "x"} {
				if fe := domain.ValidatePassword("p", more+password+more); fe != nil {
					t.Fatalf("ValidatePassword(%+q) accepted it, but refused it with %q around: %+v", password, more, *fe)
				}
			}
		}
		if utf8.RuneCountInString(password) >= domain.PasswordMinLength-1 {
			if fe := domain.ValidatePassword("p", password+"x"); fe != nil {
				t.Fatalf("ValidatePassword(%+q + \"x\") = %+v, want it accepted", password, *fe)
			}
		}
	})
}
