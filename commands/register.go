package commands

import (
	"context"
	"errors"

	"github.com/example/accounts/domain"
)

// registrar creates users; signup, admin creation and the first super admin share it.
type registrar struct {
	store  Store
	hasher PasswordHasher
	// budget is nil for the command line, which answers to no client address.
	budget HashBudget
	ids    IDs
	clock  Clock
}

// register is registerFrom for the command line, which has no client address.
func (r registrar) register(ctx context.Context, reg domain.Registration, password string) (*domain.User, error) {
	return r.registerFrom(ctx, reg, password, "")
}

// registerFrom checks the rules, then the client address's hashing budget, refuses
// a taken username before paying for a hash, and adds the user. The unique index
// still decides when two requests race for one name. reg says who the user is to
// be; registerFrom fills in the id and the hash.
//
// The budget comes before the username check, where the order of checks puts the
// throttle: a client over its budget gets 429 whether or not the name is taken, so
// the answer tells it nothing about the name.
func (r registrar) registerFrom(ctx context.Context, reg domain.Registration, password, clientAddr string) (*domain.User, error) {
	if err := domain.Validate(
		domain.ValidateUsername(reg.Username),
		domain.ValidatePassword("password", password),
	); err != nil {
		return nil, err
	}
	if r.budget != nil {
		if err := spendHashes(ctx, r.budget, clientAddr, 1); err != nil {
			return nil, err
		}
	}
	_, err := r.store.Users().GetByUsername(ctx, reg.Username)
	switch {
	case err == nil:
		return nil, domain.ErrUsernameTaken
	case !errors.Is(err, domain.ErrNotFound):
		return nil, err
	}
	reg.PasswordHash, err = r.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	reg.ID = r.ids.UserID()
	u, err := domain.NewUser(reg, r.clock.Now())
	if err != nil {
		return nil, err
	}
	err = r.store.InTx(ctx, func(ctx context.Context, tx Repositories) error {
		return tx.Users().Add(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
