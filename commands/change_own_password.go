package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// ChangeOwnPassword is a logged-in user changing their password.
type ChangeOwnPassword struct {
	Actor           domain.Actor
	CurrentPassword string
	NewPassword     string
}

// ChangeOwnPasswordHandler runs ChangeOwnPassword.
type ChangeOwnPasswordHandler struct {
	store  Store
	hasher PasswordHasher
	clock  Clock
}

// NewChangeOwnPasswordHandler returns a ChangeOwnPasswordHandler.
func NewChangeOwnPasswordHandler(store Store, hasher PasswordHasher, clock Clock) ChangeOwnPasswordHandler {
	return ChangeOwnPasswordHandler{store: store, hasher: hasher, clock: clock}
}

// Handle checks both passwords' rules and that they differ (400), then the current
// password (403), and ends every other session of the user: whoever else held one
// may be why the password is changing. The caller's own session stays.
func (h ChangeOwnPasswordHandler) Handle(ctx context.Context, cmd ChangeOwnPassword) (NoResult, error) {
	if err := domain.Validate(
		domain.ValidatePasswordToCheck("current_password", cmd.CurrentPassword),
		domain.ValidatePassword("new_password", cmd.NewPassword),
	); err != nil {
		return NoResult{}, err
	}
	if cmd.NewPassword == cmd.CurrentPassword {
		return NoResult{}, domain.ValidationError(domain.FieldError{Field: "new_password", Message: "must differ from the current password"})
	}
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
		return tx.Sessions().DeleteByUser(ctx, u.ID(), cmd.Actor.SessionID)
	})
}
