package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/example/accounts/adapters/postgres"
)

// migrateCommand runs `migrate up|down|status`.
func migrateCommand(cfg Config, logger *zap.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return usageError{"migrate: want exactly one of up, down, status"}
	}
	// Checked before connecting: a typo must not create the database, nor be
	// reported as a connection problem.
	if !slices.Contains([]string{"up", "down", "status"}, args[0]) {
		return usageError{fmt.Sprintf("migrate: unknown action %q (want up, down or status)", args[0])}
	}
	printDatabase(stderr, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, databaseConfig(cfg).ForMigrations())
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	m := postgres.NewMigrator(db)

	switch args[0] {
	case "up":
		applied, err := postgres.MigrateUp(ctx, m)
		if err != nil {
			return err
		}
		printMigrations(stdout, "applied", applied)
	case "down":
		rolledBack, err := postgres.MigrateDown(ctx, m)
		if err != nil {
			return err
		}
		printMigrations(stdout, "rolled back", rolledBack)
	case "status":
		states, err := postgres.MigrationStatus(ctx, m)
		if err != nil {
			return err
		}
		for _, s := range states {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-8s %s\n", state, s.Name)
		}
	}
	logger.Debug("migrate done", zap.String("action", args[0]))
	return nil
}

func printMigrations(w io.Writer, verb string, names []string) {
	if len(names) == 0 {
		fmt.Fprintf(w, "nothing %s\n", verb)
		return
	}
	for _, n := range names {
		fmt.Fprintf(w, "%s %s\n", verb, n)
	}
}
