package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestSignup(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	c := s.client()

	r := c.do("POST", "/api/v1/account/signup", map[string]string{"username": "new.user", "password": testPassword})
	assertStatus(t, r, http.StatusCreated, "")
	if len(r.Cookies) != 0 {
		t.Errorf("signup set cookies: %v", r.Cookies)
	}
	id := r.JSON(t)["id"].(string)

	var role string
	var active bool
	if err := s.DB.NewSelect().Table("users").Column("role", "is_active").Where("id = ?", id).Scan(t.Context(), &role, &active); err != nil {
		t.Fatal(err)
	}
	if role != "user" || !active {
		t.Errorf("stored role %q active %v, want user and active", role, active)
	}

	assertStatus(t, c.do("POST", "/api/v1/account/signup", map[string]string{"username": "new.user", "password": testPassword}),
		http.StatusConflict, "username_taken")
	// Uniqueness is exact: another case is another name.
	assertStatus(t, c.do("POST", "/api/v1/account/signup", map[string]string{"username": "New.User", "password": testPassword}),
		http.StatusCreated, "")

	r = c.do("POST", "/api/v1/account/signup", map[string]string{"username": "user..name", "password": "short"})
	assertStatus(t, r, http.StatusBadRequest, "validation_failed")
	errs := r.JSON(t)["errors"].([]any)
	if len(errs) != 2 {
		t.Errorf("want both fields at fault, got %v", errs)
	}
}

