// Package throttle limits what clients may ask of password checks, with one token
// bucket per key:
//
//   - LoginThrottle, commands.LoginThrottle: failed logins per exact username and
//     per client address. Only failures count, so busy users are never slowed by
//     their own successful logins. Callers ask before hashing, so a throttled
//     attempt costs no bcrypt work. Usernames count whether or not they exist, so
//     the throttle does not reveal which ones do. The per-username limit lets
//     anyone delay one user's logins by failing on purpose; that is the price of
//     stopping guesses spread over many addresses.
//   - HashBudget, commands.HashBudget: every hash a client address causes, right
//     password or wrong, signup or login. Hashing capacity is small (a few hashes
//     at once), and without a share per address one client could keep it busy with
//     requests no failure limit sees, such as signups or correct logins to
//     accounts of its own, while everyone else's logins time out waiting for it.
//
// Client addresses are keyed as the login throttle keys them: IPv4 by the address,
// IPv6 by its /64, which one client can roam at will.
//
// Each comes twice: in this process's memory (LoginThrottle, HashBudget), and in
// PostgreSQL (PostgresLoginThrottle, PostgresHashBudget), where every instance of
// the service counts against the same limits. Both pass the same contract suite,
// commandstest.LimitsContract. The PostgreSQL ones keep one row per bucket in the
// terms of the generic cell rate algorithm (the instant it is full again) and one
// row per login attempt in progress; PurgeLimits deletes the rows that count
// nothing any more.
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
// and with it the memory. A hashing budget's key is full again at most burst/limit
// minutes after its last hash, so its map holds about twice the addresses that
// hashed within that time, and no address gets a bucket without a request.
package throttle
