// Package password hashes and verifies passwords for commands.PasswordHasher.
//
// bcrypt reads at most 72 bytes of its input and ignores the rest, so hashing a
// password directly would make two long passwords with a common prefix equal. Every
// password is therefore first reduced to a fixed 64-byte pre-hash,
// base64(HMAC-SHA384(pepper, password)), and only that goes into bcrypt. The pepper
// comes from configuration, not from the database, so a leaked users table alone is
// not enough to start guessing passwords offline.
//
// A password is put in Unicode Normalization Form C before the pre-hash, when it is
// set and at every comparison: the same text typed on two systems may arrive as
// different code points ("é" as one, or as "e" and a combining accent), and its owner
// cannot see the difference. A stored hash is "$nfc" followed by the bcrypt hash,
// e.g. "$nfc$2a$11$…". Hashes stored before normalisation are bare bcrypt hashes of
// the password as it was typed; they still verify against the password unnormalised,
// and Outdated reports them so that the next login replaces them, as it does hashes
// of another cost. Unicode keeps the normal form of assigned characters stable from
// one version to the next, but not of code points unassigned in the tables in use
// (those of golang.org/x/text, chosen by the Go version): a password holding one may
// stop verifying after an upgrade that assigns it.
//
// bcrypt is deliberately slow and keeps a CPU busy for its whole run. A burst of
// logins must not starve the rest of the service, so at most Config.Concurrency
// hashes run at once; a caller that cannot get a slot within Config.Wait is told the
// service is unavailable (503 with Retry-After) instead of queueing without bound.
package password
