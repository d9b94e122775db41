package bus

import (
	"github.com/ThreeDotsLabs/watermill"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/wmlog"
)

// quietLogger is wmlog.Quiet with its level checked before anything else, by a
// call that needs almost no stack. Watermill logs at trace and debug level several
// times per message, much of it from goroutines it starts for that one message,
// whose stacks are still small: a disabled line that goes as deep as zap's own
// check makes such a stack grow, and growing it, copying it, costs more than the
// rest of the goroutine's work. Quiet writes Watermill's info lines at debug level
// too, so they are checked against it.
type quietLogger struct {
	watermill.LoggerAdapter
	core zapcore.Core
}

func newQuietLogger(l *zap.Logger) watermill.LoggerAdapter {
	return quietLogger{LoggerAdapter: wmlog.Quiet(l), core: l.Core()}
}

func (q quietLogger) Info(msg string, fields watermill.LogFields) {
	if q.core.Enabled(zapcore.DebugLevel) {
		q.LoggerAdapter.Info(msg, fields)
	}
}

func (q quietLogger) Debug(msg string, fields watermill.LogFields) {
	if q.core.Enabled(zapcore.DebugLevel) {
		q.LoggerAdapter.Debug(msg, fields)
	}
}

func (q quietLogger) Trace(msg string, fields watermill.LogFields) {
	if q.core.Enabled(zapcore.DebugLevel) {
		q.LoggerAdapter.Trace(msg, fields)
	}
}

func (q quietLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietLogger{LoggerAdapter: q.LoggerAdapter.With(fields), core: q.core}
}
