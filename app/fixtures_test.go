package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
)

const testPassword = "secret-password"

// superAdmin creates a super admin through the command line and returns its id.
func (s *service) superAdmin(username string) string {
	s.t.Helper()
	// Not through the command line: it would take APP_SUPERADMIN_PASSWORD from the
	// machine's environment over the test's password.
	var out bytes.Buffer
	err := createSuperAdmin(s.Config, zap.NewNop(), username, testPassword, &out)
	if err != nil {
		s.t.Fatalf("create-superadmin %s: %v", username, err)
	}
	return strings.TrimSpace(out.String())
}

// loggedIn returns a client logged in as username with testPassword.
func (s *service) loggedIn(username string) *client {
	s.t.Helper()
	c := s.client()
	if r := c.login(username, testPassword); r.Status != http.StatusNoContent {
		s.t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	return c
}

func (c *client) login(username, password string) response {
	c.t.Helper()
	return c.do("POST", "/api/v1/account/login", map[string]string{"username": username, "password": password})
}

// createUser has admin create a user of role and returns its id.
func (c *client) createUser(username, role string) string {
	c.t.Helper()
	r := c.do("POST", "/api/v1/users", map[string]string{"username": username, "password": testPassword, "role": role})
	if r.Status != http.StatusCreated {
		c.t.Fatalf("create %s: %d %s", username, r.Status, r.Body)
	}
	return r.JSON(c.t)["id"].(string)
}

// world is a super admin, an admin and a user, each logged in.
type world struct {
	s                       *service
	root, admin, user       *client
	rootID, adminID, userID string
}

func newWorld(t *testing.T, env map[string]string) *world {
	t.Helper()
	s := startService(t, env)
	w := &world{s: s}
	w.rootID = s.superAdmin("root0")
	w.root = s.loggedIn("root0")
	w.adminID = w.root.createUser("admin0", "admin")
	w.userID = w.root.createUser("user0", "user")
	w.admin = s.loggedIn("admin0")
	w.user = s.loggedIn("user0")
	return w
}

// sessionCount is how many session rows the user has.
func (s *service) sessionCount(userID string) int {
	s.t.Helper()
	n, err := s.DB.NewSelect().Table("sessions").Where("user_id = ?", userID).Count(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return int(n)
}

func assertStatus(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Code() != code {
		t.Fatalf("got %d %q, want %d %q; body %s", r.Status, r.Code(), status, code, r.Body)
	}
}

func toString(v any) string {
	return fmt.Sprint(v)
}
