package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/postgres/pgtest"
)

// BenchmarkAuthenticatedRead is the service's hot path end to end: GET
// /api/v1/account/me with a session cookie over real HTTP, which authenticates (a
// bus round trip and a session lookup joined with its user) and runs the query (a
// second round trip), against PostgreSQL, with JSON access logs written (to
// nowhere). Eight clients per CPU; it reports requests per second.
func BenchmarkAuthenticatedRead(b *testing.B) {
	env := map[string]string{
		"APP_DATABASE_URL": pgtest.NewURL(b),
		"APP_LOG_LEVEL":    "info",
	}
	// What tracing costs: APP_TRACING_ENABLED=true, with the sampler and the
	// exporter the OTEL_* variables name (docs/tracing.md, "What it costs").
	if v, ok := os.LookupEnv("APP_TRACING_ENABLED"); ok {
		env["APP_TRACING_ENABLED"] = v
	}
	// What metrics cost: APP_ADMIN_ADDR= turns them off.
	if v, ok := os.LookupEnv("APP_ADMIN_ADDR"); ok {
		env["APP_ADMIN_ADDR"] = v
	}
	cfg := testConfig(b, env)
	logger := zap.New(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel))
	db, err := openDatabase(context.Background(), cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	l := &listener{}
	app := fxtest.New(b, serviceOptions(cfg, logger, db, l))
	app.RequireStart()
	defer app.RequireStop()

	if err := createSuperAdmin(cfg, zap.NewNop(), "bench.root", testPassword, io.Discard); err != nil {
		b.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	login, err := http.Post(base+"/api/v1/account/login", "application/json",
		strings.NewReader(`{"username":"bench.root","password":"`+testPassword+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	_ = login.Body.Close()
	var cookie *http.Cookie
	for _, c := range login.Cookies() {
		if c.Name == cfg.Cookie.Name {
			cookie = c
		}
	}
	if cookie == nil {
		b.Fatalf("login: %d, no session cookie", login.StatusCode)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/account/me", nil)
			req.AddCookie(cookie)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
