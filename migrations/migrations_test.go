package migrations_test

import (
	"testing"

	"github.com/example/accounts/migrations"
)

// Every migration must be reversible, or `migrate down` would silently skip it.
func TestEveryMigrationHasUpAndDown(t *testing.T) {
	sorted := migrations.Migrations.Sorted()
	if len(sorted) == 0 {
		t.Fatal("no migrations embedded")
	}
	for _, m := range sorted {
		if m.Up == nil || m.Down == nil {
			t.Errorf("migration %s: want both an up and a down file", m)
		}
	}
}
