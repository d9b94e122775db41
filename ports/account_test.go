package ports

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

func TestSignup(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodPost, "/api/v1/account/signup", `{"username":"Alice","password":"`+secretPassword+`"}`)
	wantBody(t, w, http.StatusCreated, `{"id":"`+targetID+`"}`)
	if want := (commands.Signup{Username: "Alice", Password: secretPassword, ClientAddr: "192.0.2.1"}); h.signup.msg != want {
		t.Errorf("sent %+v, want %+v", h.signup.msg, want)
	}
	if len(setCookies(w)) != 0 || w.Header().Get("Location") != "" {
		t.Errorf("signup opened a session or named a location: %v", w.Header())
	}
}

func TestSignupSendsValuesUnchanged(t *testing.T) {
	h := newHarness(t)
	// No trimming, escapes decoded, every character kept (the contract).
	w := h.do(http.MethodPost, "/api/v1/account/signup", `{"username":" alice ","password":"p\u00e4ss\"w\u0000rd"}`)
	if w.Code != http.StatusCreated {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	if want := (commands.Signup{Username: " alice ", Password: "päss\"w\x00rd", ClientAddr: "192.0.2.1"}); h.signup.msg != want {
		t.Errorf("sent %+v, want %+v", h.signup.msg, want)
	}
}

func TestLogin(t *testing.T) {
	h := newHarness(t)
	h.cfg.CookieSecure = true
	w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`,
		withHeader("X-Forwarded-For", "203.0.113.9"))
	wantNoContent(t, w)
	want := "auth_token=" + sessionToken + "; Path=/; HttpOnly; Secure; SameSite=Lax"
	if got := setCookies(w); len(got) != 1 || got[0] != want {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
	// httptest's peer is 192.0.2.1:1234; X-Forwarded-For is not trusted.
	sent := commands.Login{Username: "alice", Password: secretPassword, ClientAddr: "192.0.2.1"}
	if h.login.msg != sent {
		t.Errorf("sent %+v, want %+v", h.login.msg, sent)
	}
}

func TestLoginCookieIsInsecureOnlyWhenConfigured(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`)
	if got := setCookies(w); len(got) != 1 || got[0] != sessionCookieHeader {
		t.Errorf("Set-Cookie = %q, want %q", got, sessionCookieHeader)
	}
}

func TestLoginCookieName(t *testing.T) {
	h := newHarness(t)
	h.cfg.CookieName = "sid"
	w := h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`)
	if got := setCookies(w); len(got) != 1 || got[0] != "sid="+sessionToken+"; Path=/; HttpOnly; SameSite=Lax" {
		t.Errorf("Set-Cookie = %q", got)
	}
}

// TestClientAddr: the login throttle's key is the TCP peer, or, behind trusted
// proxies, the first address from the right of X-Forwarded-For that is not one of
// them. Whatever an untrusted peer writes in the header is ignored.
func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		name, remote string
		forwarded    []string // X-Forwarded-For header lines
		want         string
	}{
		{"IPv4 peer", "192.0.2.1:1234", nil, "192.0.2.1"},
		{"IPv6 peer", "[2001:db8::1]:80", nil, "2001:db8::1"},
		{"Unix socket peer, no port", "@", nil, "@"},
		{"untrusted peer's header ignored", "192.0.2.1:1234", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted proxy without a header", "10.0.0.5:1234", nil, "10.0.0.5"},
		{"behind one proxy", "10.0.0.5:1234", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client-chosen entries left of the client", "10.0.0.5:1234", []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"behind two proxies", "10.0.0.5:1234", []string{"203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"several header lines", "10.0.0.5:1234", []string{"203.0.113.9", "10.0.0.7"}, "203.0.113.9"},
		{"IPv6 proxy and client", "[2001:db8:ffff::2]:443", []string{"2001:db8:1::9"}, "2001:db8:1::9"},
		{"malformed hop stops the walk", "10.0.0.5:1234", []string{"203.0.113.9, not-an-address"}, "10.0.0.5"},
		{"only proxies", "10.0.0.5:1234", []string{"10.0.0.8"}, "10.0.0.8"},
		{"hops with ports", "10.0.0.5:1234", []string{"203.0.113.9:4711, [2001:db8:ffff::3]:443"}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg.TrustedProxies = trusted
			h.do(http.MethodPost, "/api/v1/account/login", `{"username":"alice","password":"`+secretPassword+`"}`,
				func(r *http.Request) {
					r.RemoteAddr = tc.remote
					for _, v := range tc.forwarded {
						r.Header.Add("X-Forwarded-For", v)
					}
				})
			if got := h.login.msg.ClientAddr; got != tc.want {
				t.Errorf("client address %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodPost, "/api/v1/account/logout", "", withCookie(sessionToken))
	wantNoContent(t, w)
	if got := setCookies(w); len(got) != 1 || got[0] != removalCookieHeader {
		t.Errorf("Set-Cookie = %q, want %q", got, removalCookieHeader)
	}
	if h.logout.msg != (commands.Logout{SessionID: theActor.SessionID}) {
		t.Errorf("sent %+v", h.logout.msg)
	}
}

func TestLogoutFailureKeepsTheCookie(t *testing.T) {
	h := newHarness(t)
	h.logout.err = domain.Unavailable("database down", 0)
	w := h.do(http.MethodPost, "/api/v1/account/logout", "", withCookie(sessionToken))
	wantProblem(t, w, http.StatusServiceUnavailable, domain.CodeUnavailable)
	if len(setCookies(w)) != 0 {
		t.Errorf("Set-Cookie = %q: the session still exists", setCookies(w))
	}
}

func TestMe(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodGet, "/api/v1/account/me", "", withCookie(sessionToken))
	wantBody(t, w, http.StatusOK, aUserJSON)
	if h.me.msg != (queries.Me{Actor: theActor}) {
		t.Errorf("sent %+v", h.me.msg)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodPut, "/api/v1/account/password", `{"current_password":"old-secret","new_password":"`+secretPassword+`"}`,
		withCookie(sessionToken))
	wantNoContent(t, w)
	want := commands.ChangeOwnPassword{Actor: theActor, CurrentPassword: "old-secret", NewPassword: secretPassword, ClientAddr: "192.0.2.1"}
	if h.changeOwnPassword.msg != want {
		t.Errorf("sent %+v, want %+v", h.changeOwnPassword.msg, want)
	}
}

func TestChangeOwnPasswordMissingMember(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodPut, "/api/v1/account/password", `{"current_password":"old-secret"}`, withCookie(sessionToken))
	wantProblem(t, w, http.StatusBadRequest, codeInvalidRequest, "new_password")
}
