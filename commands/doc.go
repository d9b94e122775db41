// Package commands holds the write use cases, one file each: a command struct, its
// result and the handler that runs it. A handler does the contract's order of checks
// from authentication onwards (the HTTP port has done the shape checks), applies the
// domain rules, and persists in one transaction. The interfaces it needs are declared
// here, by their consumer; adapters implement them.
package commands
