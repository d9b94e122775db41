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
	ids    IDs
	clock  Clock
}

// register checks the rules, refuses a taken username before paying for a hash, and
// adds the user. The unique index still decides when two requests race for one name.
// reg says who the user is to be; register fills in the id and the hash.
func (r registrar) register(ctx context.Context, reg domain.Registration, password string) (*domain.User, error) {
	if err := domain.Validate(
		domain.ValidateUsername(reg.Username),
		domain.ValidatePassword("password", password),
	); err != nil {
		return nil, err
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
