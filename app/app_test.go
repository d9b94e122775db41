package main

import (
	"bytes"
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
	s := startService(t, nil)
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
}

func TestCommandLine(t *testing.T) {
	t.Run("no command prints usage", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if code := run(nil, strings.NewReader(""), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage:") {
			t.Fatalf("exit %d, stderr %q", code, errOut.String())
		}
	})
}