func TestLoginAndSessionCookie(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	rootID := s.superAdmin("root0")
	c := s.client()

	r := c.login("root0", testPassword)
	assertStatus(t, r, http.StatusNoContent, "")
	raw := strings.Join(r.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"auth_token=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(raw, want) {
			t.Errorf("cookie %q lacks %q", raw, want)
		}
	}
	for _, unwanted := range []string{"Max-Age", "Expires", "Secure"} {
		if strings.Contains(raw, unwanted) {
			t.Errorf("cookie %q has %q", raw, unwanted)
		}
	}
	if n := s.sessionCount(rootID); n != 1 {
		t.Errorf("%d sessions after login, want 1", n)
	}

	me := c.do("GET", "/api/v1/account/me", nil)
	assertStatus(t, me, http.StatusOK, "")
	body := me.JSON(t)
	if body["id"] != rootID || body["username"] != "root0" || body["role"] != "super_admin" || body["is_active"] != true {
		t.Errorf("me: %s", me.Body)
	}
	if _, ok := body["password_hash"]; ok {
		t.Error("me reveals the password hash")
	}

	// A logged-in caller may not sign up or log in again.
	assertStatus(t, c.login("root0", testPassword), http.StatusForbidden, "already_authenticated")
	assertStatus(t, c.do("POST", "/api/v1/account/signup", map[string]string{"username": "other", "password": testPassword}),
		http.StatusForbidden, "already_authenticated")

	// Logout deletes the session and removes the cookie.
	token := r.Cookie("auth_token").Value
	out := c.do("POST", "/api/v1/account/logout", nil)
	assertStatus(t, out, http.StatusNoContent, "")
	if rm := out.Cookie("auth_token"); rm == nil || rm.MaxAge >= 0 {
		t.Errorf("logout did not remove the cookie: %v", out.Header.Values("Set-Cookie"))
	}
	if n := s.sessionCount(rootID); n != 0 {
		t.Errorf("%d sessions after logout, want 0", n)
	}

	// A copy of the old cookie no longer works, and is removed.
	stale := s.client()
	r = stale.do("GET", "/api/v1/account/me", nil, "Cookie", "auth_token="+token)
	assertStatus(t, r, http.StatusUnauthorized, "unauthenticated")
	if rm := r.Cookie("auth_token"); rm == nil || rm.MaxAge >= 0 {
		t.Errorf("stale cookie not removed: %v", r.Header.Values("Set-Cookie"))
	}
	// On login a stale cookie is ignored (the contract). A failed login removes it; a
	// successful one replaces it with the new session's cookie, in one Set-Cookie
	// (RFC 6265 asks for one per cookie name, as clients need not apply two in order).
	r = stale.do("POST", "/api/v1/account/login", map[string]string{"username": "root0", "password": "wrong-password"},
		"Cookie", "auth_token="+token)
	assertStatus(t, r, http.StatusUnauthorized, "invalid_credentials")
	if got := r.Cookies; len(got) != 1 || got[0].Name != "auth_token" || got[0].MaxAge >= 0 {
		t.Errorf("failed login with a stale cookie set %q, want its removal", r.Header.Values("Set-Cookie"))
	}
	r = stale.do("POST", "/api/v1/account/login", map[string]string{"username": "root0", "password": testPassword},
		"Cookie", "auth_token="+token)
	assertStatus(t, r, http.StatusNoContent, "")
	if got := r.Cookies; len(got) != 1 || got[0].Name != "auth_token" || got[0].MaxAge != 0 ||
		got[0].Value == "" || got[0].Value == token {
		t.Errorf("login with a stale cookie set %q, want only the new session's cookie", r.Header.Values("Set-Cookie"))
	}
	if n := s.sessionCount(rootID); n != 1 {
		t.Errorf("%d sessions after logging in again, want 1", n)
	}
	// Signup opens no session: a stale cookie is only removed.
	r = s.client().do("POST", "/api/v1/account/signup", map[string]string{"username": "late.user", "password": testPassword},
		"Cookie", "auth_token="+token)
	assertStatus(t, r, http.StatusCreated, "")
	if got := r.Cookies; len(got) != 1 || got[0].Name != "auth_token" || got[0].MaxAge >= 0 {
		t.Errorf("signup with a stale cookie set %q, want its removal only", r.Header.Values("Set-Cookie"))
	}
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	root := s.loggedInSuperAdmin("root0")
	inactive := root.createUser("gone.user", "user")
	assertStatus(t, root.do("DELETE", "/api/v1/users/"+inactive+"/activation", nil), http.StatusNoContent, "")

	c := s.client()
	cases := []struct {
		name, username, password string
		status                   int
		code                     string
	}{
		{"unknown user", "nobody", testPassword, 401, "invalid_credentials"},
		{"wrong password", "root0", "wrong-password", 401, "invalid_credentials"},
		{"inactive after correct password", "gone.user", testPassword, 401, "account_inactive"},
		{"inactive with wrong password", "gone.user", "wrong-password", 401, "invalid_credentials"},
		{"malformed username", "ab", testPassword, 400, "validation_failed"},
		{"short password", "root0", "12345", 400, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.login(tc.username, tc.password)
			assertStatus(t, r, tc.status, tc.code)
			if len(r.Cookies) != 0 {
				t.Errorf("failed login set a cookie")
			}
		})
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "2"})
	s.superAdmin("root0")
	c := s.client()
	for i := 0; i < 2; i++ {
		assertStatus(t, c.login("root0", "wrong-password"), http.StatusUnauthorized, "invalid_credentials")
	}
	r := c.login("root0", testPassword)
	assertStatus(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Another account is not affected.
	assertStatus(t, c.login("other.name", "wrong-password"), http.StatusUnauthorized, "invalid_credentials")
}

func TestChangeOwnPassword(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	id := s.superAdmin("root0")
	c := s.loggedIn("root0")
	other := s.loggedIn("root0")

	put := func(current, next string) response {
		return c.do("PUT", "/api/v1/account/password", map[string]string{"current_password": current, "new_password": next})
	}
	assertStatus(t, put(testPassword, "short"), http.StatusBadRequest, "validation_failed")
	assertStatus(t, put(testPassword, testPassword), http.StatusBadRequest, "validation_failed")
	assertStatus(t, put("wrong-password", "another-password"), http.StatusForbidden, "invalid_current_password")
	assertStatus(t, put(testPassword, "another-password"), http.StatusNoContent, "")

	if n := s.sessionCount(id); n != 1 {
		t.Errorf("%d sessions after password change, want only this one", n)
	}
	assertStatus(t, c.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	assertStatus(t, other.do("GET", "/api/v1/account/me", nil), http.StatusUnauthorized, "unauthenticated")
	assertStatus(t, s.client().login("root0", "another-password"), http.StatusNoContent, "")
}

// loggedInSuperAdmin creates a super admin and logs it in.
func (s *service) loggedInSuperAdmin(username string) *client {
	s.superAdmin(username)
	return s.loggedIn(username)
}
