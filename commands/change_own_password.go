package commands

import (
	"context"
	"errors"

	"github.com/example/accounts/domain"
)

// ChangeOwnPassword is a logged-in user changing their password.
type ChangeOwnPassword struct {
	Actor           domain.Actor
	CurrentPassword string
	NewPassword     string
	// ClientAddr is the caller's address: the key of its hashing budget, and one of
	// the keys a wrong current password counts against.
	ClientAddr string
}

// ChangeOwnPasswordHandler runs ChangeOwnPassword.
type ChangeOwnPasswordHandler struct {
	store    Store
	hasher   PasswordHasher
	throttle LoginThrottle
	budget   HashBudget
	clock    Clock
}

// NewChangeOwnPasswordHandler returns a ChangeOwnPasswordHandler.
func NewChangeOwnPasswordHandler(store Store, hasher PasswordHasher, throttle LoginThrottle, budget HashBudget, clock Clock) ChangeOwnPasswordHandler {
	return ChangeOwnPasswordHandler{store: store, hasher: hasher, throttle: throttle, budget: budget, clock: clock}
}

// Handle checks both passwords' rules and that they differ (400), then the throttle
// and the hashing budget (429) before any hashing, then the current password (403),
// and ends every other session of the user: whoever else held one may be why the
// password is changing. The caller's own session stays.
//
// A wrong current password counts as a failed login of the caller's username, from
// the caller's address, exactly as the login throttle counts them: whoever holds a
// stolen session must not get unlimited guesses at the one secret its owner needs
// to take the account back. So once the limit is reached even the right current
// password is refused until the window passes, as a login would be.
func (h ChangeOwnPasswordHandler) Handle(ctx context.Context, cmd ChangeOwnPassword) (_ NoResult, err error) {
	if err := domain.Validate(
		domain.ValidatePasswordToCheck("current_password", cmd.CurrentPassword),
		domain.ValidatePassword("new_password", cmd.NewPassword),
	); err != nil {
		return NoResult{}, err
	}
	if h.hasher.Same(cmd.NewPassword, cmd.CurrentPassword) {
		return NoResult{}, domain.ValidationError(domain.FieldError{Field: "new_password", Message: "must differ from the current password"})
	}
	wait, done, err := h.throttle.Begin(ctx, cmd.Actor.Username, cmd.ClientAddr)
	if err != nil {
		return NoResult{}, err
	}
	if wait > 0 {
		return NoResult{}, &domain.Error{Code: domain.CodeRateLimited, Detail: "Too many wrong passwords for this account; try again later.", RetryAfter: wait}
	}
	// Two hashes: the check of the current password and the new one's.
	if err := spendHashes(ctx, h.budget, cmd.ClientAddr, 2); err != nil {
		done(false)
		return NoResult{}, err
	}
	// As for a login, an attempt abandoned before the current password was proven
	// counts as failed: its hashing is spent, and hanging up must not buy uncounted
	// guesses. A concurrent change refused after the proof is no guess.
	var proven bool
	defer func() {
		done(!proven && (errors.Is(err, domain.ErrInvalidCurrentPassword) || ctx.Err() != nil))
	}()

	current, err := h.store.Users().Get(ctx, cmd.Actor.ID)
	if err != nil {
		return NoResult{}, err
	}
	ok, err := h.hasher.Verify(ctx, current.PasswordHash(), cmd.CurrentPassword)
	if err != nil {
		return NoResult{}, err
	}
	if !ok {
		return NoResult{}, domain.ErrInvalidCurrentPassword
	}
	proven = true
	hash, err := h.hasher.Hash(ctx, cmd.NewPassword)
	if err != nil {
		return NoResult{}, err
	}
	return NoResult{}, h.store.InTx(ctx, func(ctx context.Context, tx Repositories) error {
		u, err := tx.Users().Get(ctx, cmd.Actor.ID)
		if err != nil {
			return err
		}
		// The password checked above was read before the row lock: if another
		// change or a reset committed meanwhile, the current password is no longer
		// the one the caller proved, and last-writer-wins would let an old password
		// override the new one. (A login renewing the hash changes no password.)
		if !u.PasswordChangedAt().Equal(current.PasswordChangedAt()) {
			return domain.ErrInvalidCurrentPassword
		}
		u.SetPassword(hash, cmd.Actor.ID, h.clock.Now())
		if err := tx.Users().Update(ctx, u); err != nil {
			return err
		}
		_, err = tx.Sessions().DeleteByUser(ctx, u.ID(), cmd.Actor.SessionID)
		return err
	})
}
