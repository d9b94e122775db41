package ports

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"go.uber.org/zap"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

// sessionsByToken authenticates the tokens it knows, fails those it is told to and
// refuses every other, recording the tokens it was sent in order.
type sessionsByToken struct {
	valid   map[string]commands.Authenticated
	failing map[string]error
	sent    []string
}

func (a *sessionsByToken) Send(_ context.Context, msg commands.Authenticate) (commands.Authenticated, error) {
	a.sent = append(a.sent, msg.Token)
	if err, ok := a.failing[msg.Token]; ok {
		return commands.Authenticated{}, err
	}
	if res, ok := a.valid[msg.Token]; ok {
		return res, nil
	}
	return commands.Authenticated{}, domain.ErrUnauthenticated
}

// newSessionsHarness is the harness with sessionToken valid, "refreshable" valid
// and refreshed to refreshedToken, "down" failing as an unavailable store, and every
// other token refused.
func newSessionsHarness(t *testing.T) (*harness, *sessionsByToken) {
	t.Helper()
	h := newHarness(t)
	a := &sessionsByToken{
		valid: map[string]commands.Authenticated{
			sessionToken:  {Actor: theActor},
			"refreshable": {Actor: theActor, RefreshedToken: refreshedToken},
		},
		failing: map[string]error{"down": domain.Unavailable("database down", 0)},
	}
	h.handler = NewRouter(h.cfg, Senders{
		Signup:            h.signup,
		Login:             h.login,
		Logout:            h.logout,
		Authenticate:      a,
		ChangeOwnPassword: h.changeOwnPassword,
		CreateUser:        h.createUser,
		SetUserPassword:   h.setUserPassword,
		SetAdmin:          h.setAdmin,
		SetActive:         h.setActive,
		Me:                h.me,
		GetUser:           h.getUser,
		ListUsers:         h.listUsers,
	}, nil, zap.NewNop())
	return h, a
}

// cookieHeaders sends each of lines as a Cookie header of its own, as HTTP/2
// clients may.
func cookieHeaders(lines ...string) option {
	return func(r *http.Request) {
		for _, l := range lines {
			r.Header.Add("Cookie", l)
		}
	}
}

// TestDuplicateSessionCookies: a browser may send several cookies of the session's
// name (one set for a sub-path, or for the parent domain by a sibling subdomain,
// comes first). The first that authenticates wins, without a removal that would
// hit it; only when none does is the request refused, with one removal.
func TestDuplicateSessionCookies(t *testing.T) {
	refreshedCookieHeader := "auth_token=" + refreshedToken + "; Path=/; HttpOnly; SameSite=Lax"
	cases := []struct {
		name       string
		cookies    []string
		status     int
		sent       []string
		setCookies []string
	}{
		{"junk, then valid", []string{"auth_token=junk; auth_token=" + sessionToken},
			http.StatusOK, []string{"junk", sessionToken}, nil},
		{"valid, then junk", []string{"auth_token=" + sessionToken + "; auth_token=junk"},
			http.StatusOK, []string{sessionToken}, nil},
		{"in separate headers", []string{"auth_token=junk", "auth_token=" + sessionToken},
			http.StatusOK, []string{"junk", sessionToken}, nil},
		{"refreshed behind junk", []string{"auth_token=junk; auth_token=refreshable"},
			http.StatusOK, []string{"junk", "refreshable"}, []string{refreshedCookieHeader}},
		{"other names ignored", []string{"session=" + sessionToken + "; auth_token=junk; x=" + sessionToken},
			http.StatusUnauthorized, []string{"junk"}, []string{removalCookieHeader}},
		{"none valid", []string{"auth_token=junk; auth_token=stale"},
			http.StatusUnauthorized, []string{"junk", "stale"}, []string{removalCookieHeader}},
		{"empty and repeated ones are tried once", []string{"auth_token=; auth_token=junk; auth_token=junk; auth_token=junk; auth_token=junk; auth_token=" + sessionToken},
			http.StatusOK, []string{"junk", sessionToken}, nil},
		{"only empty ones", []string{"auth_token=; auth_token="},
			http.StatusUnauthorized, nil, nil},
		{"a valid one past the bound", []string{"auth_token=a; auth_token=b; auth_token=c; auth_token=d; auth_token=" + sessionToken},
			http.StatusUnauthorized, []string{"a", "b", "c", "d"}, []string{removalCookieHeader}},
		{"store unavailable", []string{"auth_token=junk; auth_token=down; auth_token=" + sessionToken},
			http.StatusServiceUnavailable, []string{"junk", "down"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, a := newSessionsHarness(t)
			w := h.do(http.MethodGet, "/api/v1/account/me", "", cookieHeaders(c.cookies...))
			if w.Code != c.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			if !slices.Equal(a.sent, c.sent) {
				t.Errorf("tokens authenticated %q, want %q", a.sent, c.sent)
			}
			if got := setCookies(w); !slices.Equal(got, c.setCookies) {
				t.Errorf("Set-Cookie = %q, want %q", got, c.setCookies)
			}
			if c.status == http.StatusOK && (h.me.calls != 1 || h.me.msg.Actor != theActor) {
				t.Errorf("Me sent %d times, last with %+v; want once, for the valid session's caller", h.me.calls, h.me.msg)
			}
		})
	}
}

