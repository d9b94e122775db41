// Package throttle limits failed logins for commands.LoginThrottle, per exact
// username and per client address, with one token bucket per key.
//
// Only failures count, so busy users are never slowed by their own successful
// logins. Callers ask Wait before hashing, so a throttled attempt costs no bcrypt
// work. Usernames count whether or not they exist, so the throttle does not reveal
// which ones do. The per-username limit lets anyone delay one user's logins by failing
// on purpose; that is the price of stopping guesses spread over many addresses.
//
// # Memory
//
// An attacker can try as many usernames as it likes, so buckets must not pile up. A
// bucket that has refilled completely behaves exactly like no bucket, so it is dropped
// without losing anything. Each map is swept for such buckets when it has doubled
// since the last sweep (but not below 1024 entries), and at least once a minute while
// the throttle is in use. A sweep is linear in the map; the doubling makes that
// constant amortized time per new key.
//
// The bound: a key that failed once is full again 60/limit seconds later, so a map
// holds at most about twice the keys that failed within the last minute (a key that
// failed beyond its limit stays longer, by its own extra failures). Every failure
// costs the attacker a bcrypt comparison, so hashing capacity bounds the failure rate
// and with it the memory.
package throttle
