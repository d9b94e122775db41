package main

import (
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// TestAppGraphIsComplete catches a missing or duplicated provider without starting
// anything.
func TestAppGraphIsComplete(t *testing.T) {
	cfg := testConfig(t, nil)
	if err := fx.ValidateApp(serviceOptions(cfg, zap.NewNop(), &bun.DB{}, &listener{})); err != nil {
		t.Fatal(err)
	}
}

// TestServiceStartsServesAndStops runs the whole program against a real database:
// it answers while running and releases its port when stopped.
func TestServiceStartsServesAndStops(t *testing.T) {
	s, app := startServiceApp(t, nil)
	c := s.client()
	if r := c.do("GET", "/livez", nil); r.Status != http.StatusOK {
		t.Fatalf("livez: %d", r.Status)
	}
	if r := c.do("GET", "/readyz", nil); r.Status != http.StatusOK {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if r := c.do("GET", "/api/v1/", nil); r.Status != http.StatusOK || r.JSON(t)["status"] != "ok" {
		t.Fatalf("api index: %d %s", r.Status, r.Body)
	}

	app.RequireStop()
	if conn, err := net.Dial("tcp", s.Addr); err == nil {
		_ = conn.Close()
		t.Error("the stopped service still accepts connections")
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		t.Fatalf("the stopped service still holds its port: %v", err)
	}
	_ = ln.Close()
}

// TestCommandLine: a command line the program cannot make sense of exits 2 with
// the usage, before any configuration or database is touched.
func TestCommandLine(t *testing.T) {
	t.Run("no command prints usage", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := run(nil, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage:") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
	})
	// Nothing listens here: a command that reached the database would fail with 1.
	unreachable := map[string]string{"APP_DATABASE_URL": "postgres://postgres@127.0.0.1:1/none?sslmode=disable"}
	for _, args := range [][]string{
		{"frobnicate"},
		{"serve", "now"},
		{"migrate"},
		{"migrate", "up", "down"},
		{"migrate", "sideways"},
		{"create-superadmin"},
		{"create-superadmin", "--username", "root0", "extra"},
		{"create-superadmin", "--bogus"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, unreachable, args...)
			if code != 2 || out != "" || !strings.Contains(errOut, "usage:") {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and the usage", code, out, errOut)
			}
		})
	}
}
