package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// shippedConfig is config.toml at the repository root, seen from app/.
const shippedConfig = "../config.toml"

// Secrets good enough for production, for tests that need to get past the
// development-secret check.
const (
	prodJWTSecret = "9f6c1d0e8b7a4c3f2e1d0c9b8a7f6e5d4c3b2a19"
	prodPepper    = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d"
)

// fakeEnv is a lookupEnv over a map, so no test sees the developer's environment.
func fakeEnv(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// loadShipped loads the shipped config.toml with the given overrides.
func loadShipped(t *testing.T, overrides map[string]string) (Config, error) {
	t.Helper()
	vars := map[string]string{"APP_CONFIG": shippedConfig}
	for k, v := range overrides {
		vars[k] = v
	}
	return LoadConfig(fakeEnv(vars))
}

// problemLines is the error's message split into lines, or nil for no error.
func problemLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var cfgErr *ConfigError
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error is %T, not *ConfigError: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

// writeFile writes a config file into a fresh temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readShipped(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestConfigShippedFileLoadsAndValidates(t *testing.T) {
	cfg, err := loadShipped(t, nil)
	if err != nil {
		t.Fatalf("shipped config.toml: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate after LoadConfig: %v", err)
	}

	// The defaults, plus what only the file says.
	want := defaultConfig()
	want.App.Env = "development"
	want.HTTP.Addr = "127.0.0.1:8080"
	want.HTTP.ShutdownDelay = Duration{0}
	want.Database.URL = "postgres://postgres@127.0.0.1:5432/accounts?sslmode=disable"
	want.Database.CreateIfMissing = true
	want.Security.JWTSecret = cfg.Security.JWTSecret
	want.Security.PasswordPepper = cfg.Security.PasswordPepper
	want.Log = LogConfig{Level: "info", Format: "console"}
	want.Events.Broker = "none"
	if cfg != want {
		t.Errorf("shipped config\n got %+v\nwant %+v", cfg, want)
	}
	for name, secret := range map[string]string{
		"jwt_secret":      cfg.Security.JWTSecret,
		"password_pepper": cfg.Security.PasswordPepper,
	} {
		if !strings.Contains(secret, devSecretMarker) || len(secret) < minSecretBytes {
			t.Errorf("%s = %q: want a development-only secret of at least %d bytes", name, secret, minSecretBytes)
		}
	}
}

func TestConfigDefaultsApplyToAbsentKeys(t *testing.T) {
	path := writeFile(t, "minimal.toml", minimalFile)
	cfg, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"http.max_body_bytes", cfg.HTTP.MaxBodyBytes, int64(65536)},
		{"http.request_timeout", cfg.HTTP.RequestTimeout, Duration{10 * time.Second}},
		{"http.shutdown_timeout", cfg.HTTP.ShutdownTimeout, Duration{15 * time.Second}},
		{"http.read_header_timeout", cfg.HTTP.ReadHeaderTimeout, Duration{5 * time.Second}},
		{"database.max_open_conns", cfg.Database.MaxOpenConns, 20},
		{"database.statement_timeout", cfg.Database.StatementTimeout, Duration{10 * time.Second}},
		{"database.idle_in_transaction_timeout", cfg.Database.IdleInTransactionTimeout, Duration{15 * time.Second}},
		{"security.bcrypt_cost", cfg.Security.BcryptCost, 11},
		{"security.hash_concurrency", cfg.Security.HashConcurrency, runtime.NumCPU()},
		{"security.hash_wait", cfg.Security.HashWait, Duration{time.Second}},
		{"session.ttl", cfg.Session.TTL, Duration{30 * time.Minute}},
		{"session.refresh_threshold", cfg.Session.RefreshThreshold, 0.2},
		{"session.max_lifetime", cfg.Session.MaxLifetime, Duration{12 * time.Hour}},
		{"session.purge_interval", cfg.Session.PurgeInterval, Duration{10 * time.Minute}},
		{"session.max_per_user", cfg.Session.MaxPerUser, 10},
		{"cookie.name", cfg.Cookie.Name, "auth_token"},
		// Leaving [ratelimit] out must not turn the login throttle off.
		{"ratelimit.login_per_minute_ip", cfg.RateLimit.LoginPerMinuteIP, 20},
		{"ratelimit.login_per_minute_account", cfg.RateLimit.LoginPerMinuteAccount, 5},
		{"ratelimit.hash_per_minute_ip", cfg.RateLimit.HashPerMinuteIP, 60},
		{"ratelimit.hash_burst_ip", cfg.RateLimit.HashBurstIP, 10},
		{"ratelimit.store", cfg.RateLimit.Store, "postgres"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want default %v", c.key, c.got, c.want)
		}
	}
}

