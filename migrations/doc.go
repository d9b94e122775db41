// Package migrations holds the database schema as bun/migrate SQL files, embedded in
// the binary so that the program can bring any database up to date on its own,
// without files on disk. Each change is a pair of <timestamp>_<name>.tx.up.sql and
// .tx.down.sql files: ".tx" makes bun run each file in one transaction, so a failing
// migration leaves nothing half-applied.
package migrations
