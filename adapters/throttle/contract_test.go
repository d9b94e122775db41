package throttle_test

import (
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/adapters/throttle"
	"github.com/example/accounts/commands/commandstest"
)

func TestMemoryLimitsContract(t *testing.T) {
	t.Parallel()
	commandstest.LimitsContract(t, func(_ *testing.T, cfg commandstest.LimitsConfig, now func() time.Time) commandstest.Limits {
		return commandstest.Limits{
			Throttle: throttle.NewLoginThrottle(cfg.LoginPerMinuteIP, cfg.LoginPerMinuteAccount, now),
			Budget:   throttle.NewHashBudget(cfg.HashPerMinuteIP, cfg.HashBurstIP, now),
		}
	})
}

func TestPostgresLimitsContract(t *testing.T) {
	t.Parallel()
	commandstest.LimitsContract(t, func(t *testing.T, cfg commandstest.LimitsConfig, now func() time.Time) commandstest.Limits {
		db := pgtest.New(t).DB
		return commandstest.Limits{
			Throttle: throttle.NewPostgresLoginThrottle(db, cfg.LoginPerMinuteIP, cfg.LoginPerMinuteAccount, now, zaptest.NewLogger(t)),
			Budget:   throttle.NewPostgresHashBudget(db, cfg.HashPerMinuteIP, cfg.HashBurstIP, now),
		}
	})
}