// minimalFile is a config file with only the keys that have no default.
const minimalFile = `
[app]
env = "development"
[http]
addr = ":8080"
[database]
url = "postgres://db/accounts"
[security]
jwt_secret = "` + prodJWTSecret + `"
password_pepper = "` + prodPepper + `"
[log]
level = "warn"
format = "json"
[events]
broker = "none"
`

// An explicit 0 is a value like any other: where zero makes no sense it is refused
// by name, never quietly replaced by the default.
func TestConfigExplicitZeroIsValidatedNotDefaulted(t *testing.T) {
	tests := []struct {
		name, section, line string
		env                 map[string]string
		want                string
	}{
		{"purge interval in the file", "session", `purge_interval = "0s"`, nil, "session.purge_interval: must be greater than zero"},
		{"purge interval in the environment", "", "", map[string]string{"APP_SESSION_PURGE_INTERVAL": "0"}, "session.purge_interval: must be greater than zero"},
		{"hash concurrency in the file", "security", "hash_concurrency = 0", nil, "security.hash_concurrency: must be greater than zero"},
		{"hash concurrency in the environment", "", "", map[string]string{"APP_SECURITY_HASH_CONCURRENCY": "0"}, "security.hash_concurrency: must be greater than zero"},
		{"body limit in the file", "http", "max_body_bytes = 0", nil, "http.max_body_bytes: must be greater than zero"},
		{"body limit in the environment", "", "", map[string]string{"APP_HTTP_MAX_BODY_BYTES": "0"}, "http.max_body_bytes: must be greater than zero"},
		{"event poll interval in the file", "events", `poll_interval = "0s"`, nil, "events.poll_interval: must be greater than zero"},
		{"event retention in the environment", "", "", map[string]string{"APP_EVENTS_RETENTION": "0s"}, "events.retention: must be greater than zero"},
		{"event purge interval in the environment", "", "", map[string]string{"APP_EVENTS_PURGE_INTERVAL": "0s"}, "events.purge_interval: must be greater than zero"},
		{"an empty stream name", "", "", map[string]string{"APP_EVENTS_NATS_STREAM": ""}, "events.nats_stream: must not be empty"},
		{"a __Host- cookie without secure", "", "", map[string]string{"APP_COOKIE_NAME": "__Host-auth"}, "cookie.secure: must be true with a __Host- or __Secure- cookie name"},
		{"a header limit too small for a cookie", "", "", map[string]string{"APP_HTTP_MAX_HEADER_BYTES": "100"}, "http.max_header_bytes: must be at least 2048, room for a session cookie"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := minimalFile
			switch header := "[" + tt.section + "]\n"; {
			case tt.section == "":
			case strings.Contains(content, header):
				content = strings.Replace(content, header, header+tt.line+"\n", 1)
			default:
				content += header + tt.line + "\n"
			}
			vars := map[string]string{"APP_CONFIG": writeFile(t, "zero.toml", content)}
			for k, v := range tt.env {
				vars[k] = v
			}
			_, err := LoadConfig(fakeEnv(vars))
			if got := problemLines(t, err); len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q, want exactly %q", got, tt.want)
			}
		})
	}
}

func TestConfigExplicitZeroTurnsALoginLimitOff(t *testing.T) {
	path := writeFile(t, "off.toml", minimalFile+"[ratelimit]\nlogin_per_minute_ip = 0\n")
	cfg, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.RateLimit; got != (RateLimitConfig{LoginPerMinuteIP: 0, LoginPerMinuteAccount: 5, HashPerMinuteIP: 60, HashBurstIP: 10, Store: "postgres"}) {
		t.Errorf("ratelimit = %+v, want the address limit off and the others at their defaults", got)
	}
}

