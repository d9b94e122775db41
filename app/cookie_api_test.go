package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// sessionOf logs username in with a client of its own and returns the token of the
// session cookie named name.
func (s *service) sessionOf(username, name string) string {
	s.t.Helper()
	r := s.client().login(username, testPassword)
	c := r.Cookie(name)
	if r.Status != http.StatusNoContent || c == nil || c.Value == "" {
		s.t.Fatalf("login %s: %d, cookie %v", username, r.Status, c)
	}
	return c.Value
}

// withCookies sends a request with exactly this Cookie header, from a client whose
// jar is empty: the header is what a browser holding these cookies sends.
func (s *service) withCookies(method, path string, body any, cookie string) response {
	s.t.Helper()
	return s.client().do(method, path, body, "Cookie", cookie)
}

// assertNoCookie fails if r says anything about the cookie named name.
func assertNoCookie(t *testing.T, r response, name string) {
	t.Helper()
	if c := r.Cookie(name); c != nil {
		t.Errorf("Set-Cookie %v, want none", c)
	}
}

// assertOneRemoval fails unless r's only Set-Cookie removes the cookie named name.
func assertOneRemoval(t *testing.T, r response, name string) {
	t.Helper()
	if len(r.Cookies) != 1 || r.Cookies[0].Name != name || r.Cookies[0].MaxAge >= 0 {
		t.Errorf("Set-Cookie %v, want only the removal of %s", r.Cookies, name)
	}
}

// TestDuplicateSessionCookiesOverHTTP: a cookie of the session's name planted for a
// sub-path or by a sibling subdomain comes before the session's own in the Cookie
// header. It must neither log the user out nor make the service remove the valid
// cookie.
func TestDuplicateSessionCookiesOverHTTP(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	s.superAdmin("root0")
	valid := s.sessionOf("root0", "auth_token")
	// A stale cookie: a well-formed token of a session that has ended.
	stale := s.sessionOf("root0", "auth_token")
	assertStatus(t, s.withCookies("POST", "/api/v1/account/logout", nil, "auth_token="+stale), http.StatusNoContent, "")

	for name, cookie := range map[string]string{
		"junk, then valid":  "auth_token=junk; auth_token=" + valid,
		"valid, then junk":  "auth_token=" + valid + "; auth_token=junk",
		"stale, then valid": "auth_token=" + stale + "; auth_token=" + valid,
	} {
		t.Run(name, func(t *testing.T) {
			r := s.withCookies("GET", "/api/v1/account/me", nil, cookie)
			assertStatus(t, r, http.StatusOK, "")
			if got := r.JSON(t)["username"]; got != "root0" {
				t.Errorf("username %v, want root0", got)
			}
			assertNoCookie(t, r, "auth_token")
		})
	}

	t.Run("none valid", func(t *testing.T) {
		r := s.withCookies("GET", "/api/v1/account/me", nil, "auth_token=junk; auth_token="+stale)
		assertStatus(t, r, http.StatusUnauthorized, "unauthenticated")
		assertOneRemoval(t, r, "auth_token")
	})

	credentials := map[string]string{"username": "root0", "password": testPassword}
	t.Run("login, valid among them", func(t *testing.T) {
		r := s.withCookies("POST", "/api/v1/account/login", credentials, "auth_token=junk; auth_token="+valid)
		assertStatus(t, r, http.StatusForbidden, "already_authenticated")
		assertNoCookie(t, r, "auth_token")
	})
	t.Run("login, none valid", func(t *testing.T) {
		r := s.withCookies("POST", "/api/v1/account/login", credentials, "auth_token=junk; auth_token="+stale)
		assertStatus(t, r, http.StatusNoContent, "")
		if len(r.Cookies) != 1 || r.Cookies[0].Value == "" || r.Cookies[0].MaxAge != 0 {
			t.Errorf("Set-Cookie %v, want only the new session's cookie", r.Cookies)
		}
	})

	// The valid session was never removed nor ended along the way.
	assertStatus(t, s.withCookies("GET", "/api/v1/account/me", nil, "auth_token="+valid), http.StatusOK, "")
}

