package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"golang.org/x/net/netutil"

	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/adapters/metrics"
	"github.com/example/accounts/adapters/password"
	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/system"
	"github.com/example/accounts/adapters/throttle"
	"github.com/example/accounts/adapters/token"
	"github.com/example/accounts/adapters/tracing"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/ports"
	"github.com/example/accounts/ports/openapi"
	"github.com/example/accounts/queries"
)

// appModules is the whole service but for its inputs: the configuration, the
// logger and an open, migrated database, which serve supplies (and tests replace).
func appModules() fx.Option {
	return fx.Options(
		metricsModule,
		tracingModule,
		storageModule,
		securityModule,
		busModule,
		eventsModule,
		sweeperModule,
		httpModule,
	)
}

// storageModule exposes the database through the interfaces the use cases declare.
var storageModule = fx.Module("storage",
	fx.Provide(
		fx.Annotate(newOutboxWriter, fx.As(new(postgres.Outbox))),
		newStore,
		fx.Annotate(postgres.NewUserReader, fx.As(new(queries.UserReader)), fx.As(new(queries.UserLister))),
	),
)

// newStore is the store the use cases work with, counting the sessions they begin
// and end when metrics are on.
func newStore(db *bun.DB, events postgres.Outbox, m *metrics.Metrics) commands.Store {
	store := postgres.NewStore(db, events)
	if m == nil {
		return store
	}
	return m.Store(store)
}

// securityModule holds the password hasher, the session token codec, the login
// throttle, the hashing budget, the clock, the id source and the session rules.
var securityModule = fx.Module("security",
	fx.Provide(
		fx.Annotate(newHasher, fx.As(fx.Self()), fx.As(new(commands.PasswordHasher))),
		fx.Annotate(newTokens, fx.As(new(commands.Tokens))),
		newThrottle,
		newHashBudget,
		sessionCap,
		fx.Annotate(func() system.Clock { return system.Clock{} }, fx.As(new(commands.Clock))),
		fx.Annotate(func() system.IDs { return system.IDs{} }, fx.As(new(commands.IDs))),
		sessionPolicy,
	),
)

func newHasher(cfg Config) (*password.Hasher, error) {
	return password.NewHasher(password.Config{
		Pepper:      []byte(cfg.Security.PasswordPepper),
		Cost:        cfg.Security.BcryptCost,
		Concurrency: cfg.Security.HashConcurrency,
		Wait:        cfg.Security.HashWait.Duration,
	})
}

func newTokens(cfg Config) (*token.JWT, error) {
	return token.NewJWT([]byte(cfg.Security.JWTSecret))
}

// newThrottle and newHashBudget keep the limits where [ratelimit] store says: in
// the database, shared by every instance, or in this process.
// Their refusals are counted when metrics are on.
func newThrottle(cfg Config, clock commands.Clock, db *bun.DB, m *metrics.Metrics, logger *zap.Logger) commands.LoginThrottle {
	r := cfg.RateLimit
	var t commands.LoginThrottle
	if r.Store == limitsInMemory {
		t = throttle.NewLoginThrottle(r.LoginPerMinuteIP, r.LoginPerMinuteAccount, clock.Now)
	} else {
		t = throttle.NewPostgresLoginThrottle(db.DB, r.LoginPerMinuteIP, r.LoginPerMinuteAccount, clock.Now, logger.Named("throttle"))
	}
	if m == nil {
		return t
	}
	return m.LoginThrottle(t)
}

func newHashBudget(cfg Config, clock commands.Clock, db *bun.DB, m *metrics.Metrics) commands.HashBudget {
	r := cfg.RateLimit
	var b commands.HashBudget
	if r.Store == limitsInMemory {
		b = throttle.NewHashBudget(r.HashPerMinuteIP, r.HashBurstIP, clock.Now)
	} else {
		b = throttle.NewPostgresHashBudget(db.DB, r.HashPerMinuteIP, r.HashBurstIP, clock.Now)
	}
	if m == nil {
		return b
	}
	return m.HashBudget(b)
}

func sessionCap(cfg Config) commands.SessionCap {
	return commands.SessionCap(cfg.Session.MaxPerUser)
}

func sessionPolicy(cfg Config) domain.SessionPolicy {
	return domain.SessionPolicy{
		TTL:              cfg.Session.TTL.Duration,
		RefreshThreshold: cfg.Session.RefreshThreshold,
		MaxLifetime:      cfg.Session.MaxLifetime.Duration,
	}
}

// busModule runs the in-process CQRS bus. It starts after the database (its
// constructor needs nothing from it, but the handlers do) and stops before it.
var busModule = fx.Module("bus",
	fx.Provide(
		fx.Annotate(newBus, fx.ParamTags(``, ``, ``, ``, `group:"bus_handlers"`)),
		fx.Annotate(newSenders, fx.ParamTags(`group:"senders"`)),
	),
	operations,
)