// With the hashing budget off, its burst means nothing and is not judged; the
// session cap is off at 0 too.
func TestConfigExplicitZeroTurnsTheHashBudgetAndTheSessionCapOff(t *testing.T) {
	cfg, err := loadShipped(t, map[string]string{
		"APP_RATELIMIT_HASH_PER_MINUTE_IP": "0", "APP_RATELIMIT_HASH_BURST_IP": "0", "APP_SESSION_MAX_PER_USER": "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimit.HashPerMinuteIP != 0 || cfg.Session.MaxPerUser != 0 {
		t.Errorf("hash_per_minute_ip = %d, max_per_user = %d; want both off", cfg.RateLimit.HashPerMinuteIP, cfg.Session.MaxPerUser)
	}
}

func TestConfigExplicitZeroTurnsADatabaseTimeoutOff(t *testing.T) {
	path := writeFile(t, "off.toml", minimalFile)
	cfg, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path,
		"APP_DATABASE_STATEMENT_TIMEOUT": "0s", "APP_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "0s"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := databaseConfig(cfg); got.StatementTimeout != 0 || got.IdleInTransactionTimeout != 0 {
		t.Errorf("database timeouts = %v, %v; want both off", got.StatementTimeout, got.IdleInTransactionTimeout)
	}
}

func TestConfigEnvOverridesEachType(t *testing.T) {
	tests := []struct {
		name, env, value string
		got              func(Config) any
		want             any
	}{
		{"string", "APP_DATABASE_URL", "postgres://other:5432/x", func(c Config) any { return c.Database.URL }, "postgres://other:5432/x"},
		{"int", "APP_SECURITY_BCRYPT_COST", "4", func(c Config) any { return c.Security.BcryptCost }, 4},
		{"int64", "APP_HTTP_MAX_BODY_BYTES", "1048576", func(c Config) any { return c.HTTP.MaxBodyBytes }, int64(1 << 20)},
		{"bool true", "APP_COOKIE_SECURE", "true", func(c Config) any { return c.Cookie.Secure }, true},
		{"bool false", "APP_DATABASE_CREATE_IF_MISSING", "false", func(c Config) any { return c.Database.CreateIfMissing }, false},
		{"float", "APP_SESSION_REFRESH_THRESHOLD", "0.5", func(c Config) any { return c.Session.RefreshThreshold }, 0.5},
		{"duration", "APP_SESSION_TTL", "45m", func(c Config) any { return c.Session.TTL }, Duration{45 * time.Minute}},
		{"duration with units mixed", "APP_HTTP_REQUEST_TIMEOUT", "1m30s", func(c Config) any { return c.HTTP.RequestTimeout }, Duration{90 * time.Second}},
		{"zero turns a limit off", "APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT", "0", func(c Config) any { return c.RateLimit.LoginPerMinuteAccount }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadShipped(t, map[string]string{tt.env: tt.value})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); got != tt.want {
				t.Errorf("%s=%s: got %v, want %v", tt.env, tt.value, got, tt.want)
			}
		})
	}
}

// Every key, present and future, must be reachable through its environment variable:
// this walks the struct like LoadConfig does, so a key of a type the overrides cannot
// parse fails here rather than in production.
func TestConfigEveryKeyHasAnOverride(t *testing.T) {
	samples := map[reflect.Type]string{
		reflect.TypeFor[string]():   "x",
		reflect.TypeFor[bool]():     "true",
		reflect.TypeFor[int]():      "7",
		reflect.TypeFor[int64]():    "7",
		reflect.TypeFor[float64]():  "0.5",
		reflect.TypeFor[Duration](): "7m",
	}
	var probe Config
	for _, s := range probe.settings() {
		t.Run(s.key, func(t *testing.T) {
			wantEnv := "APP_" + strings.ToUpper(strings.ReplaceAll(s.key, ".", "_"))
			if s.env != wantEnv {
				t.Fatalf("override is %s, want %s", s.env, wantEnv)
			}
			sample, ok := samples[s.value.Type()]
			if !ok {
				t.Fatalf("no sample for type %s: teach setFromString and this test about it", s.value.Type())
			}
			var cfg Config
			if problems := cfg.applyEnv(fakeEnv(map[string]string{s.env: sample})); problems != nil {
				t.Fatalf("%s=%s: %v", s.env, sample, problems)
			}
			changed := false
			for _, after := range cfg.settings() {
				if after.key == s.key {
					changed = !after.value.IsZero()
				}
			}
			if !changed {
				t.Errorf("%s=%s left %s unset", s.env, sample, s.key)
			}
		})
	}
}

