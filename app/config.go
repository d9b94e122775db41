package main

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/example/accounts/adapters/broker"
)

// Config is the whole configuration: one field per section of config.toml. Every key
// can be overridden by an environment variable APP_<SECTION>_<KEY>, derived from the
// toml tags, so a key added here is overridable without further code.
//
// Fields tagged `redact:"value"` are secrets and `redact:"url"` are URLs that may
// carry a password; Redacted and String hide them.
type Config struct {
	App       AppConfig       `toml:"app"`
	HTTP      HTTPConfig      `toml:"http"`
	Admin     AdminConfig     `toml:"admin"`
	Database  DatabaseConfig  `toml:"database"`
	Security  SecurityConfig  `toml:"security"`
	Session   SessionConfig   `toml:"session"`
	Cookie    CookieConfig    `toml:"cookie"`
	Log       LogConfig       `toml:"log"`
	Events    EventsConfig    `toml:"events"`
	RateLimit RateLimitConfig `toml:"ratelimit"`
	Tracing   TracingConfig   `toml:"tracing"`
}

// AppConfig is [app].
type AppConfig struct {
	// Env is "development" or "production"; production refuses the shipped
	// development secrets and insecure cookies.
	Env string `toml:"env"`
}

// HTTPConfig is [http].
type HTTPConfig struct {
	Addr         string `toml:"addr"`
	MaxBodyBytes int64  `toml:"max_body_bytes"`
	// RequestTimeout bounds one request's round trip over the bus.
	RequestTimeout    Duration `toml:"request_timeout"`
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	// MaxHeaderBytes bounds a request's header block, and MaxConnections the
	// connections served at once: together they bound the memory clients that
	// never finish their headers can take.
	MaxHeaderBytes int `toml:"max_header_bytes"`
	MaxConnections int `toml:"max_connections"`
	// IdleTimeout closes a kept-alive connection that sends nothing more.
	IdleTimeout Duration `toml:"idle_timeout"`
	// ShutdownDelay is how long, after SIGTERM, the service still takes requests
	// while /readyz answers 503, so that a load balancer stops sending new ones
	// before the server stops listening.
	ShutdownDelay Duration `toml:"shutdown_delay"`
	// TrustedProxies lists, comma-separated, the addresses or CIDR ranges of the
	// reverse proxies whose X-Forwarded-For names the client; empty trusts none.
	TrustedProxies string `toml:"trusted_proxies"`
}

// AdminConfig is [admin]: the operators' listener, apart from the API so that the
// public port never exposes what it serves.
type AdminConfig struct {
	// Addr serves /metrics (Prometheus); empty turns the listener, and the
	// metrics with it, off.
	Addr string `toml:"addr"`
	// Pprof adds Go's profiles at /debug/pprof/ to the listener: CPU, heap,
	// goroutines, for finding out why an instance is slow or big.
	Pprof bool `toml:"pprof"`
}

// trustedProxies parses [http] trusted_proxies; a single address is a range of one.
func (c HTTPConfig) trustedProxies() ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for entry := range strings.SplitSeq(c.TrustedProxies, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if a, err := netip.ParseAddr(entry); err == nil {
			prefixes = append(prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range", entry)
		}
		prefixes = append(prefixes, p.Masked())
	}
	return prefixes, nil
}

// DatabaseConfig is [database].
type DatabaseConfig struct {
	URL             string `toml:"url" redact:"url"`
	CreateIfMissing bool   `toml:"create_if_missing"`
	MaxOpenConns    int    `toml:"max_open_conns"`
	// StatementTimeout and IdleInTransactionTimeout are the server's own bounds on
	// the service's connections (postgres.Config says why); 0 turns one off.
	StatementTimeout         Duration `toml:"statement_timeout"`
	IdleInTransactionTimeout Duration `toml:"idle_in_transaction_timeout"`
}

// SecurityConfig is [security].
type SecurityConfig struct {
	JWTSecret      string `toml:"jwt_secret" redact:"value"`
	PasswordPepper string `toml:"password_pepper" redact:"value"`
	BcryptCost     int    `toml:"bcrypt_cost"`
	// HashConcurrency caps simultaneous bcrypt computations so a burst of logins
	// cannot take every CPU; HashWait is how long a request waits for a slot
	// before it is answered 503.
	HashConcurrency int      `toml:"hash_concurrency"`
	HashWait        Duration `toml:"hash_wait"`
}