// TestHostPrefixedCookieOverHTTP: a __Host- cookie name works through login, /me
// and logout, with the attributes browsers require of it (Secure, Path=/, no
// Domain). Go's cookie jar sends no Secure cookie over plain HTTP, so the requests
// carry the Cookie header a browser on HTTPS would send.
func TestHostPrefixedCookieOverHTTP(t *testing.T) {
	t.Parallel()
	const name = "__Host-auth"
	s := startService(t, map[string]string{"APP_COOKIE_NAME": name, "APP_COOKIE_SECURE": "true"})
	s.superAdmin("root0")

	login := s.client().login("root0", testPassword)
	assertStatus(t, login, http.StatusNoContent, "")
	set := login.Header.Values("Set-Cookie")
	c := login.Cookie(name)
	if len(set) != 1 || c == nil || c.Value == "" || !c.Secure || c.Path != "/" || c.Domain != "" ||
		strings.Contains(strings.ToLower(set[0]), "domain=") {
		t.Fatalf("Set-Cookie %q, want one %s cookie with Secure, Path=/ and no Domain", set, name)
	}
	cookie := name + "=" + c.Value

	me := s.withCookies("GET", "/api/v1/account/me", nil, cookie)
	assertStatus(t, me, http.StatusOK, "")
	if got := me.JSON(t)["username"]; got != "root0" {
		t.Errorf("username %v, want root0", got)
	}
	// The token under another name is not the session cookie.
	assertStatus(t, s.withCookies("GET", "/api/v1/account/me", nil, "auth_token="+c.Value), http.StatusUnauthorized, "unauthenticated")

	logout := s.withCookies("POST", "/api/v1/account/logout", nil, cookie)
	assertStatus(t, logout, http.StatusNoContent, "")
	assertOneRemoval(t, logout, name)
	if rm := logout.Cookie(name); rm != nil && (!rm.Secure || rm.Path != "/" || rm.Domain != "") {
		t.Errorf("removal %v, want Secure, Path=/ and no Domain, or the browser keeps the cookie", rm)
	}

	after := s.withCookies("GET", "/api/v1/account/me", nil, cookie)
	assertStatus(t, after, http.StatusUnauthorized, "unauthenticated")
	assertOneRemoval(t, after, name)
}

// TestStoredSessionIDsDoNotAuthenticate: what the sessions table holds is not the
// session id, and a token naming it, even one signed with the service's own key,
// opens no session: a read of the table hands out no working session.
func TestStoredSessionIDsDoNotAuthenticate(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	id := s.superAdmin("root0")
	token := s.sessionOf("root0", "auth_token")
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}

	var stored []string
	if err := s.DB.NewRaw("SELECT id FROM sessions WHERE user_id = ?", id).Scan(t.Context(), &stored); err != nil {
		t.Fatal(err)
	}
	sid, _ := claims["sid"].(string)
	if len(stored) != 1 || sid == "" || strings.Contains(stored[0], sid) {
		t.Fatalf("sessions.id = %q for the session %q, want one row that is not its id", stored, sid)
	}

	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256,
		jwt.MapClaims{"sid": stored[0], "iat": claims["iat"], "exp": claims["exp"]}).
		SignedString([]byte(s.Config.Security.JWTSecret))
	if err != nil {
		t.Fatal(err)
	}
	r := s.withCookies("GET", "/api/v1/account/me", nil, "auth_token="+forged)
	assertStatus(t, r, http.StatusUnauthorized, "unauthenticated")
	assertOneRemoval(t, r, "auth_token")

	assertStatus(t, s.withCookies("GET", "/api/v1/account/me", nil, "auth_token="+token), http.StatusOK, "")
}