func TestConfigBadEnvValueIsANamedProblem(t *testing.T) {
	tests := []struct {
		env, value, want string
	}{
		{"APP_SESSION_TTL", "abc", `session.ttl: APP_SESSION_TTL: "abc" is not a duration such as 30m or 2s`},
		{"APP_SESSION_TTL", "30", `session.ttl: APP_SESSION_TTL: "30" is not a duration such as 30m or 2s`},
		{"APP_SECURITY_BCRYPT_COST", "eleven", `security.bcrypt_cost: APP_SECURITY_BCRYPT_COST: "eleven" is not a whole number`},
		{"APP_HTTP_MAX_BODY_BYTES", "1.5", `http.max_body_bytes: APP_HTTP_MAX_BODY_BYTES: "1.5" is not a whole number`},
		{"APP_COOKIE_SECURE", "maybe", `cookie.secure: APP_COOKIE_SECURE: "maybe" is not true or false`},
		{"APP_SESSION_REFRESH_THRESHOLD", "a fifth", `session.refresh_threshold: APP_SESSION_REFRESH_THRESHOLD: "a fifth" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			_, err := loadShipped(t, map[string]string{tt.env: tt.value})
			got := problemLines(t, err)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q, want exactly %q", got, tt.want)
			}
		})
	}
}

// Each rule is broken alone on top of the shipped config, so each case proves both
// that the rule fires and that its line names the key.
func TestConfigEveryRuleReportsItsKey(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown env", map[string]string{"APP_APP_ENV": "staging"}, `app.env: must be one of development, production (got "staging")`},
		{"empty env", map[string]string{"APP_APP_ENV": ""}, `app.env: must be one of development, production (got "")`},
		{"addr without port", map[string]string{"APP_HTTP_ADDR": "localhost"}, "http.addr: must be host:port with a numeric port, such as 127.0.0.1:8080"},
		{"addr with named port", map[string]string{"APP_HTTP_ADDR": "localhost:http"}, "http.addr: must be host:port with a numeric port, such as 127.0.0.1:8080"},
		{"addr with port out of range", map[string]string{"APP_HTTP_ADDR": ":65536"}, "http.addr: must be host:port with a numeric port, such as 127.0.0.1:8080"},
		{"admin addr without port", map[string]string{"APP_ADMIN_ADDR": "localhost"}, "admin.addr: must be empty (off) or host:port with a numeric port, such as 127.0.0.1:9090"},
		{"admin on the API's port", map[string]string{"APP_HTTP_ADDR": "127.0.0.1:8080", "APP_ADMIN_ADDR": "127.0.0.1:8080"}, "admin.addr: must differ from http.addr: the metrics must not be served on the API's port"},
		{"profiles without the admin listener", map[string]string{"APP_ADMIN_ADDR": "", "APP_ADMIN_PPROF": "true"}, "admin.pprof: needs admin.addr: the profiles are served on the admin listener"},
		{"negative body limit", map[string]string{"APP_HTTP_MAX_BODY_BYTES": "-1"}, "http.max_body_bytes: must be greater than zero"},
		{"negative request timeout", map[string]string{"APP_HTTP_REQUEST_TIMEOUT": "-1s"}, "http.request_timeout: must be greater than zero"},
		{"negative shutdown timeout", map[string]string{"APP_HTTP_SHUTDOWN_TIMEOUT": "-1s"}, "http.shutdown_timeout: must be greater than zero"},
		{"negative read header timeout", map[string]string{"APP_HTTP_READ_HEADER_TIMEOUT": "-1s"}, "http.read_header_timeout: must be greater than zero"},
		{"proxy by name", map[string]string{"APP_HTTP_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}, `http.trusted_proxies: "proxy.internal" is neither an address nor a CIDR range`},
		{"proxy range out of bounds", map[string]string{"APP_HTTP_TRUSTED_PROXIES": "10.0.0.0/33"}, `http.trusted_proxies: "10.0.0.0/33" is neither an address nor a CIDR range`},
		{"missing database url", map[string]string{"APP_DATABASE_URL": ""}, "database.url: is required"},
		{"database url of another kind", map[string]string{"APP_DATABASE_URL": "mysql://root:pw@db/x"}, "database.url: must be a URL starting with postgres:// or postgresql://"},
		{"negative pool size", map[string]string{"APP_DATABASE_MAX_OPEN_CONNS": "-1"}, "database.max_open_conns: must be greater than zero"},
		{"statement timeout too short", map[string]string{"APP_DATABASE_STATEMENT_TIMEOUT": "500ms"}, "database.statement_timeout: must be 0 (off) or at least 1s"},
		{"idle transaction timeout below the broker's", map[string]string{"APP_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "7s"},
			"database.idle_in_transaction_timeout: must be 0 (off) or longer than 7s: events are published to the broker inside a transaction"},
		{"short jwt secret", map[string]string{"APP_SECURITY_JWT_SECRET": strings.Repeat("s", 31)}, "security.jwt_secret: must be at least 32 bytes"},
		{"short pepper", map[string]string{"APP_SECURITY_PASSWORD_PEPPER": "pepper"}, "security.password_pepper: must be at least 32 bytes"},
		{"bcrypt cost too low", map[string]string{"APP_SECURITY_BCRYPT_COST": "3"}, "security.bcrypt_cost: must be from 4 to 31"},
		{"bcrypt cost too high", map[string]string{"APP_SECURITY_BCRYPT_COST": "32"}, "security.bcrypt_cost: must be from 4 to 31"},
		{"negative hash concurrency", map[string]string{"APP_SECURITY_HASH_CONCURRENCY": "-2"}, "security.hash_concurrency: must be greater than zero"},
		{"negative hash wait", map[string]string{"APP_SECURITY_HASH_WAIT": "-1ms"}, "security.hash_wait: must be greater than zero"},
		{"negative ttl", map[string]string{"APP_SESSION_TTL": "-30m"}, "session.ttl: must be greater than zero"},
		{"threshold of 1", map[string]string{"APP_SESSION_REFRESH_THRESHOLD": "1"}, "session.refresh_threshold: must be greater than 0 and less than 1"},
		{"negative threshold", map[string]string{"APP_SESSION_REFRESH_THRESHOLD": "-0.2"}, "session.refresh_threshold: must be greater than 0 and less than 1"},
		{"lifetime shorter than ttl", map[string]string{"APP_SESSION_MAX_LIFETIME": "29m"}, "session.max_lifetime: must be at least session.ttl"},
		{"negative purge interval", map[string]string{"APP_SESSION_PURGE_INTERVAL": "-10m"}, "session.purge_interval: must be greater than zero"},
		{"negative session cap", map[string]string{"APP_SESSION_MAX_PER_USER": "-1"}, "session.max_per_user: must be zero (no cap) or more"},
		{"cookie name with a space", map[string]string{"APP_COOKIE_NAME": "auth token"}, "cookie.name: must be a cookie name: letters, digits and !#$%&'*+-.^_`|~ only"},
		{"cookie name with a separator", map[string]string{"APP_COOKIE_NAME": "auth;x"}, "cookie.name: must be a cookie name: letters, digits and !#$%&'*+-.^_`|~ only"},
		{"insecure cookie in production", map[string]string{
			"APP_APP_ENV":                  "production",
			"APP_SECURITY_JWT_SECRET":      prodJWTSecret,
			"APP_SECURITY_PASSWORD_PEPPER": prodPepper,
		}, "cookie.secure: must be true in production"},
		{"unknown log level", map[string]string{"APP_LOG_LEVEL": "trace"}, `log.level: must be one of debug, info, warn, error (got "trace")`},
		{"unknown log format", map[string]string{"APP_LOG_FORMAT": "xml"}, `log.format: must be one of json, console (got "xml")`},
		{"unknown broker", map[string]string{"APP_EVENTS_BROKER": "kafka"}, `events.broker: must be one of none, nats, amqp (got "kafka")`},
		{"nats without url", map[string]string{"APP_EVENTS_BROKER": "nats"}, "events.nats_url: is required"},
		{"nats with another url", map[string]string{"APP_EVENTS_BROKER": "nats", "APP_EVENTS_NATS_URL": "http://nats:4222"}, "events.nats_url: must be a URL starting with nats:// or tls://"},
		{"amqp without url", map[string]string{"APP_EVENTS_BROKER": "amqp"}, "events.amqp_url: is required"},
		{"amqp with another url", map[string]string{"APP_EVENTS_BROKER": "amqp", "APP_EVENTS_AMQP_URL": "rabbit:5672"}, "events.amqp_url: must be a URL starting with amqp:// or amqps://"},
		{"negative ip limit", map[string]string{"APP_RATELIMIT_LOGIN_PER_MINUTE_IP": "-1"}, "ratelimit.login_per_minute_ip: must be zero (off) or more"},
		{"negative account limit", map[string]string{"APP_RATELIMIT_LOGIN_PER_MINUTE_ACCOUNT": "-5"}, "ratelimit.login_per_minute_account: must be zero (off) or more"},
		{"negative hash budget", map[string]string{"APP_RATELIMIT_HASH_PER_MINUTE_IP": "-60"}, "ratelimit.hash_per_minute_ip: must be zero (off) or more"},
		{"limits kept in redis", map[string]string{"APP_RATELIMIT_STORE": "redis"}, `ratelimit.store: must be one of postgres, memory (got "redis")`},
		{"hash burst too small for a password change", map[string]string{"APP_RATELIMIT_HASH_BURST_IP": "1"},
			"ratelimit.hash_burst_ip: must be at least 2, the hashes of a password change, while ratelimit.hash_per_minute_ip is on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadShipped(t, tt.env)
			got := problemLines(t, err)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("got %q, want exactly %q", got, tt.want)
			}
		})
	}
}