// SessionConfig is [session].
type SessionConfig struct {
	TTL              Duration `toml:"ttl"`
	RefreshThreshold float64  `toml:"refresh_threshold"`
	MaxLifetime      Duration `toml:"max_lifetime"`
	// PurgeInterval is how often expired session rows are deleted.
	PurgeInterval Duration `toml:"purge_interval"`
	// MaxPerUser caps the sessions one user holds at once; a login beyond it ends
	// the oldest. Zero sets no cap.
	MaxPerUser int `toml:"max_per_user"`
}

// CookieConfig is [cookie].
type CookieConfig struct {
	Name   string `toml:"name"`
	Secure bool   `toml:"secure"`
}

// LogConfig is [log].
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// EventsConfig is [events].
type EventsConfig struct {
	Broker  string `toml:"broker"`
	NATSURL string `toml:"nats_url" redact:"url"`
	AMQPURL string `toml:"amqp_url" redact:"url"`
	// The destinations other services subscribe to. The contract names the
	// defaults; other names are for tests and brokers shared between deployments.
	NATSStream   string `toml:"nats_stream"`
	NATSSubject  string `toml:"nats_subject"`
	AMQPExchange string `toml:"amqp_exchange"`
	// PollInterval is how often each consumer group looks for new events in the
	// outbox; Retention how long delivered events are kept, and PurgeInterval how
	// often older ones are deleted.
	PollInterval  Duration `toml:"poll_interval"`
	Retention     Duration `toml:"retention"`
	PurgeInterval Duration `toml:"purge_interval"`
}

// RateLimitConfig is [ratelimit]. Zero turns a limit off.
type RateLimitConfig struct {
	LoginPerMinuteIP      int `toml:"login_per_minute_ip"`
	LoginPerMinuteAccount int `toml:"login_per_minute_account"`
	// HashPerMinuteIP is each client address's share of password hashing, right
	// passwords and wrong ones, and HashBurstIP how many of those hashes it may
	// have at once.
	HashPerMinuteIP int `toml:"hash_per_minute_ip"`
	HashBurstIP     int `toml:"hash_burst_ip"`
	// Store is where the limits are counted: "postgres", shared by every instance,
	// or "memory", per process.
	Store string `toml:"store"`
}

// TracingConfig is [tracing]. Where spans go, and how many, is for the standard
// OTEL_* environment variables (docs/tracing.md).
type TracingConfig struct {
	// Enabled turns OpenTelemetry tracing on; off, nothing is traced or exported.
	Enabled bool `toml:"enabled"`
}

// The values of [ratelimit] store.
const (
	limitsInPostgres = "postgres"
	limitsInMemory   = "memory"
)

// minHashBurst is the most one request hashes: a password change checks the current
// password and hashes the new one.
const minHashBurst = 2

// Duration is a time.Duration written in Go syntax ("30m", "2s"), in the file and in
// the environment alike. TOML has no duration type, and a bare number would leave the
// unit to guesswork.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30m or 2s", text)
	}
	d.Duration = v
	return nil
}

const (
	// configFileEnv names the variable that points at another config file.
	configFileEnv     = "APP_CONFIG"
	defaultConfigFile = "config.toml"
	envPrefix         = "APP"

	// devSecretMarker is part of both secrets shipped in config.toml. Refusing any
	// secret that contains it, rather than the exact shipped values, also catches a
	// development secret that someone edited a little.
	devSecretMarker = "dev-only-change-me"

	minSecretBytes = 32
	// minHeaderBytes leaves room for a session cookie (about 200 bytes) and the
	// headers of any browser, several times over.
	minHeaderBytes = 2048
	redacted       = "[redacted]"
)

