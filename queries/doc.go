// Package queries holds the read use cases, one file each: a query struct, its read
// model and the handler, with the reader interface it needs. Readers return read
// models straight from the database; nothing here changes state.
package queries