func TestConfigBrokerURLsAccepted(t *testing.T) {
	for _, env := range []map[string]string{
		{"APP_EVENTS_BROKER": "nats", "APP_EVENTS_NATS_URL": "nats://127.0.0.1:4222"},
		{"APP_EVENTS_BROKER": "amqp", "APP_EVENTS_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/"},
		{"APP_DATABASE_URL": "postgresql:///accounts?host=/var/run/postgresql"},
	} {
		if _, err := loadShipped(t, env); err != nil {
			t.Errorf("%v: %v", env, err)
		}
	}
}

func TestConfigProductionRefusesDevelopmentSecrets(t *testing.T) {
	_, err := loadShipped(t, map[string]string{
		"APP_APP_ENV":       "production",
		"APP_COOKIE_SECURE": "true",
	})
	want := []string{
		"security.jwt_secret: the development secret cannot be used in production",
		"security.password_pepper: the development secret cannot be used in production",
	}
	if got := problemLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	// Edited copies are refused too: the marker, not the exact value, gives them away.
	_, err = loadShipped(t, map[string]string{
		"APP_APP_ENV":                  "production",
		"APP_COOKIE_SECURE":            "true",
		"APP_SECURITY_JWT_SECRET":      "my-own-dev-only-change-me-secret-123456",
		"APP_SECURITY_PASSWORD_PEPPER": prodPepper,
	})
	if got := problemLines(t, err); len(got) != 1 || got[0] != want[0] {
		t.Errorf("edited dev secret: got %q, want %q", got, want[:1])
	}

	if _, err := loadShipped(t, map[string]string{
		"APP_APP_ENV":                  "production",
		"APP_COOKIE_SECURE":            "true",
		"APP_SECURITY_JWT_SECRET":      prodJWTSecret,
		"APP_SECURITY_PASSWORD_PEPPER": prodPepper,
	}); err != nil {
		t.Errorf("production with real secrets: %v", err)
	}
}