// LoadConfig starts from the defaults, decodes the config file (APP_CONFIG, else
// config.toml in the working directory) onto them, applies APP_<SECTION>_<KEY>
// overrides from lookupEnv and validates the result. lookupEnv is a parameter so
// tests never see the developer's environment; pass os.LookupEnv.
//
// Every problem found is reported at once, one per line, as a *ConfigError, so an
// operator fixes them all in one go rather than one restart at a time.
func LoadConfig(lookupEnv func(string) (string, bool)) (Config, error) {
	path, ok := lookupEnv(configFileEnv)
	if !ok || path == "" {
		path = defaultConfigFile
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading the config file: %w", err)
	}

	cfg := defaultConfig()
	problems, err := decodeConfig(path, data, &cfg)
	if err != nil {
		return Config{}, err
	}
	envProblems := cfg.applyEnv(lookupEnv)
	problems = append(problems, envProblems...)

	// A key whose override could not be read still holds the file's value;
	// judging that value as well would only add noise.
	badEnv := make(map[string]bool, len(envProblems))
	for _, p := range envProblems {
		badEnv[p.Key] = true
	}
	for _, p := range cfg.problems() {
		if !badEnv[p.Key] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	return cfg, nil
}

// decodeConfig decodes the file strictly. Unknown keys (usually typos, which would
// otherwise silently leave a default in place) become problems and decoding goes on;
// any other error stops it, since the values read so far cannot be trusted.
func decodeConfig(path string, data []byte, cfg *Config) ([]Problem, error) {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(cfg)
	if err == nil {
		return nil, nil
	}

	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		problems := make([]Problem, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			line, _ := e.Position()
			problems = append(problems, Problem{
				Key:     strings.Join(e.Key(), "."),
				Message: fmt.Sprintf("unknown key (%s line %d)", path, line),
			})
		}
		return problems, nil
	}

	var decodeErr *toml.DecodeError
	if errors.As(err, &decodeErr) && len(decodeErr.Key()) > 0 {
		line, _ := decodeErr.Position()
		return nil, &ConfigError{Problems: []Problem{{
			Key:     strings.Join(decodeErr.Key(), "."),
			Message: fmt.Sprintf("%s (%s line %d)", strings.TrimPrefix(decodeErr.Error(), "toml: "), path, line),
		}}}
	}
	return nil, fmt.Errorf("reading %s: %w", path, err)
}

// applyEnv overrides every key whose APP_<SECTION>_<KEY> variable is set. A value
// that does not parse is a problem named after its key, like any other.
func (c *Config) applyEnv(lookupEnv func(string) (string, bool)) []Problem {
	var problems []Problem
	for _, s := range c.settings() {
		raw, ok := lookupEnv(s.env)
		if !ok {
			continue
		}
		if err := setFromString(s.value, raw); err != nil {
			problems = append(problems, Problem{Key: s.key, Message: fmt.Sprintf("%s: %v", s.env, err)})
		}
	}
	return problems
}

// setFromString parses raw into v according to v's type.
func setFromString(v reflect.Value, raw string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(raw))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", raw)
		}
		v.SetFloat(f)
	default:
		// Only a new key of a new type gets here, and the tests load every key.
		panic(fmt.Sprintf("config: no environment parser for type %s", v.Type()))
	}
	return nil
}

// defaultConfig is where loading starts: every key with a sensible default holds it,
// and the file and then the environment are decoded on top. A key absent from both
// keeps its default, while one that is given, zero included, is taken as given and
// judged by Validate: "0 means default" would turn an explicit 0 into something else
// without a word, and a section left out would leave its keys at a zero that means
// something (0 turns a login limit off). Keys without a sensible default stay empty
// here, so Validate asks for them.
func defaultConfig() Config {
	return Config{
		HTTP: HTTPConfig{
			MaxBodyBytes:      64 << 10,
			RequestTimeout:    Duration{10 * time.Second},
			ShutdownTimeout:   Duration{15 * time.Second},
			ReadHeaderTimeout: Duration{5 * time.Second},
			MaxHeaderBytes:    8 << 10,
			MaxConnections:    1024,
			IdleTimeout:       Duration{2 * time.Minute},
			ShutdownDelay:     Duration{5 * time.Second},
		},
		Admin: AdminConfig{Addr: "127.0.0.1:9090"},
		Database: DatabaseConfig{
			MaxOpenConns:             20,
			StatementTimeout:         Duration{10 * time.Second},
			IdleInTransactionTimeout: Duration{15 * time.Second},
		},
		Security: SecurityConfig{
			BcryptCost:      11,
			HashConcurrency: runtime.NumCPU(),
			HashWait:        Duration{time.Second},
		},
		Session: SessionConfig{
			TTL:              Duration{30 * time.Minute},
			RefreshThreshold: 0.2,
			MaxLifetime:      Duration{12 * time.Hour},
			PurgeInterval:    Duration{10 * time.Minute},
			MaxPerUser:       10,
		},
		Cookie: CookieConfig{Name: "auth_token"},
		Events: EventsConfig{
			NATSStream:    broker.DefaultStream,
			NATSSubject:   broker.DefaultSubject,
			AMQPExchange:  broker.DefaultExchange,
			PollInterval:  Duration{250 * time.Millisecond},
			Retention:     Duration{7 * 24 * time.Hour},
			PurgeInterval: Duration{10 * time.Minute},
		},
		RateLimit: RateLimitConfig{
			LoginPerMinuteIP:      20,
			LoginPerMinuteAccount: 5,
			HashPerMinuteIP:       60,
			HashBurstIP:           10,
			Store:                 limitsInPostgres,
		},
	}
}

