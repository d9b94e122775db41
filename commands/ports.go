package commands

import (
	"context"
	"time"

	"github.com/example/accounts/domain"
)

// Users persists users. Lookups that find nothing, malformed ids included, return an
// error matching domain.ErrNotFound; the letter case of an id does not count, that of
// a username does. Add returns an error matching domain.ErrUsernameTaken when the
// username exists. Update writes only what can change after creation: id, username
// and created_at stay as added. Timestamps come back in UTC, to the microsecond.
// Inside a transaction, Get locks the row until commit so that concurrent changes to
// one user are applied one after the other.
//
// commandstest.StoreContract is this contract, and that of Sessions and Store, as a
// test suite.
type Users interface {
	Add(ctx context.Context, u *domain.User) error
	Get(ctx context.Context, id string) (*domain.User, error)
	GetByUsername(ctx context.Context, username string) (*domain.User, error)
	Update(ctx context.Context, u *domain.User) error
}

// Sessions persists sessions.
type Sessions interface {
	// Add fails when the session's user does not exist.
	Add(ctx context.Context, s *domain.Session) error
	// GetWithUser returns the session and its user in one round trip: it runs on every
	// authenticated request. Not found: domain.ErrNotFound.
	GetWithUser(ctx context.Context, id string) (*domain.Session, *domain.User, error)
	// Extend moves the session's expiry.
	Extend(ctx context.Context, id string, expiresAt time.Time) error
	// Delete ends one session; deleting a missing one is not an error. Like every
	// Delete method, it returns how many sessions it deleted: operators count the
	// sessions that end, and why.
	Delete(ctx context.Context, id string) (int, error)
	// DeleteIfExpired ends one session if it has expired at now.
	DeleteIfExpired(ctx context.Context, id string, now time.Time) (int, error)
	// DeleteByUser ends every session of a user except the one named by keep ("" keeps
	// none).
	DeleteByUser(ctx context.Context, userID, keep string) (int, error)
	// DeleteBefore deletes the sessions of a user begun at a user version below
	// version, and returns how many it deleted.
	DeleteBefore(ctx context.Context, userID string, version int64) (int, error)
	// DeleteExpired deletes at most limit sessions that expired at or before now,
	// oldest expiry first, and returns how many it deleted.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)
	// DeleteOldest leaves the user no more than limit (≥ 1) sessions that have not
	// expired at now: the one named by keep always stays and counts among them, the
	// most recently begun of the others fill the rest, and every other session of
	// the user, expired ones included, is deleted. It returns how many it deleted.
	DeleteOldest(ctx context.Context, userID, keep string, now time.Time, limit int) (int, error)
}

// Repositories are the stores a use case works with.
type Repositories interface {
	Users() Users
	Sessions() Sessions
}

// Store gives the repositories outside and inside a transaction.
type Store interface {
	Repositories
	// InTx runs fn in one database transaction: committed when fn returns nil, rolled
	// back otherwise, and fn's error returned unchanged. Every change to a user, and
	// every write that depends on what was read about the user, goes through one InTx
	// call, so it is written whole or not at all. Single-statement session writes
	// (logout, refresh, purge) need none.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Repositories) error) error
}

// PasswordHasher hashes and verifies passwords. Both methods wait for a free hashing
// slot, bounded in time; when none frees up they return an error matching
// domain.ErrUnavailable. Both return ctx's error as soon as ctx ends, even while
// the hash runs: the work then finishes in the background, still in its slot.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches hash. An empty hash never matches but
	// costs as much as a real comparison, so that an unknown username takes as long to
	// refuse as a wrong password.
	Verify(ctx context.Context, hash, password string) (bool, error)
	// Outdated reports whether hash was made with other settings than the current
	// ones (another bcrypt cost, or an earlier format, such as one made before
	// passwords were normalised), so that a login that has just proved the password
	// can store a fresh hash of it.
	Outdated(hash string) bool
	// Same reports whether a and b are one password to Verify: spelt alike, or
	// differently but compared as one (Unicode normalisation).
	Same(a, b string) bool
}

// Tokens turns a session id into the signed token held by the cookie, and back.
type Tokens interface {
	Issue(sessionID string, issuedAt, expiresAt time.Time) (string, error)
	// SessionID checks the token's signature, algorithm and expiry and returns the
	// session it names; any failure is domain.ErrUnauthenticated.
	SessionID(token string) (string, error)
}

// LoginThrottle limits failed logins per username and per client address. A wrong
// current password given to change one's own password is a failed login too: it is
// a guess at the same secret.
type LoginThrottle interface {
	// Begin claims one login attempt before its password is checked. Over the limit
	// it returns how long the caller must wait and claims nothing. Otherwise it returns
	// zero and done, which the caller must call once the attempt's outcome is known:
	// failed counts it against both keys, a success or an error gives the claim back.
	// When only attempts still in progress stand in the way, Begin waits for them to
	// end, since they may well succeed; err is ctx's error if ctx ends first.
	Begin(ctx context.Context, username, clientAddr string) (wait time.Duration, done func(failed bool), err error)
}

// HashBudget shares password hashing out between client addresses, so that no one
// address can keep every hashing slot busy while others wait: every request that
// may hash draws on its address's budget before hashing, whether its credentials
// turn out right or not.
type HashBudget interface {
	// Spend takes n hashes from clientAddr's budget. When fewer than n are left it
	// takes none and returns how long until there are, in whole seconds, since it
	// becomes the Retry-After header. err is set when the budget cannot be read
	// (it is kept in the database, and the database is unavailable).
	Spend(ctx context.Context, clientAddr string, n int) (wait time.Duration, err error)
}

// spendHashes draws the n hashes a request may make from its client address's
// budget, answering 429 when the budget is spent.
func spendHashes(ctx context.Context, budget HashBudget, clientAddr string, n int) error {
	wait, err := budget.Spend(ctx, clientAddr, n)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &domain.Error{Code: domain.CodeRateLimited, Detail: "Too many password operations from this address; try again later.", RetryAfter: wait}
	}
	return nil
}

// SessionCap is the most sessions one user may hold at once; a login beyond it ends
// the user's oldest. Zero sets no cap.
type SessionCap int

// Clock tells the time; tests pass a fixed one.
type Clock interface {
	Now() time.Time
}

// IDs makes new identifiers.
type IDs interface {
	// UserID returns a new UUIDv7 (lowercase, hyphenated).
	UserID() string
	// SessionID returns 256 random bits, base64url-encoded.
	SessionID() (string, error)
}

// NoResult is the result of commands that return nothing but success.
type NoResult struct{}
