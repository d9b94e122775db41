// Package password hashes and verifies passwords for commands.PasswordHasher.
//
// bcrypt reads at most 72 bytes of its input and ignores the rest, so hashing a
// password directly would make two long passwords with a common prefix equal. Every
// password is therefore first reduced to a fixed 64-byte pre-hash,
// base64(HMAC-SHA384(pepper, password)), and only that goes into bcrypt. The pepper
// comes from configuration, not from the database, so a leaked users table alone is
// not enough to start guessing passwords offline.
//
// bcrypt is deliberately slow and keeps a CPU busy for its whole run. A burst of
// logins must not starve the rest of the service, so at most Config.Concurrency
// hashes run at once; a caller that cannot get a slot within Config.Wait is told the
// service is unavailable (503 with Retry-After) instead of queueing without bound.
package password