// Validate reports every problem with the configuration, one line per problem, as a
// *ConfigError; nil means the service can start with it.
func (c Config) Validate() error {
	if problems := c.problems(); len(problems) > 0 {
		return &ConfigError{Problems: problems}
	}
	return nil
}

// problems checks every key, in the order of config.toml.
func (c Config) problems() []Problem {
	var ps problemList
	production := c.App.Env == "production"

	ps.oneOf("app.env", c.App.Env, "development", "production")

	ps.check(isListenAddr(c.HTTP.Addr), "http.addr", "must be host:port with a numeric port, such as 127.0.0.1:8080")
	ps.check(c.Admin.Addr == "" || isListenAddr(c.Admin.Addr), "admin.addr", "must be empty (off) or host:port with a numeric port, such as 127.0.0.1:9090")
	ps.check(c.Admin.Addr == "" || c.Admin.Addr != c.HTTP.Addr || strings.HasSuffix(c.Admin.Addr, ":0"), "admin.addr", "must differ from http.addr: the metrics must not be served on the API's port")
	ps.check(!c.Admin.Pprof || c.Admin.Addr != "", "admin.pprof", "needs admin.addr: the profiles are served on the admin listener")
	ps.check(c.HTTP.MaxBodyBytes > 0, "http.max_body_bytes", "must be greater than zero")
	ps.check(c.HTTP.RequestTimeout.Duration > 0, "http.request_timeout", "must be greater than zero")
	ps.check(c.HTTP.ShutdownTimeout.Duration > 0, "http.shutdown_timeout", "must be greater than zero")
	ps.check(c.HTTP.ReadHeaderTimeout.Duration > 0, "http.read_header_timeout", "must be greater than zero")
	ps.check(c.HTTP.MaxHeaderBytes >= minHeaderBytes, "http.max_header_bytes", fmt.Sprintf("must be at least %d, room for a session cookie", minHeaderBytes))
	ps.check(c.HTTP.MaxConnections > 0, "http.max_connections", "must be greater than zero")
	ps.check(c.HTTP.IdleTimeout.Duration > 0, "http.idle_timeout", "must be greater than zero")
	ps.check(c.HTTP.ShutdownDelay.Duration >= 0, "http.shutdown_delay", "must be zero or more")
	if _, err := c.HTTP.trustedProxies(); err != nil {
		ps.add("http.trusted_proxies", err.Error())
	}

	ps.url("database.url", c.Database.URL, "postgres", "postgresql")
	ps.check(c.Database.MaxOpenConns > 0, "database.max_open_conns", "must be greater than zero")
	ps.check(c.Database.StatementTimeout.Duration == 0 || c.Database.StatementTimeout.Duration >= time.Second,
		"database.statement_timeout", "must be 0 (off) or at least 1s")
	ps.check(c.Database.IdleInTransactionTimeout.Duration == 0 || c.Database.IdleInTransactionTimeout.Duration > minIdleInTransaction,
		"database.idle_in_transaction_timeout",
		fmt.Sprintf("must be 0 (off) or longer than %s: events are published to the broker inside a transaction", minIdleInTransaction))

	ps.secret("security.jwt_secret", c.Security.JWTSecret, production)
	ps.secret("security.password_pepper", c.Security.PasswordPepper, production)
	ps.check(c.Security.BcryptCost >= bcrypt.MinCost && c.Security.BcryptCost <= bcrypt.MaxCost,
		"security.bcrypt_cost", fmt.Sprintf("must be from %d to %d", bcrypt.MinCost, bcrypt.MaxCost))
	ps.check(c.Security.HashConcurrency > 0, "security.hash_concurrency", "must be greater than zero")
	ps.check(c.Security.HashWait.Duration > 0, "security.hash_wait", "must be greater than zero")

	ps.check(c.Session.TTL.Duration > 0, "session.ttl", "must be greater than zero")
	ps.check(c.Session.RefreshThreshold > 0 && c.Session.RefreshThreshold < 1,
		"session.refresh_threshold", "must be greater than 0 and less than 1")
	ps.check(c.Session.MaxLifetime.Duration >= c.Session.TTL.Duration, "session.max_lifetime", "must be at least session.ttl")
	ps.check(c.Session.PurgeInterval.Duration > 0, "session.purge_interval", "must be greater than zero")
	ps.check(c.Session.MaxPerUser >= 0, "session.max_per_user", "must be zero (no cap) or more")

	// net/http silently drops a cookie whose name it cannot send; check with its own rule.
	ps.check((&http.Cookie{Name: c.Cookie.Name}).Valid() == nil,
		"cookie.name", "must be a cookie name: letters, digits and !#$%&'*+-.^_`|~ only")
	ps.check(c.Cookie.Secure || !production, "cookie.secure", "must be true in production")
	ps.check(c.Cookie.Secure || !securePrefixed(c.Cookie.Name), "cookie.secure", "must be true with a __Host- or __Secure- cookie name")

	ps.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	ps.oneOf("log.format", c.Log.Format, "json", "console")

	ps.oneOf("events.broker", c.Events.Broker, "none", "nats", "amqp")
	switch c.Events.Broker {
	case "nats":
		ps.url("events.nats_url", c.Events.NATSURL, "nats", "tls")
	case "amqp":
		ps.url("events.amqp_url", c.Events.AMQPURL, "amqp", "amqps")
	}
	ps.check(c.Events.NATSStream != "", "events.nats_stream", "must not be empty")
	ps.check(c.Events.NATSSubject != "", "events.nats_subject", "must not be empty")
	ps.check(c.Events.AMQPExchange != "", "events.amqp_exchange", "must not be empty")
	ps.check(c.Events.PollInterval.Duration > 0, "events.poll_interval", "must be greater than zero")
	ps.check(c.Events.Retention.Duration > 0, "events.retention", "must be greater than zero")
	ps.check(c.Events.PurgeInterval.Duration > 0, "events.purge_interval", "must be greater than zero")

	ps.check(c.RateLimit.LoginPerMinuteIP >= 0, "ratelimit.login_per_minute_ip", "must be zero (off) or more")
	ps.check(c.RateLimit.LoginPerMinuteAccount >= 0, "ratelimit.login_per_minute_account", "must be zero (off) or more")
	ps.check(c.RateLimit.HashPerMinuteIP >= 0, "ratelimit.hash_per_minute_ip", "must be zero (off) or more")
	ps.oneOf("ratelimit.store", c.RateLimit.Store, limitsInPostgres, limitsInMemory)
	// A password change hashes twice in one request: a smaller burst would refuse
	// every one.
	ps.check(c.RateLimit.HashPerMinuteIP == 0 || c.RateLimit.HashBurstIP >= minHashBurst,
		"ratelimit.hash_burst_ip", fmt.Sprintf("must be at least %d, the hashes of a password change, while ratelimit.hash_per_minute_ip is on", minHashBurst))
	return ps
}

