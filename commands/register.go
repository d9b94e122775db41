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
func (r registrar) register(ctx context.Context, username, password string, role domain.Role) (*domain.User, error) {
	if err := domain.Validate(
		domain.ValidateUsername(username),
		domain.ValidatePassword("password", password),
	); err != nil {
		return nil, err
	}
	if _, err := r.store.Users().GetByUsername(ctx, username); err == nil {
		return nil, domain.ErrUsernameTaken
	} else if !errors.Is(err, domain.ErrNotFound) {
		return nil, err
	}
	hash, err := r.hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	u := domain.NewUser(r.ids.UserID(), username, hash, role, r.clock.Now())
	err = r.store.InTx(ctx, func(ctx context.Context, tx Repositories) error {
		return tx.Users().Add(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