func newBus(lc fx.Lifecycle, cfg Config, logger *zap.Logger, m *metrics.Metrics, registrations []busRegistration, tr *tracing.Provider) (*bus.Bus, error) {
	busCfg := bus.Config{
		ReplyTimeout:   cfg.HTTP.RequestTimeout.Duration,
		CloseTimeout:   busCloseTimeout,
		TracerProvider: tr.TracerProvider(),
		Propagator:     tr.Propagator(),
	}
	if m != nil {
		busCfg.Observer = m
	}
	b, err := bus.New(busCfg, logger.Named("bus"))
	if err != nil {
		return nil, err
	}
	for _, register := range registrations {
		if err := register(b); err != nil {
			return nil, err
		}
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return b.Start() },
		OnStop:  func(context.Context) error { return b.Close() },
	})
	return b, nil
}

// httpModule serves the REST API.
var httpModule = fx.Module("http",
	fx.Provide(newRouter, func() *stopping { return &stopping{} }),
	fx.Invoke(runServer),
)

// stopping is set when the service has been told to stop: from then on /readyz
// answers 503, while the server still takes requests for [http] shutdown_delay.
type stopping struct{ atomic.Bool }

var errStopping = errors.New("stopping")

func newRouter(cfg Config, senders ports.Senders, db *bun.DB, b *bus.Bus, stop *stopping, m *metrics.Metrics, logger *zap.Logger, tr *tracing.Provider) (http.Handler, error) {
	trusted, err := cfg.HTTP.trustedProxies()
	if err != nil { // Validate has refused it already; kept for a config built in code
		return nil, fmt.Errorf("http.trusted_proxies: %w", err)
	}
	probes := []ports.Probe{
		func(context.Context) error {
			if stop.Load() {
				return errStopping
			}
			return nil
		},
		func(ctx context.Context) error { return postgres.Ping(ctx, db) },
		func(context.Context) error { return b.Ready() },
	}
	var observer ports.RequestObserver
	if m != nil {
		observer = m
	}
	return ports.NewRouter(ports.Config{
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		RequestTimeout: cfg.HTTP.RequestTimeout.Duration,
		CookieName:     cfg.Cookie.Name,
		CookieSecure:   cfg.Cookie.Secure,
		TrustedProxies: trusted,
		TracerProvider: tr.TracerProvider(),
		Propagator:     tr.Propagator(),
		Docs:           openapi.UIHandler(),
		Spec:           openapi.SpecHandler(),
		Observer:       observer,
	}, senders, probes, logger.Named("http")), nil
}

// listener is where the server listens; serve binds [http] addr, tests an ephemeral
// port they can read back.
type listener struct{ net.Listener }

// runServer binds the address at start, so a port in use fails startup instead of
// being logged later. On stop it first turns /readyz to 503 and goes on serving for
// [http] shutdown_delay, so that a load balancer takes the instance out before it
// stops listening, then lets in-flight requests finish within [http]
// shutdown_timeout.
//
// A client that never finishes its headers holds a connection and up to
// max_header_bytes of memory until read_header_timeout; max_connections bounds how
// many can, and what they take all told.
func runServer(lc fx.Lifecycle, cfg Config, handler http.Handler, stop *stopping, logger *zap.Logger, l *listener) {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.Duration,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		// A slow client may hold a connection no longer than a request may take.
		ReadTimeout:  cfg.HTTP.RequestTimeout.Duration,
		WriteTimeout: cfg.HTTP.RequestTimeout.Duration + 5*time.Second,
		IdleTimeout:  cfg.HTTP.IdleTimeout.Duration,
		ErrorLog:     zap.NewStdLog(logger.Named("http.server")),
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.HTTP.Addr)
			if err != nil {
				return err
			}
			l.Listener = ln
			logger.Info("listening", zap.String("addr", ln.Addr().String()))
			limited := netutil.LimitListener(ln, cfg.HTTP.MaxConnections)
			go func() {
				if err := srv.Serve(limited); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Error("http server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			stop.Store(true)
			if delay := cfg.HTTP.ShutdownDelay.Duration; delay > 0 {
				logger.Info("stopping: /readyz answers 503; still serving for the shutdown delay", zap.Duration("shutdown_delay", delay))
				select {
				case <-time.After(delay):
				case <-ctx.Done():
				}
			}
			logger.Info("shutting down: finishing in-flight requests")
			// Fx's stop timeout also covers closing the bus and the database, so
			// the drain gets only its own share of it.
			drainCtx, cancel := context.WithTimeout(ctx, cfg.HTTP.ShutdownTimeout.Duration)
			defer cancel()
			if err := srv.Shutdown(drainCtx); err != nil {
				// Requests still running past the drain are cut off rather than
				// failing the stop: the bus and the database must still close, in
				// order, after the server.
				logger.Warn("shutting down: in-flight requests did not finish in time; closing their connections",
					zap.Duration("shutdown_timeout", cfg.HTTP.ShutdownTimeout.Duration), zap.Error(err))
				if err := srv.Close(); err != nil {
					logger.Warn("closing the http server", zap.Error(err))
				}
			}
			return nil
		},
	})
}

// busCloseTimeout bounds how long the bus waits for handlers on stop; it must stay
// below the Fx stop timeout, which also covers the HTTP drain.
const busCloseTimeout = 5 * time.Second
