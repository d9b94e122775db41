package ports

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/example/accounts/domain"
)

// FuzzSessionTokens sends any Cookie header: the tokens tried are the distinct,
// non-empty values of the session cookie, in the order sent, at most
// maxSessionCookies of them, and a request whose tokens all fail is 401, never
// anything else.
func FuzzSessionTokens(f *testing.F) {
	for _, seed := range []string{
		"",
		"auth_token=abc",
		"auth_token=junk; auth_token=abc",
		"auth_token=; auth_token=abc; auth_token=abc",
		"auth_token=a; auth_token=b; auth_token=c; auth_token=d; auth_token=e",
		`auth_token="quoted"; other=1`,
		"auth_token=a;auth_token=b;;;auth_token",
		"AUTH_TOKEN=a; auth_token =b; auth_token=c=d",
		"auth_token=\x00; auth_token=\xff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/account/me", nil)
		r.Header.Set("Cookie", header)

		var want []string
		for _, c := range r.Cookies() {
			if c.Name == "auth_token" && c.Value != "" && !slices.Contains(want, c.Value) && len(want) < maxSessionCookies {
				want = append(want, c.Value)
			}
		}
		s := &server{cfg: Config{CookieName: "auth_token"}}
		if got := s.sessionTokens(r); !slices.Equal(got, want) {
			t.Fatalf("sessionTokens(%q) = %q, want %q", header, got, want)
		}

		h := newHarness(t)
		h.authenticate.err = domain.ErrUnauthenticated
		w := httptest.NewRecorder()
		h.router().ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("Cookie %q: status %d, want 401; body %s", header, w.Code, w.Body)
		}
		if h.authenticate.calls != len(want) {
			t.Fatalf("Cookie %q: %d tokens tried, want %d", header, h.authenticate.calls, len(want))
		}
	})
}