func TestConfigReportsEveryProblemAtOnce(t *testing.T) {
	_, err := loadShipped(t, map[string]string{
		"APP_APP_ENV":              "production",
		"APP_HTTP_ADDR":            "nowhere",
		"APP_SESSION_TTL":          "abc",
		"APP_SESSION_MAX_LIFETIME": "1m",
		"APP_SECURITY_BCRYPT_COST": "99",
		"APP_LOG_FORMAT":           "text",
	})
	// Env problems come first, then validation in file order; the bad ttl is not
	// judged again, but max_lifetime is checked against the file's ttl.
	want := []string{
		`session.ttl: APP_SESSION_TTL: "abc" is not a duration such as 30m or 2s`,
		"http.addr: must be host:port with a numeric port, such as 127.0.0.1:8080",
		"security.jwt_secret: the development secret cannot be used in production",
		"security.password_pepper: the development secret cannot be used in production",
		"security.bcrypt_cost: must be from 4 to 31",
		"session.max_lifetime: must be at least session.ttl",
		"cookie.secure: must be true in production",
		`log.format: must be one of json, console (got "text")`,
	}
	if got := problemLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigValidateRequiresKeysWithoutDefaults(t *testing.T) {
	cfg := defaultConfig()
	var keys []string
	var cfgErr *ConfigError
	if err := cfg.Validate(); !errors.As(err, &cfgErr) {
		t.Fatalf("Validate of an empty config: %v", err)
	}
	for _, p := range cfgErr.Problems {
		keys = append(keys, p.Key)
	}
	want := []string{
		"app.env", "http.addr", "database.url", "security.jwt_secret",
		"security.password_pepper", "log.level", "log.format", "events.broker",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("problems for %q, want %q", keys, want)
	}
}

func TestConfigUnknownKeysInFileRejected(t *testing.T) {
	content := strings.Replace(readShipped(t), `ttl = "30m"`, `ttl = "30m"`+"\nttl_idle = \"5m\"", 1) +
		"\n[metrics]\nenabled = true\n"
	path := writeFile(t, "typo.toml", content)

	_, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path}))
	got := problemLines(t, err)
	if len(got) != 2 ||
		!strings.HasPrefix(got[0], "session.ttl_idle: unknown key ("+path+" line ") ||
		!strings.HasPrefix(got[1], "metrics: unknown key ("+path+" line ") {
		t.Errorf("got %q, want session.ttl_idle and metrics reported as unknown keys", got)
	}
}

