package ports

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// Sender sends one typed message over the bus and waits for its typed reply. A
// failure the client should see comes back as a *domain.Error.
type Sender[M, R any] interface {
	Send(ctx context.Context, msg M) (R, error)
}

// Senders are the bus operations the HTTP API uses, one per use case. The use case
// behind each is on its line of the program's operations table (app/operations.go).
type Senders struct {
	Signup            Sender[commands.Signup, commands.SignupResult]
	Login             Sender[commands.Login, commands.LoginResult]
	Logout            Sender[commands.Logout, commands.NoResult]
	Authenticate      Sender[commands.Authenticate, commands.Authenticated]
	ChangeOwnPassword Sender[commands.ChangeOwnPassword, commands.NoResult]
	CreateUser        Sender[commands.CreateUser, commands.CreateUserResult]
	SetUserPassword   Sender[commands.SetUserPassword, commands.NoResult]
	SetAdmin          Sender[commands.SetAdmin, commands.NoResult]
	SetActive         Sender[commands.SetActive, commands.NoResult]
	Me                Sender[queries.Me, queries.UserView]
	GetUser           Sender[queries.GetUser, queries.UserView]
	ListUsers         Sender[queries.ListUsers, queries.UserPage]
}

// Config is the HTTP API's configuration. Zero values of the numeric fields and the
// cookie name take the contract's defaults; Docs and Spec are required.
type Config struct {
	MaxBodyBytes   int64         // [http] max_body_bytes; larger bodies get 413 (default 64 KiB)
	RequestTimeout time.Duration // bound on one request's bus round trips (default 10s)
	// ReadyTimeout bounds /readyz's probes (default 1s): a balancer asking about a
	// database that hangs needs its answer before its own check times out.
	ReadyTimeout time.Duration
	CookieName   string // the session cookie's name (default auth_token)
	CookieSecure bool   // adds Secure to the session cookie
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the login
	// throttle then keys on the client they name. Their traceparent is believed
	// too, when tracing. None by default.
	TrustedProxies []netip.Prefix
	// TracerProvider, when set, makes every request a span (see tracing.go);
	// nil traces nothing and adds nothing to a request's path. Propagator reads
	// the trace context of requests from trusted proxies (default W3C Trace
	// Context).
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	Docs           http.Handler // Swagger UI, served at /docs and everything under /docs/
	Spec           http.Handler // the OpenAPI document, served at /openapi.json
	// Observer, when set, hears of every request once it is answered.
	Observer RequestObserver
}

// RequestObserver hears of every request once it is answered, for the operators'
// metrics: route is the template it matched ("/api/v1/users/{id}", never the raw
// path) or "" when it matched none; method is as the client sent it (any token);
// status is what the access log records, 499 for a client gone before its answer.
// It is called on the request's goroutine: it must be quick.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, took time.Duration)
}

func (c Config) withDefaults() Config {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = time.Second
	}
	if c.CookieName == "" {
		c.CookieName = "auth_token"
	}
	return c
}

// Probe is one readiness check, such as a database ping; an error makes /readyz 503.
type Probe func(ctx context.Context) error

// Route is one operation the router serves: a method on a path template, in the
// template syntax OpenAPI uses too ("/api/v1/users/{id}").
type Route struct {
	Method string
	Path   string
}

// server holds what the handlers share.
type server struct {
	cfg    Config
	send   Senders
	probes []Probe
}

// handler is an endpoint that reports failure by returning it, so that every failure
// reaches the one error mapper.
type handler func(w http.ResponseWriter, r *http.Request) error

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, r, err)
	}
}

// endpoint is one row of the routing table.
type endpoint struct {
	method  string
	path    string
	handler http.Handler
}

