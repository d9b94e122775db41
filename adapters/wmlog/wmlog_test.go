package wmlog_test

import (
	"errors"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/example/accounts/adapters/wmlog"
)

func TestLevels(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := wmlog.New(zap.New(core)).With(map[string]any{"topic": "t"})

	l.Trace("trace", nil)
	l.Debug("debug", nil)
	l.Info("info", map[string]any{"n": 1})
	l.Error("error", errors.New("e"), nil)
	wmlog.Quiet(zap.New(core)).Info("quiet", nil)

	want := []struct {
		msg   string
		level zapcore.Level
	}{
		{"trace", zapcore.DebugLevel},
		{"debug", zapcore.DebugLevel},
		{"info", zapcore.InfoLevel},
		{"error", zapcore.ErrorLevel},
		{"quiet", zapcore.DebugLevel},
	}
	entries := logs.All()
	if len(entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(entries), len(want))
	}
	for i, w := range want {
		if e := entries[i]; e.Message != w.msg || e.Level != w.level {
			t.Errorf("entry %d = %s at %s, want %s at %s", i, e.Message, e.Level, w.msg, w.level)
		}
	}
	if f := entries[2].ContextMap(); f["topic"] != "t" || f["n"] != int64(1) {
		t.Errorf("info fields = %v, want topic from With and n", f)
	}
	if f := entries[3].ContextMap(); f["error"] != "e" {
		t.Errorf("error fields = %v, want the error", f)
	}
}
