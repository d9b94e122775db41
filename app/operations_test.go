package main

import (
	"reflect"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/commands"
	"github.com/example/accounts/ports"
)

// A route whose message no line of the table handles, or a line nothing sends,
// stops the program at start rather than answer 500 or sit unused. (The whole
// table is what every other test of this package starts.)
func TestSendersAndTheTableMatch(t *testing.T) {
	b, err := bus.New(bus.Config{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	signup := sender{reflect.TypeFor[ports.Sender[commands.Signup, commands.SignupResult]](), bus.NewSender[commands.Signup, commands.SignupResult](b)}
	if _, err := newSenders([]sender{signup}); err == nil || !strings.Contains(err.Error(), "ports.Senders.Login") {
		t.Errorf("a missing line: %v, want it named", err)
	}
	stray := sender{reflect.TypeFor[ports.Sender[int, string]](), bus.NewSender[int, string](b)}
	if _, err := newSenders([]sender{signup, stray}); err == nil || !strings.Contains(err.Error(), "no field") {
		t.Errorf("a line with no field: %v, want it named", err)
	}
}
