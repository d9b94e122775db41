package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/ports/openapi"
)

// service is the whole program running in process against its own throwaway
// database, reached over real HTTP.
type service struct {
	t    *testing.T
	URL  string
	Addr string // host:port the server listens on
	// AdminURL is the admin listener's, where /metrics is served.
	AdminURL string
	DB       *bun.DB
	Config   Config
	Logs     *observer.ObservedLogs
	// Output is everything the service logged, as the JSON lines an operator reads.
	Output *lockedBuffer
}

// testConfig is the shipped config.toml with test overrides: a throwaway database,
// an ephemeral port and a cheap bcrypt cost.
func testConfig(t testing.TB, env map[string]string) Config {
	t.Helper()
	vars := map[string]string{
		"APP_CONFIG":                        "../config.toml",
		"APP_HTTP_ADDR":                     "127.0.0.1:0",
		"APP_ADMIN_ADDR":                    "127.0.0.1:0",
		"APP_SECURITY_BCRYPT_COST":          "4",
		"APP_LOG_LEVEL":                     "debug",
		"APP_DATABASE_URL":                  "postgres://unused",
		"APP_RATELIMIT_LOGIN_PER_MINUTE_IP": "1000",
		"APP_RATELIMIT_HASH_PER_MINUTE_IP":  "100000",
		"APP_RATELIMIT_HASH_BURST_IP":       "1000",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := LoadConfig(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Fatalf("test config: %v", err)
	}
	return cfg
}

// startService starts the service with the given config overrides and stops it when
// the test ends.
func startService(t *testing.T, env map[string]string) *service {
	t.Helper()
	s, app := startServiceApp(t, env)
	t.Cleanup(app.RequireStop)
	return s
}

// startServiceApp starts the service and leaves stopping it to the test. An
// APP_DATABASE_URL in env is used as given (a test may put a proxy in front of the
// database); otherwise the service gets a throwaway database of its own. opts go
// into the app, e.g. fx.Populate to reach one of its parts.
func startServiceApp(t *testing.T, env map[string]string, opts ...fx.Option) (*service, *fxtest.App) {
	t.Helper()
	// A copy: callers may share one map between parallel tests.
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	if env["APP_DATABASE_URL"] == "" {
		env["APP_DATABASE_URL"] = pgtest.NewURL(t)
	}
	cfg := testConfig(t, env)

	core, logs := observer.New(zapcore.DebugLevel)
	output := &lockedBuffer{}
	logger := zap.New(zapcore.NewTee(core,
		zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(output), zapcore.DebugLevel)))
	db, err := openDatabase(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })

	// A failed test shows what the service said, less its chatter.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, e := range logs.FilterLevelExact(zapcore.InfoLevel).All() {
			t.Logf("service log: %s %s %s %v", e.Time.Format("15:04:05.000"), e.LoggerName, e.Message, e.ContextMap())
		}
		for _, e := range logs.Filter(func(e observer.LoggedEntry) bool { return e.Level >= zapcore.WarnLevel }).All() {
			t.Logf("service log: %s %s %s %s %v", e.Time.Format("15:04:05.000"), e.Level, e.LoggerName, e.Message, e.ContextMap())
		}
	})
	l := &listener{}
	var admin *adminListener
	app := fxtest.New(t, serviceOptions(cfg, logger, db, l), fx.Populate(&admin), fx.Options(opts...))
	app.RequireStart()
	addr := l.Addr().String()
	s := &service{t: t, URL: "http://" + addr, Addr: addr, DB: db, Config: cfg, Logs: logs, Output: output}
	if admin.Listener != nil {
		s.AdminURL = "http://" + admin.Addr().String()
	}
	return s, app
}

// client is an HTTP client with its own cookie jar whose every response is checked
// against the OpenAPI document.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (s *service) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: s.t, base: s.URL, http: &http.Client{
		Jar:           jar,
		Transport:     &contractCheck{t: s.t, router: openapiRouter(s.t), next: http.DefaultTransport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a test looks at: status, headers, cookies and the body.
type response struct {
	Status  int
	Header  http.Header
	Cookies []*http.Cookie
	Body    []byte
}

// JSON decodes the body into a generic map, failing the test if it is not an object.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Code is the problem JSON's code member, or "" for other bodies.
func (r response) Code() string {
	var p struct{ Code string }
	_ = json.Unmarshal(r.Body, &p)
	return p.Code
}

// Cookie returns the Set-Cookie of that name, or nil.
func (r response) Cookie(name string) *http.Cookie {
	for _, c := range r.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// do sends a request; a non-nil body that is not a string or []byte is sent as JSON.
func (c *client) do(method, path string, body any, header ...string) response {
	c.t.Helper()
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, contentType = strings.NewReader(b), "application/json"
	case []byte:
		rd, contentType = bytes.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Cookies: resp.Cookies(), Body: data}
}

// contractCheck validates every response against the OpenAPI document: status
// listed for the operation, headers and JSON bodies matching their schemas.
type contractCheck struct {
	t      *testing.T
	router routers.Router
	next   http.RoundTripper
}

func (c *contractCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp, err
	}

	route, params, err := c.router.FindRoute(req)
	if err != nil {
		// Only unknown routes and methods may fall outside the document.
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			c.t.Errorf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
		return resp, nil
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); !strings.HasSuffix(mt, "json") {
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		c.t.Errorf("%s %s → %d breaks the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

func openapiRouter(t *testing.T) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document())
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	doc.Servers = nil // match any host: the test server's port is random
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	return r
}
