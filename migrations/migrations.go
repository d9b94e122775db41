package migrations

import (
	"embed"

	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var files embed.FS

// Migrations is every schema change, in the order of their timestamps.
var Migrations = discover()

// discover panics because the files are fixed at build time: a bad name is a bug that
// the package's test catches, not a condition to handle at run time.
func discover() *migrate.Migrations {
	m := migrate.NewMigrations()
	if err := m.Discover(files); err != nil {
		panic("migrations: " + err.Error())
	}
	return m
}