// endpoints is the routing table of the contract.
func (s *server) endpoints() []endpoint {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []endpoint{
		{get, "/", handler(toDocs)},
		{get, "/docs", s.cfg.Docs},
		{get, "/openapi.json", s.cfg.Spec},
		{get, "/livez", handler(live)},
		{get, "/readyz", handler(s.ready)},
		{get, "/api/v1/", handler(apiIndex)},
		{post, "/api/v1/account/signup", handler(s.signup)},
		{post, "/api/v1/account/login", handler(s.login)},
		{post, "/api/v1/account/logout", handler(s.logout)},
		{get, "/api/v1/account/me", handler(s.me)},
		{put, "/api/v1/account/password", handler(s.changeOwnPassword)},
		{post, "/api/v1/users", handler(s.createUser)},
		{get, "/api/v1/users", handler(s.listUsers)},
		{get, "/api/v1/users/{id}", handler(s.getUser)},
		{put, "/api/v1/users/{id}/password", handler(s.setUserPassword)},
		{put, "/api/v1/users/{id}/roles/admin", s.setAdmin(true)},
		{del, "/api/v1/users/{id}/roles/admin", s.setAdmin(false)},
		{put, "/api/v1/users/{id}/activation", s.setActive(true)},
		{del, "/api/v1/users/{id}/activation", s.setActive(false)},
	}
}

// Routes lists every operation the router serves, sorted by path and method, for
// comparison with the OpenAPI document. The Swagger UI's files under /docs/ are left
// out: they are assets, not operations.
func Routes() []Route {
	var routes []Route
	for _, e := range (&server{}).endpoints() {
		routes = append(routes, Route{Method: e.method, Path: e.path})
	}
	slices.SortFunc(routes, func(a, b Route) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method))
	})
	return routes
}

// NewRouter returns the service's HTTP handler: the contract's routes behind the
// middleware every request goes through. From the outside in: the correlation id
// (so that every response, 404s included, carries it), the security headers, the
// access log with panic recovery, and the request's deadline.
func NewRouter(cfg Config, s Senders, ready []Probe, logger *zap.Logger) http.Handler {
	srv := &server{cfg: cfg.withDefaults(), send: s, probes: ready}

	// Paths are matched decoded, so that an escaped unreserved character means what
	// it encodes (RFC 3986 §6.2.2.2: /account/m%65 is /account/me), and a path that
	// is not clean matches no route (404) rather than being redirected to one.
	// Decoding would also turn an escaped slash into a separator; refuseEscapedSlash
	// keeps such paths away from the routes.
	router := mux.NewRouter().SkipClean(true)
	router.NotFoundHandler = handler(notFound)
	paths := groupByPath(srv.endpoints())
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		router.Handle(path, newMethods(path, paths[path]))
	}
	router.PathPrefix("/docs/").Handler(newMethods("/docs/", map[string]http.Handler{http.MethodGet: srv.cfg.Docs}))

	return srv.withTracing(withRequestID(withSecurityHeaders(withAccessLog(logger, srv.cfg.Observer, srv.clientAddr, withTimeout(srv.cfg.RequestTimeout, refuseEscapedSlash(router))))))
}

// refuseEscapedSlash answers 404 to a path with an escaped slash in it. Decoded, it
// would reach another route than the one sent (/users/{id}%2Fpassword would set a
// password), and no path here has a slash inside a segment, so it names nothing.
func refuseEscapedSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); strings.Contains(p, "%2F") || strings.Contains(p, "%2f") {
			writeError(w, r, errNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func groupByPath(endpoints []endpoint) map[string]map[string]http.Handler {
	paths := make(map[string]map[string]http.Handler)
	for _, e := range endpoints {
		if paths[e.path] == nil {
			paths[e.path] = make(map[string]http.Handler)
		}
		paths[e.path][e.method] = e.handler
	}
	return paths
}

// methods serves one path, choosing the handler by method. mux only matches paths
// here: its own method matching answers 404 instead of 405 for some paths (v1.8.1)
// and cannot say which methods are allowed, which a 405 must.
type methods struct {
	route    string
	handlers map[string]http.Handler
	allow    string
}

func newMethods(route string, handlers map[string]http.Handler) *methods {
	allow := strings.Join(slices.Sorted(maps.Keys(handlers)), ", ")
	return &methods{route: route, handlers: handlers, allow: allow}
}

func (m *methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	notesFrom(r.Context()).route = m.route
	nameSpan(r, m.route)
	h, ok := m.handlers[r.Method]
	if !ok {
		w.Header().Set("Allow", m.allow)
		writeError(w, r, domain.NewError(codeMethodNotAllowed, "This resource does not support the "+r.Method+" method."))
		return
	}
	h.ServeHTTP(w, r)
}
