package postgres

import (
	"context"
	"slices"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/example/accounts/migrations"
)

// MigrationState is one migration and whether the database has it.
type MigrationState struct {
	Name    string
	Applied bool
}

// NewMigrator returns a migrator for the schema of package migrations. It records a
// migration as applied only once it has succeeded, so that a failed one is tried
// again on the next run instead of being skipped.
func NewMigrator(db *bun.DB) *migrate.Migrator {
	return migrate.NewMigrator(db, migrations.Migrations, migrate.WithMarkAppliedOnSuccess(true))
}

// MigrateUp applies every pending migration, as one group, and returns their names.
func MigrateUp(ctx context.Context, m *migrate.Migrator) ([]string, error) {
	var applied []string
	err := withMigrationLock(ctx, m, func() error {
		group, err := m.Migrate(ctx)
		if err != nil {
			return mapError("migrate up", err)
		}
		applied = names(group.Migrations)
		return nil
	})
	return applied, err
}

// MigrateDown rolls back the last group of migrations, the last to have been
// applied first, and returns their names in that order.
func MigrateDown(ctx context.Context, m *migrate.Migrator) ([]string, error) {
	var rolledBack []string
	err := withMigrationLock(ctx, m, func() error {
		group, err := m.Rollback(ctx)
		if err != nil {
			return mapError("migrate down", err)
		}
		rolledBack = names(group.Migrations)
		slices.Reverse(rolledBack)
		return nil
	})
	return rolledBack, err
}

// MigrationStatus lists every migration, oldest first, and whether it is applied.
// It waits for a run in progress elsewhere, so it never reports one half-way.
func MigrationStatus(ctx context.Context, m *migrate.Migrator) ([]MigrationState, error) {
	var states []MigrationState
	err := withMigrationLock(ctx, m, func() error {
		all, err := m.MigrationsWithStatus(ctx)
		if err != nil {
			return mapError("migration status", err)
		}
		for _, mig := range all {
			states = append(states, MigrationState{Name: mig.String(), Applied: mig.IsApplied()})
		}
		return nil
	})
	return states, err
}

// migrationLockKey names the advisory lock that serializes migrations ("accounts" in
// ASCII). Advisory locks belong to one database, so only instances of this service
// working on the same database ever meet it.
const migrationLockKey int64 = 0x6163636f756e7473

// withMigrationLock creates the migration tables if needed and runs fn, holding a
// PostgreSQL advisory lock throughout, so that instances starting at once migrate one
// after the other: the first applies the pending migrations, the others then find
// none. The lock belongs to a transaction that is always rolled back, so it is
// released however fn ends, and by the server if the process dies. (bun's own
// Migrator.Lock does neither: it fails at once instead of waiting, and a crash leaves
// it taken.)
func withMigrationLock(ctx context.Context, m *migrate.Migrator, fn func() error) error {
	tx, err := m.DB().BeginTx(ctx, nil)
	if err != nil {
		return mapError("lock migrations", err)
	}
	defer func() { _ = tx.Rollback() }()

	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", migrationLockKey); err != nil {
		return mapError("lock migrations", err)
	}
	if err := m.Init(ctx); err != nil {
		return mapError("create migration tables", err)
	}
	return fn()
}

func names(ms migrate.MigrationSlice) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}
