package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// SetUserPassword is a manager setting another user's password.
type SetUserPassword struct {
	Actor    domain.Actor
	UserID   string
	Password string
	// ClientAddr is the caller's address, the key of its hashing budget.
	ClientAddr string
}

// SetUserPasswordHandler runs SetUserPassword.
type SetUserPasswordHandler struct {
	store  Store
	hasher PasswordHasher
	budget HashBudget
	clock  Clock
}

// NewSetUserPasswordHandler returns a SetUserPasswordHandler.
func NewSetUserPasswordHandler(store Store, hasher PasswordHasher, budget HashBudget, clock Clock) SetUserPasswordHandler {
	return SetUserPasswordHandler{store: store, hasher: hasher, budget: budget, clock: clock}
}

// Handle sets the password and ends every session of the target in the same
// transaction. The caller's hashing budget is checked after the rules and before
// the target, where the order of checks puts the throttle.
func (h SetUserPasswordHandler) Handle(ctx context.Context, cmd SetUserPassword) (NoResult, error) {
	if err := cmd.Actor.MayManageUsers(); err != nil {
		return NoResult{}, err
	}
	if err := domain.Validate(domain.ValidatePassword("password", cmd.Password)); err != nil {
		return NoResult{}, err
	}
	if err := spendHashes(ctx, h.budget, cmd.ClientAddr, 1); err != nil {
		return NoResult{}, err
	}
	if err := checkTarget(ctx, h.store, cmd.Actor, cmd.UserID); err != nil {
		return NoResult{}, err
	}
	hash, err := h.hasher.Hash(ctx, cmd.Password)
	if err != nil {
		return NoResult{}, err
	}
	return NoResult{}, changeUser(ctx, h.store, cmd.Actor, cmd.UserID, func(ctx context.Context, tx Repositories, u *domain.User) (bool, error) {
		u.SetPassword(hash, cmd.Actor.ID, h.clock.Now())
		_, err := tx.Sessions().DeleteByUser(ctx, u.ID(), "")
		return true, err
	})
}
