// Package domain holds the heart of the service: users, roles and who manages whom,
// the username and password rules, sessions, and the closed set of errors every other
// layer speaks in. It depends on the standard library only, so the rules can be read
// and tested without a database, a bus or HTTP in the way.
package domain
