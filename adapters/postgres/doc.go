// Package postgres stores users and sessions in PostgreSQL through bun, and reads the
// user list for the query side. It implements commands.Store and queries.UserReader /
// queries.UserLister, opens the database (creating it when allowed) and applies the
// schema of package migrations.
//
// Driver errors never leave this package raw: errors.go turns them into the domain
// errors the use cases understand (not found, username taken, database unavailable)
// or into an internal error whose text is for the logs only.
package postgres
