package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/example/accounts/adapters/metrics"
	"github.com/example/accounts/adapters/outbox"
	"github.com/example/accounts/adapters/password"
)

// metricsModule collects the service's metrics and serves them on the admin
// listener, when [admin] addr is set. Off, *metrics.Metrics is nil and nothing is
// counted or decorated.
var metricsModule = fx.Module("metrics",
	fx.Provide(newMetrics, func() *adminListener { return &adminListener{} }),
	fx.Invoke(registerCollectors, runAdminServer),
)

func newMetrics(cfg Config) *metrics.Metrics {
	if cfg.Admin.Addr == "" {
		return nil
	}
	return metrics.New()
}

// outboxLagTimeout bounds the scrape's lag queries; a scraper waits 10s by default.
const outboxLagTimeout = 2 * time.Second

// registerCollectors adds what is read on each scrape: the hashing slots, the
// outbox's lag and the database pool.
func registerCollectors(m *metrics.Metrics, hasher *password.Hasher, events *outbox.Router, db *bun.DB) error {
	if m == nil {
		return nil
	}
	m.ConsumerGroups(events.Groups())
	return m.Register(
		metrics.HasherCollector(hasher.Stats),
		metrics.OutboxCollector(events, outboxLagTimeout),
		collectors.NewDBStatsCollector(db.DB, "accounts"),
	)
}

// adminListener is where the admin server listens: [admin] addr, or an ephemeral
// port a test reads back.
type adminListener struct{ net.Listener }

// runAdminServer serves the metrics on their own listener, so that the API's port
// never exposes them. It stops last of the servers: the final scrape of a stopping
// instance still sees its last requests.
func runAdminServer(lc fx.Lifecycle, cfg Config, m *metrics.Metrics, logger *zap.Logger, l *adminListener) {
	if m == nil {
		return
	}
	logger = logger.Named("admin")
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if cfg.Admin.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		// Room for a CPU profile of up to a minute and a half: pprof refuses
		// one that would outlast the write timeout.
		WriteTimeout: 2 * time.Minute,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     zap.NewStdLog(logger),
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.Admin.Addr)
			if err != nil {
				return err
			}
			l.Listener = ln
			logger.Info("admin listening: metrics at /metrics", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					logger.Error("admin server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				return srv.Close()
			}
			return nil
		},
	})
}