// securePrefixed reports whether a cookie name asks browsers to take the cookie only
// over HTTPS (RFC 6265bis prefixes, which browsers match in any letter case).
func securePrefixed(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasPrefix(lower, "__host-") || strings.HasPrefix(lower, "__secure-")
}

// isListenAddr reports whether addr is something net.Listen("tcp", addr) takes
// without a name lookup. Port 0 is allowed: tests listen on a free port.
func isListenAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// Problem is one thing wrong with the configuration, named by its key.
type Problem struct {
	Key     string // "section.key", as in config.toml
	Message string
}

func (p Problem) String() string { return p.Key + ": " + p.Message }

// ConfigError lists every problem found with the configuration.
type ConfigError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problemList gathers problems; its checks keep problems() one line per rule.
type problemList []Problem

func (ps *problemList) add(key, message string) {
	*ps = append(*ps, Problem{Key: key, Message: message})
}

func (ps *problemList) check(ok bool, key, message string) {
	if !ok {
		ps.add(key, message)
	}
}

func (ps *problemList) oneOf(key, value string, allowed ...string) {
	ps.check(slices.Contains(allowed, value), key,
		fmt.Sprintf("must be one of %s (got %q)", strings.Join(allowed, ", "), value))
}

// url requires a URL with one of the given schemes. The value is never quoted back:
// it may hold a password.
func (ps *problemList) url(key, value string, schemes ...string) {
	if value == "" {
		ps.add(key, "is required")
		return
	}
	u, err := url.Parse(value)
	ps.check(err == nil && slices.Contains(schemes, u.Scheme), key,
		fmt.Sprintf("must be a URL starting with %s://", strings.Join(schemes, ":// or ")))
}

