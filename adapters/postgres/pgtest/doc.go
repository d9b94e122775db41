// Package pgtest gives each test its own throwaway PostgreSQL database, so that tests
// run in parallel without seeing each other's rows and leave nothing behind.
//
// Databases are created on the server named by $TEST_DATABASE_URL (default: the
// local server as user postgres). A test that cannot reach it fails, never skips:
// a CI job without its database must go red, not silently green.
package pgtest