func TestConfigBadValueInFileNamesKeyAndLine(t *testing.T) {
	path := writeFile(t, "bad.toml", "[session]\nttl = \"half an hour\"\n")
	_, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path}))
	want := fmt.Sprintf(`session.ttl: "half an hour" is not a duration such as 30m or 2s (%s line 2)`, path)
	if got := problemLines(t, err); len(got) != 1 || got[0] != want {
		t.Errorf("got %q, want %q", got, want)
	}

	path = writeFile(t, "syntax.toml", "[session\n")
	if _, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path})); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("broken TOML: got %v, want an error naming %s", err, path)
	}
}

func TestConfigFileSelection(t *testing.T) {
	other := strings.Replace(readShipped(t), `addr = "127.0.0.1:8080"`, `addr = "127.0.0.1:9999"`, 1)

	t.Run("APP_CONFIG names the file", func(t *testing.T) {
		path := writeFile(t, "other.toml", other)
		cfg, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": path}))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.HTTP.Addr != "127.0.0.1:9999" {
			t.Errorf("addr = %q, want the one from %s", cfg.HTTP.Addr, path)
		}
	})

	t.Run("config.toml in the working directory otherwise", func(t *testing.T) {
		t.Chdir(filepath.Dir(writeFile(t, "config.toml", other)))
		cfg, err := LoadConfig(fakeEnv(nil))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.HTTP.Addr != "127.0.0.1:9999" {
			t.Errorf("addr = %q, want the one from ./config.toml", cfg.HTTP.Addr)
		}
	})

	t.Run("a missing file is an error", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "absent.toml")
		_, err := LoadConfig(fakeEnv(map[string]string{"APP_CONFIG": missing}))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error", err)
		}
	})
}

func TestConfigRedactedHidesSecrets(t *testing.T) {
	cfg, err := loadShipped(t, map[string]string{
		"APP_DATABASE_URL":    "postgres://app:db-password@db:5432/accounts?sslmode=require&password=query-password",
		"APP_EVENTS_BROKER":   "amqp",
		"APP_EVENTS_AMQP_URL": "amqp://guest:amqp-password@rabbit:5672/",
		"APP_EVENTS_NATS_URL": "nats://user:nats-password@nats:4222",
	})
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		cfg.Security.JWTSecret, cfg.Security.PasswordPepper,
		"db-password", "query-password", "amqp-password", "nats-password",
	}

	r := cfg.Redacted()
	if r.Security.JWTSecret != "[redacted]" || r.Security.PasswordPepper != "[redacted]" {
		t.Errorf("secrets: got %q and %q, want [redacted]", r.Security.JWTSecret, r.Security.PasswordPepper)
	}
	if want := "postgres://app:xxxxx@db:5432/accounts?password=xxxxx&sslmode=require"; r.Database.URL != want {
		t.Errorf("database.url = %q, want %q", r.Database.URL, want)
	}
	if cfg.Database.URL == r.Database.URL || cfg.Security.JWTSecret == "[redacted]" {
		t.Error("Redacted changed the original config")
	}

	for _, rendered := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", r)} {
		for _, secret := range secrets {
			if strings.Contains(rendered, secret) {
				t.Errorf("%q leaks in %s", secret, rendered)
			}
		}
	}
	for _, want := range []string{
		`security.jwt_secret="[redacted]"`,
		`events.amqp_url="amqp://guest:xxxxx@rabbit:5672/"`,
		"session.ttl=30m0s",
		"session.refresh_threshold=0.2",
		"cookie.secure=false",
	} {
		if !strings.Contains(cfg.String(), want) {
			t.Errorf("String() lacks %s: %s", want, cfg.String())
		}
	}
}

