package commands

import (
	"context"
	"errors"
	"time"

	"github.com/example/accounts/domain"
)

// Login opens a session for a username and password.
type Login struct {
	Username   string
	Password   string
	ClientAddr string
}

// LoginResult is the token for the session cookie and when it expires.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
}

// LoginHandler runs Login.
type LoginHandler struct {
	store      Store
	hasher     PasswordHasher
	tokens     Tokens
	throttle   LoginThrottle
	budget     HashBudget
	ids        IDs
	clock      Clock
	policy     domain.SessionPolicy
	sessionCap SessionCap
}

// NewLoginHandler returns a LoginHandler.
func NewLoginHandler(store Store, hasher PasswordHasher, tokens Tokens, throttle LoginThrottle, budget HashBudget, ids IDs, clock Clock, policy domain.SessionPolicy, sessionCap SessionCap) LoginHandler {
	return LoginHandler{store: store, hasher: hasher, tokens: tokens, throttle: throttle, budget: budget, ids: ids, clock: clock, policy: policy, sessionCap: sessionCap}
}

// Handle checks the rules (400), the throttle and the client address's hashing
// budget (429) before any hashing, then the credentials (401). An unknown username
// and a wrong password fail alike and cost one bcrypt comparison each; an inactive
// account is only told apart after a correct password. Every answer 401 counts
// against the throttle; every attempt let through, right or wrong, draws on the
// budget, since a flood of correct logins takes the hashing slots as surely as
// guesses do.
func (h LoginHandler) Handle(ctx context.Context, cmd Login) (_ LoginResult, err error) {
	if err := domain.Validate(
		domain.ValidateUsername(cmd.Username),
		domain.ValidatePasswordToCheck("password", cmd.Password),
	); err != nil {
		return LoginResult{}, err
	}
	wait, done, err := h.throttle.Begin(ctx, cmd.Username, cmd.ClientAddr)
	if err != nil {
		return LoginResult{}, err
	}
	if wait > 0 {
		return LoginResult{}, &domain.Error{Code: domain.CodeRateLimited, Detail: "Too many failed logins; try again later.", RetryAfter: wait}
	}
	// One hash: the renewal of an outdated hash is left out, being once per user
	// after a change of cost, and best effort anyway.
	if err := spendHashes(ctx, h.budget, cmd.ClientAddr, 1); err != nil {
		done(false)
		return LoginResult{}, err
	}
	// proven: the password was right. An attempt counts as failed when it was
	// answered 401, and also when it was abandoned (the caller stopped waiting)
	// before the password was proven: its hashing is spent all the same, and a
	// client that hangs up mid-attempt must not get unlimited, uncounted guesses.
	var proven bool
	defer func() {
		failed := errors.Is(err, domain.ErrInvalidCredentials) || errors.Is(err, domain.ErrAccountInactive)
		done(failed || !proven && ctx.Err() != nil)
	}()

	u, err := h.store.Users().GetByUsername(ctx, cmd.Username)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return LoginResult{}, err
	}
	var hash string
	if u != nil {
		hash = u.PasswordHash()
	}
	ok, err := h.hasher.Verify(ctx, hash, cmd.Password)
	if err != nil {
		return LoginResult{}, err
	}
	if !ok || u == nil {
		return LoginResult{}, domain.ErrInvalidCredentials
	}
	proven = true
	if !u.IsActive() {
		return LoginResult{}, domain.ErrAccountInactive
	}

	id, err := h.ids.SessionID()
	if err != nil {
		return LoginResult{}, err
	}
	renewed := h.renewedHash(ctx, u.PasswordHash(), cmd.Password)
	now := h.clock.Now()
	var s *domain.Session
	if err := h.store.InTx(ctx, func(ctx context.Context, tx Repositories) (err error) {
		s, err = h.addSession(ctx, tx, u.ID(), id, now, u.PasswordChangedAt(), renewed)
		return err
	}); err != nil {
		return LoginResult{}, err
	}
	token, err := h.tokens.Issue(s.ID, now, s.ExpiresAt)
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Token: token, ExpiresAt: s.ExpiresAt}, nil
}

// renewedHash is a fresh hash of the password just proved when the stored one was
// made with other settings (bcrypt_cost was changed since), so that stored hashes
// follow the configuration as users log in; "" when there is nothing to renew. It
// is best effort: a login never fails because the renewal could not be hashed, and
// the renewal may take at most half the time the login has left, so that it cannot
// be what makes the login miss its deadline.
func (h LoginHandler) renewedHash(ctx context.Context, stored, password string) string {
	if !h.hasher.Outdated(stored) {
		return ""
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Until(deadline)/2)
		defer cancel()
	}
	fresh, err := h.hasher.Hash(ctx, password)
	if err != nil {
		return ""
	}
	return fresh
}

// addSession starts session id of the user once the password verified (the one set
// at verifiedSetAt) is still the user's and the user still active, holding the
// user's row lock; the session remembers the user's version it began at. The hash
// takes time to check: a password change, reset or inactivation committed meanwhile
// ends every session, and must end this one too rather than let it in after them.
// A renewal of the hash by a concurrent login is no change of password. A renewed
// hash of this login's own, if any, is stored in the same transaction.
//
// With a session cap, the user's oldest sessions beyond it end in the same
// transaction, so that logging in over and over cannot grow the sessions table
// without bound. The row lock makes concurrent logins of one user take turns, so
// together they never leave more than the cap.
func (h LoginHandler) addSession(ctx context.Context, tx Repositories, userID, id string, now, verifiedSetAt time.Time, renewed string) (*domain.Session, error) {
	u, err := tx.Users().Get(ctx, userID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return nil, domain.ErrInvalidCredentials
	case err != nil:
		return nil, err
	case !u.PasswordChangedAt().Equal(verifiedSetAt):
		return nil, domain.ErrInvalidCredentials
	case !u.IsActive():
		return nil, domain.ErrAccountInactive
	}
	if renewed != "" {
		u.RenewPasswordHash(renewed)
		if err := tx.Users().Update(ctx, u); err != nil {
			return nil, err
		}
	}
	s := h.policy.NewSession(id, u, now)
	if err := tx.Sessions().Add(ctx, s); err != nil {
		return nil, err
	}
	if h.sessionCap > 0 {
		if _, err := tx.Sessions().DeleteOldest(ctx, u.ID(), s.ID, now, int(h.sessionCap)); err != nil {
			return nil, err
		}
	}
	return s, nil
}