// secret requires enough bytes to resist guessing, and in production refuses the
// development secrets that anyone can read in the repository.
func (ps *problemList) secret(key, value string, production bool) {
	switch {
	case len(value) < minSecretBytes:
		ps.add(key, fmt.Sprintf("must be at least %d bytes", minSecretBytes))
	case production && strings.Contains(value, devSecretMarker):
		ps.add(key, "the development secret cannot be used in production")
	}
}

// Redacted returns a copy that is safe to log: secrets read "[redacted]" (an empty
// one stays empty, so a missing secret still shows) and passwords inside URLs read
// "xxxxx", as url.URL.Redacted writes them.
func (c Config) Redacted() Config {
	for _, s := range c.settings() {
		switch s.redact {
		case "value":
			if s.value.String() != "" {
				s.value.SetString(redacted)
			}
		case "url":
			s.value.SetString(redactURL(s.value.String()))
		}
	}
	return c
}

// redactURL hides the password in a URL's user info and in a "password" query
// parameter, which PostgreSQL URLs also accept. A value that does not parse is hidden
// whole: where its password might be cannot be known.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// String renders the redacted configuration on one line of section.key=value pairs,
// for the startup log. Being the Stringer also keeps secrets out of a careless %v.
func (c Config) String() string {
	r := c.Redacted()
	settings := r.settings()
	pairs := make([]string, len(settings))
	for i, s := range settings {
		value := fmt.Sprint(s.value.Interface())
		if s.value.Kind() == reflect.String {
			value = strconv.Quote(value)
		}
		pairs[i] = s.key + "=" + value
	}
	return strings.Join(pairs, " ")
}

// setting is one key of the configuration, found by reflection so that environment
// overrides and redaction cover new keys without further code.
type setting struct {
	key    string        // "session.ttl"
	env    string        // "APP_SESSION_TTL"
	redact string        // the field's redact tag
	value  reflect.Value // the field itself, settable
}

// settings lists every key in the order of the struct, which is the order of
// config.toml.
func (c *Config) settings() []setting {
	var out []setting
	sections := reflect.ValueOf(c).Elem()
	for i := range sections.NumField() {
		section := sections.Type().Field(i).Tag.Get("toml")
		fields := sections.Field(i)
		for j := range fields.NumField() {
			f := fields.Type().Field(j)
			key := f.Tag.Get("toml")
			out = append(out, setting{
				key:    section + "." + key,
				env:    strings.ToUpper(envPrefix + "_" + section + "_" + key),
				redact: f.Tag.Get("redact"),
				value:  fields.Field(j),
			})
		}
	}
	return out
}

// otherEnv are the APP_ variables that are not settings but are read all the same.
var otherEnv = []string{configFileEnv, superAdminPasswordEnv}

// strayEnv returns the names of APP_ variables in environ ("NAME=value" pairs, as
// os.Environ gives them) that name no setting: most likely a misspelled override,
// which would otherwise leave the file's value in place without a word. They are
// warned about rather than refused, since the prefix is generic enough for another
// program's variable to share it.
func strayEnv(environ []string) []string {
	known := make(map[string]bool)
	for _, s := range new(Config).settings() {
		known[s.env] = true
	}
	for _, name := range otherEnv {
		known[name] = true
	}
	var stray []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, envPrefix+"_") && !known[name] {
			stray = append(stray, name)
		}
	}
	slices.Sort(stray)
	return stray
}
