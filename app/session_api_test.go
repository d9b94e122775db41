package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// moveSession rewrites the user's session row so tests can travel in time without
// sleeping.
func (s *service) moveSession(userID string, expiresIn, absoluteIn time.Duration) {
	s.t.Helper()
	_, err := s.DB.NewRaw(`UPDATE sessions SET expires_at = now() + ?::interval, absolute_expires_at = now() + ?::interval WHERE user_id = ?`,
		expiresIn.String(), absoluteIn.String(), userID).Exec(s.t.Context())
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *service) sessionExpiry(userID string) time.Time {
	s.t.Helper()
	var at time.Time
	if err := s.DB.NewSelect().Table("sessions").Column("expires_at").Where("user_id = ?", userID).Scan(s.t.Context(), &at); err != nil {
		s.t.Fatal(err)
	}
	return at
}

func TestSlidingSession(t *testing.T) {
	t.Parallel()
	s := startService(t, nil) // ttl 30m, threshold 0.2: refresh below 6m left
	id := s.superAdmin("root0")
	c := s.loggedIn("root0")

	// Plenty of time left: no refresh, no cookie.
	s.moveSession(id, 20*time.Minute, time.Hour)
	r := c.do("GET", "/api/v1/account/me", nil)
	assertStatus(t, r, 200, "")
	if len(r.Cookies) != 0 {
		t.Errorf("refreshed with 20m of 30m left")
	}

	// Below the threshold: extended to now+ttl and a fresh cookie with the new exp.
	s.moveSession(id, 2*time.Minute, time.Hour)
	r = c.do("GET", "/api/v1/account/me", nil)
	assertStatus(t, r, 200, "")
	fresh := r.Cookie("auth_token")
	if fresh == nil || fresh.Value == "" {
		t.Fatal("no refreshed cookie")
	}
	if left := time.Until(s.sessionExpiry(id)); left < 29*time.Minute {
		t.Errorf("session extended to only %v", left)
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(fresh.Value, claims); err != nil {
		t.Fatal(err)
	}
	if len(claims) != 3 || claims["sid"] == nil || claims["iat"] == nil || claims["exp"] == nil {
		t.Errorf("token claims %v, want sid, iat, exp only", claims)
	}
	exp, _ := claims.GetExpirationTime()
	if d := exp.Sub(s.sessionExpiry(id)); d > time.Second || d < -time.Second {
		t.Errorf("token exp %v, session expiry %v", exp, s.sessionExpiry(id))
	}

	// The absolute lifetime is never extended.
	s.moveSession(id, time.Minute, 3*time.Minute)
	assertStatus(t, c.do("GET", "/api/v1/account/me", nil), 200, "")
	if left := time.Until(s.sessionExpiry(id)); left > 3*time.Minute {
		t.Errorf("session extended past its absolute lifetime: %v left", left)
	}

	// Expired: refused, cookie removed, row gone.
	s.moveSession(id, -time.Second, time.Hour)
	r = c.do("GET", "/api/v1/account/me", nil)
	assertStatus(t, r, 401, "unauthenticated")
	if rm := r.Cookie("auth_token"); rm == nil || rm.MaxAge >= 0 {
		t.Error("expired cookie not removed")
	}
	if n := s.sessionCount(id); n != 0 {
		t.Errorf("%d expired sessions left", n)
	}
}

func TestForgedTokens(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	s.superAdmin("root0")
	login := s.client().login("root0", testPassword)
	real := login.Cookie("auth_token").Value
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(real, claims); err != nil {
		t.Fatal(err)
	}
	secret := []byte(s.Config.Security.JWTSecret)
	sign := func(m jwt.SigningMethod, c jwt.MapClaims, key any) string {
		tok, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	noExp := jwt.MapClaims{"sid": claims["sid"], "iat": claims["iat"]}
	forged := map[string]string{
		"HS512 with the right key": sign(jwt.SigningMethodHS512, claims, secret),
		"none":                     sign(jwt.SigningMethodNone, claims, jwt.UnsafeAllowNoneSignatureType),
		"another key":              sign(jwt.SigningMethodHS256, claims, []byte(strings.Repeat("k", 32))),
		"no exp":                   sign(jwt.SigningMethodHS256, noExp, secret),
		"right key, NUL in sid":    sign(jwt.SigningMethodHS256, jwt.MapClaims{"sid": "a\x00b", "iat": claims["iat"], "exp": claims["exp"]}, secret),
		"garbage":                  "not.a.token",
	}
	for name, token := range forged {
		t.Run(name, func(t *testing.T) {
			r := s.client().do("GET", "/api/v1/account/me", nil, "Cookie", "auth_token="+token)
			assertStatus(t, r, http.StatusUnauthorized, "unauthenticated")
			if c := r.Cookie("auth_token"); c == nil || c.MaxAge >= 0 {
				t.Errorf("cookie %v, want its removal (Max-Age=0)", c)
			}
		})
	}
	// The genuine token still works.
	assertStatus(t, s.client().do("GET", "/api/v1/account/me", nil, "Cookie", "auth_token="+real), 200, "")
}

// TestDatabaseDown: with the database pool closed under it (as when a request
// outlives the stop), requests get 503 problem JSON with Retry-After, never a 500
// with driver text, and readiness reports it. TestDatabaseOutage cuts the network
// to the database instead.
func TestDatabaseDown(t *testing.T) {
	t.Parallel()
	s := startService(t, nil)
	c := s.client()
	if err := s.DB.Close(); err != nil {
		t.Fatal(err)
	}
	r := c.do("GET", "/readyz", nil)
	assertStatus(t, r, 503, "unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	r = c.do("POST", "/api/v1/account/signup", map[string]string{"username": "someone", "password": testPassword})
	assertStatus(t, r, 503, "unavailable")
	if strings.Contains(string(r.Body), "sql") {
		t.Errorf("driver text leaked: %s", r.Body)
	}
	assertStatus(t, c.do("GET", "/livez", nil), 200, "")
}

// TestExpiredSessionsArePurged: the rows of sessions that expired are deleted in the
// background, without anyone presenting their cookies again; working sessions stay.
func TestExpiredSessionsArePurged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]string{"APP_SESSION_PURGE_INTERVAL": "20ms"})
	w.s.moveSession(w.userID, -time.Minute, time.Hour)

	deadline := time.Now().Add(10 * time.Second)
	for w.s.sessionCount(w.userID) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expired session row is still there")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := w.s.sessionCount(w.rootID); n != 1 {
		t.Errorf("root has %d sessions, want its working one", n)
	}
	assertStatus(t, w.root.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")

	var logged bool
	for _, e := range w.s.Logs.FilterMessage("purged").All() {
		ctx := e.ContextMap()
		logged = logged || (ctx["purged"] == "expired sessions" && ctx["rows"] == int64(1) && ctx["correlation_id"] != "")
	}
	if !logged {
		t.Error("no log line counting the purged session")
	}
}