func TestConfigRedactedHidesUnparsableURLs(t *testing.T) {
	if got := redactURL("postgres://u:p@host:port-is-not-a-number/db"); got != "[redacted]" {
		t.Errorf("got %q, want the whole value redacted", got)
	}
	if got := redactURL(""); got != "" {
		t.Errorf("empty URL became %q", got)
	}
}

func TestStrayEnvironmentVariables(t *testing.T) {
	environ := []string{
		"APP_SESSION_TTL=15m",              // a setting
		"APP_SESSION_TIMEOUT=5m",           // a typo of one
		"APP_CONFIG=/etc/accounts.toml",    // read, not a setting
		"APP_SUPERADMIN_PASSWORD=secret",   // read, not a setting
		"APP_RATELIMIT_LOGIN_PER_MINUTE=3", // half a name
		"HOME=/root",
		"APPLICATION=x",
		"APP_DATABASE_URL=postgres://db/x",
	}
	got := strayEnv(environ)
	if want := []string{"APP_RATELIMIT_LOGIN_PER_MINUTE", "APP_SESSION_TIMEOUT"}; !slices.Equal(got, want) {
		t.Errorf("stray = %v, want %v", got, want)
	}
}

// The README's table of keys is what operators read; its "default" column must say
// what the code does when a key is left out.
func TestConfigREADMETableMatchesDefaults(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := make(map[string]string) // key → default cell
	for line := range strings.Lines(string(data)) {
		cells := strings.Split(line, " | ")
		if len(cells) < 3 || !strings.HasPrefix(cells[0], "| `") {
			continue
		}
		rows[strings.Trim(cells[0], "| `")] = cells[1]
	}

	defaults := defaultConfig()
	for _, s := range defaults.settings() {
		cell, ok := rows[s.key]
		if !ok {
			t.Errorf("%s: no row in the README's configuration table", s.key)
			continue
		}
		switch {
		case strings.HasPrefix(cell, "required"):
			if !s.value.IsZero() {
				t.Errorf("%s: README says required, but the default is %v", s.key, s.value.Interface())
			}
		case cell == "empty":
			if !s.value.IsZero() {
				t.Errorf("%s: README says empty, but the default is %v", s.key, s.value.Interface())
			}
		case cell == "number of CPUs":
			if got := s.value.Interface(); got != runtime.NumCPU() {
				t.Errorf("%s: README says the number of CPUs, but the default is %v", s.key, got)
			}
		default:
			want := reflect.New(s.value.Type()).Elem()
			if !strings.HasPrefix(cell, "`") || !strings.HasSuffix(cell, "`") {
				t.Errorf("%s: default %q is neither required nor a `value`", s.key, cell)
				continue
			}
			if err := setFromString(want, strings.Trim(cell, "`")); err != nil {
				t.Errorf("%s: README default %s: %v", s.key, cell, err)
				continue
			}
			if !want.Equal(s.value) {
				t.Errorf("%s: README says %s, but the default is %v", s.key, cell, s.value.Interface())
			}
		}
	}
}

func TestConfigTrustedProxies(t *testing.T) {
	cfg := HTTPConfig{TrustedProxies: " 10.1.2.3/8, 192.0.2.1,2001:db8::/32 ,::ffff:198.51.100.7, "}
	got, err := cfg.trustedProxies()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("198.51.100.7/32"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("trusted proxies %v, want %v", got, want)
	}
	if none, err := (HTTPConfig{}).trustedProxies(); err != nil || len(none) != 0 {
		t.Errorf("empty setting: %v, %v; want none", none, err)
	}
}
