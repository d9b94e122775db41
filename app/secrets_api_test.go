package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/example/accounts/adapters/broker/brokertest"
	"github.com/example/accounts/adapters/postgres/pgtest"
)

// secrets gathers every value the logs must never hold.
type secrets map[string]string // value → what it is

// session adds the session token in c's cookie jar, the session id it carries and
// the form the database stores it in.
func (sec secrets) session(t *testing.T, s *service, c *client, who string) {
	t.Helper()
	u, _ := url.Parse(s.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name != s.Config.Cookie.Name {
			continue
		}
		sec[ck.Value] = who + "'s session cookie"
		parts := strings.Split(ck.Value, ".")
		if len(parts) != 3 {
			t.Fatalf("%s's cookie is not a JWT: %q", who, ck.Value)
		}
		sec[parts[2]] = who + "'s token signature"
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct{ SID string }
		if err := json.Unmarshal(payload, &claims); err != nil || claims.SID == "" {
			t.Fatalf("%s's token claims %s: %v", who, payload, err)
		}
		sec[claims.SID] = who + "'s session id"
		stored := sha256.Sum256([]byte(claims.SID))
		sec[hex.EncodeToString(stored[:])] = who + "'s session id as stored"
		return
	}
	t.Fatalf("%s has no session cookie", who)
}

// hashes adds every password hash the database holds now.
func (sec secrets) hashes(t *testing.T, s *service) {
	t.Helper()
	var hashes []string
	if err := s.DB.NewSelect().Table("users").Column("password_hash").Scan(t.Context(), &hashes); err != nil {
		t.Fatal(err)
	}
	for _, h := range hashes {
		sec[h] = "a password hash"
		// The bcrypt part alone, and its salt and digest, without the format's prefix.
		if i := strings.LastIndexByte(h, '$'); i >= 0 {
			sec[h[i+1:]] = "a bcrypt salt and digest"
		}
	}
}

// A whole scenario, logged at debug level, leaves no secret in the logs: no
// password (right or wrong, old or new), pepper, JWT secret, database password,
// cookie, session id or password hash.
func TestLogsHoldNoSecret(t *testing.T) {
	t.Parallel()
	const (
		jwtSecret  = "jwt-secret-of-the-leak-test-5e1a9c0b7d3f2e4a6c8b"
		pepper     = "pepper-of-the-leak-test-9b2d4f6a8c0e1a3c5e7f"
		dbPassword = "db-password-of-the-leak-test-77c1"
	)
	pw := map[string]string{
		"signup":  "first-Passw0rd-of-alice-4c2e",
		"changed": "second-Passw0rd-of-alice-8d1f",
		"wrong":   "wrong-Passw0rd-of-alice-3a7b",
		"created": "created-Passw0rd-of-bob-6e0d",
		"set":     "set-Passw0rd-of-bob-1b9c",
		"invalid": "invalid-Passw0rd-in-a-bad-body-2f4a",
	}
	// Trust authentication takes any password: this one only has to be in the URL.
	dbURL, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	dbURL.User = url.UserPassword(dbURL.User.Username(), dbPassword)
	stream := brokertest.NewStream(t)
	s := startService(t, map[string]string{
		"APP_DATABASE_URL":                       dbURL.String(),
		"APP_SECURITY_JWT_SECRET":                jwtSecret,
		"APP_SECURITY_PASSWORD_PEPPER":           pepper,
		"APP_LOG_LEVEL":                          "debug",
		"APP_EVENTS_BROKER":                      "nats",
		"APP_EVENTS_NATS_URL":                    brokertest.NATSURL(),
		"APP_EVENTS_NATS_STREAM":                 stream.Name,
		"APP_EVENTS_NATS_SUBJECT":                stream.Subject,
		"APP_EVENTS_POLL_INTERVAL":               "20ms",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "100",
	})
	sec := secrets{jwtSecret: "the JWT secret", pepper: "the pepper", dbPassword: "the database password"}
	for k, v := range pw {
		sec[v] = "password " + k
	}

	// Alice signs up, fails a login, logs in, changes her password.
	alice := s.client()
	assertStatus(t, alice.do("POST", "/api/v1/account/signup", map[string]string{"username": "alice", "password": pw["signup"]}), http.StatusCreated, "")
	sec.hashes(t, s)
	assertStatus(t, alice.login("alice", pw["wrong"]), http.StatusUnauthorized, "invalid_credentials")
	assertStatus(t, alice.login("alice", pw["signup"]), http.StatusNoContent, "")
	sec.session(t, s, alice, "alice")
	assertStatus(t, alice.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	assertStatus(t, alice.do("PUT", "/api/v1/account/password",
		map[string]string{"current_password": pw["wrong"], "new_password": pw["changed"]}), http.StatusForbidden, "invalid_current_password")
	assertStatus(t, alice.do("PUT", "/api/v1/account/password",
		map[string]string{"current_password": pw["signup"], "new_password": pw["changed"]}), http.StatusNoContent, "")
	sec.hashes(t, s)
	// A body the strict decoder refuses, with a password in it.
	assertStatus(t, s.client().do("POST", "/api/v1/account/signup",
		map[string]string{"username": "mallory", "password": pw["invalid"], "role": "super_admin"}), http.StatusBadRequest, "invalid_request")

	// A super admin creates bob, sets his password, makes him admin, then
	// inactivates and reactivates alice.
	s.superAdmin("root0")
	root := s.loggedIn("root0")
	sec.session(t, s, root, "root")
	r := root.do("POST", "/api/v1/users", map[string]string{"username": "bobby", "password": pw["created"], "role": "user"})
	assertStatus(t, r, http.StatusCreated, "")
	bobID := r.JSON(t)["id"].(string)
	sec.hashes(t, s)
	assertStatus(t, root.do("PUT", "/api/v1/users/"+bobID+"/password", map[string]string{"password": pw["set"]}), http.StatusNoContent, "")
	sec.hashes(t, s)
	bob := s.client()
	assertStatus(t, bob.login("bobby", pw["set"]), http.StatusNoContent, "")
	sec.session(t, s, bob, "bob")
	assertStatus(t, root.do("PUT", "/api/v1/users/"+bobID+"/roles/admin", nil), http.StatusNoContent, "")
	aliceID := alice.do("GET", "/api/v1/account/me", nil).JSON(t)["id"].(string)
	assertStatus(t, root.do("DELETE", "/api/v1/users/"+aliceID+"/activation", nil), http.StatusNoContent, "")
	assertStatus(t, alice.do("GET", "/api/v1/account/me", nil), http.StatusUnauthorized, "unauthenticated")
	assertStatus(t, root.do("PUT", "/api/v1/users/"+aliceID+"/activation", nil), http.StatusNoContent, "")
	assertStatus(t, root.do("GET", "/api/v1/users?sort=username", nil), http.StatusOK, "")
	assertStatus(t, bob.do("POST", "/api/v1/account/logout", nil), http.StatusNoContent, "")
	assertStatus(t, root.do("POST", "/api/v1/account/logout", nil), http.StatusNoContent, "")
	// Every event reached the broker (alice signed up, changed her password, was
	// inactivated and reactivated; root and bobby were created, bobby's password
	// set and role changed), so the lines of their delivery are in too.
	stream.Messages(t, 8)

	out := s.Output.String()
	if !strings.Contains(out, `"level":"debug"`) || !strings.Contains(out, `"msg":"http request"`) {
		t.Fatalf("the logs are not at debug level with the access log in; got:\n%s", out)
	}
	for value, what := range sec {
		if strings.Contains(out, value) {
			t.Errorf("the logs hold %s (%q)", what, value)
		}
	}
}
