package main

import (
	"fmt"

	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger builds the process logger from [log]. Sampling is off: zap's production
// preset drops repeated lines, and an operator chasing one request must see all of
// its lines. Automatic stack traces are off too: they would turn every expected error
// (a port in use, a database restart) into a screen of library frames; a panic logs
// its stack explicitly.
func newLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Sampling = nil
	cfg.DisableStacktrace = true
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.EncoderConfig.TimeKey = "time"
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.EncoderConfig.EncodeDuration = zapcore.StringDurationEncoder
	if format == "console" {
		cfg.Encoding = "console"
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
	}
	return cfg.Build()
}

// fxLogger sends Fx's own events through zap at debug level: they describe wiring,
// which matters when starting fails (errors stay at error level) and is noise
// otherwise.
func fxLogger(logger *zap.Logger) fxevent.Logger {
	l := &fxevent.ZapLogger{Logger: logger.Named("fx")}
	l.UseLogLevel(zapcore.DebugLevel)
	return l
}