// TestDuplicateSessionCookiesOnSignupAndLogin: a valid session among the cookies
// refuses signup and login; when none is valid they are ignored, with one word on
// the cookie in the response.
func TestDuplicateSessionCookiesOnSignupAndLogin(t *testing.T) {
	const (
		signup = "/api/v1/account/signup"
		login  = "/api/v1/account/login"
	)
	body := `{"username":"alice","password":"` + secretPassword + `"}`
	cases := []struct {
		name       string
		path       string
		cookie     string
		status     int
		setCookies []string
	}{
		{"login, valid behind junk", login, "auth_token=junk; auth_token=" + sessionToken,
			http.StatusForbidden, nil},
		{"login, refreshed behind junk", login, "auth_token=junk; auth_token=refreshable",
			http.StatusForbidden, []string{"auth_token=" + refreshedToken + "; Path=/; HttpOnly; SameSite=Lax"}},
		{"signup, valid behind junk", signup, "auth_token=junk; auth_token=" + sessionToken,
			http.StatusForbidden, nil},
		{"login, none valid", login, "auth_token=junk; auth_token=stale",
			http.StatusNoContent, []string{sessionCookieHeader}},
		{"signup, none valid", signup, "auth_token=junk; auth_token=stale",
			http.StatusCreated, []string{removalCookieHeader}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, _ := newSessionsHarness(t)
			w := h.do(http.MethodPost, c.path, body, withHeader("Cookie", c.cookie))
			if c.status == http.StatusForbidden {
				wantProblem(t, w, http.StatusForbidden, codeAlreadyAuthenticated)
				if h.signup.calls+h.login.calls != 0 {
					t.Error("the use case ran for a caller with a valid session")
				}
			} else if w.Code != c.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, c.status, w.Body)
			}
			if got := setCookies(w); !slices.Equal(got, c.setCookies) {
				t.Errorf("Set-Cookie = %q, want %q", got, c.setCookies)
			}
		})
	}
}

// TestPrefixedCookieNamesAreSecure: browsers keep a __Host- or __Secure- cookie only
// if it is Secure, so such a name makes the cookie Secure even where cookie.secure
// is off; a __Host- one also needs Path=/ and no Domain, which every session cookie
// has.
func TestPrefixedCookieNamesAreSecure(t *testing.T) {
	cases := []struct {
		name   string
		secure bool
	}{
		{"__Host-auth", true},
		{"__host-Auth", true},
		{"__Secure-auth", true},
		{"__SECURE-auth", true},
		{"__Host", false},
		{"auth__Host-", false},
		{"_Host-auth", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.CookieName = c.name
			secure := ""
			if c.secure {
				secure = "; Secure"
			}

			w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`)
			want := c.name + "=" + sessionToken + "; Path=/; HttpOnly" + secure + "; SameSite=Lax"
			if got := setCookies(w); len(got) != 1 || got[0] != want {
				t.Errorf("login: Set-Cookie = %q, want %q", got, want)
			}

			w = h.do(http.MethodPost, "/api/v1/account/logout", "", withHeader("Cookie", c.name+"="+sessionToken))
			wantNoContent(t, w)
			if h.authenticate.msg.Token != sessionToken {
				t.Errorf("Authenticate got token %q, want the %s cookie's", h.authenticate.msg.Token, c.name)
			}
			want = c.name + "=; Path=/; Max-Age=0; HttpOnly" + secure + "; SameSite=Lax"
			if got := setCookies(w); len(got) != 1 || got[0] != want {
				t.Errorf("logout: Set-Cookie = %q, want %q", got, want)
			}
		})
	}
}
