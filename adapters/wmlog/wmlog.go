package wmlog

import (
	"maps"
	"slices"

	"github.com/ThreeDotsLabs/watermill"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New sends Watermill's logs to l, so that they share the service's format and
// level. Watermill's Trace lines, which it writes for every message, go out at
// debug level like its Debug lines.
func New(l *zap.Logger) watermill.LoggerAdapter {
	return watermillLogger{zap: l, info: zapcore.InfoLevel}
}

// Quiet is New with Watermill's Info lines turned down to debug. Routers and
// subscribers write lifecycle chatter at info (a handler added, started, stopped;
// a reply nobody waited for any more): a production log at info level stays quiet,
// while errors still show.
func Quiet(l *zap.Logger) watermill.LoggerAdapter {
	return watermillLogger{zap: l, info: zapcore.DebugLevel}
}

type watermillLogger struct {
	zap *zap.Logger
	// info is the level Watermill's Info lines are written at.
	info zapcore.Level
}

func (w watermillLogger) Error(msg string, err error, fields watermill.LogFields) {
	w.write(zapcore.ErrorLevel, msg, fields, zap.Error(err))
}

func (w watermillLogger) Info(msg string, fields watermill.LogFields) {
	w.write(w.info, msg, fields)
}

func (w watermillLogger) Debug(msg string, fields watermill.LogFields) {
	w.write(zapcore.DebugLevel, msg, fields)
}

func (w watermillLogger) Trace(msg string, fields watermill.LogFields) {
	w.write(zapcore.DebugLevel, msg, fields)
}

func (w watermillLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return watermillLogger{zap: w.zap.With(zapFields(fields)...), info: w.info}
}

// write converts the fields only when the line is going to be written: Watermill
// logs at debug level on every message, and production runs above it.
func (w watermillLogger) write(level zapcore.Level, msg string, fields watermill.LogFields, extra ...zap.Field) {
	if ce := w.zap.Check(level, msg); ce != nil {
		ce.Write(append(zapFields(fields), extra...)...)
	}
}

// zapFields sorts the fields by name, so that one kind of line always reads the same.
func zapFields(fields watermill.LogFields) []zap.Field {
	zf := make([]zap.Field, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		zf = append(zf, zap.Any(k, fields[k]))
	}
	return zf
}
