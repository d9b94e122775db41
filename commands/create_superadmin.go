package commands

import (
	"context"
	"errors"

	"github.com/example/accounts/domain"
)

// CreateSuperAdmin makes a super admin from the command line; the API never can.
type CreateSuperAdmin struct {
	Username string
	Password string
}

// CreateSuperAdminResult names the super admin and says whether it is new.
type CreateSuperAdminResult struct {
	ID      string
	Created bool
}

// CreateSuperAdminHandler runs CreateSuperAdmin.
type CreateSuperAdminHandler struct{ registrar }

// NewCreateSuperAdminHandler returns a CreateSuperAdminHandler.
func NewCreateSuperAdminHandler(store Store, hasher PasswordHasher, ids IDs, clock Clock) CreateSuperAdminHandler {
	return CreateSuperAdminHandler{registrar{store: store, hasher: hasher, ids: ids, clock: clock}}
}

// Handle is idempotent: a super admin of that name already existing changes nothing
// and is no error, so provisioning scripts can run it on every deploy. The name
// belonging to a user of another role is username_taken.
func (h CreateSuperAdminHandler) Handle(ctx context.Context, cmd CreateSuperAdmin) (CreateSuperAdminResult, error) {
	if res, taken, err := h.existing(ctx, cmd.Username); taken || err != nil {
		return res, err
	}
	u, err := h.register(ctx, domain.Registration{Username: cmd.Username, Role: domain.RoleSuperAdmin}, cmd.Password)
	if errors.Is(err, domain.ErrUsernameTaken) {
		// Another run took the name between the lookup and the insert, quite
		// possibly making this very super admin: answer as if it had come first.
		if res, taken, lookupErr := h.existing(ctx, cmd.Username); taken || lookupErr != nil {
			return res, lookupErr
		}
	}
	if err != nil {
		return CreateSuperAdminResult{}, err
	}
	return CreateSuperAdminResult{ID: u.ID(), Created: true}, nil
}

// existing answers for a username that is taken; taken is false when nobody has it.
func (h CreateSuperAdminHandler) existing(ctx context.Context, username string) (_ CreateSuperAdminResult, taken bool, _ error) {
	u, err := h.store.Users().GetByUsername(ctx, username)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return CreateSuperAdminResult{}, false, nil
	case err != nil:
		return CreateSuperAdminResult{}, false, err
	case u.Role() != domain.RoleSuperAdmin:
		return CreateSuperAdminResult{}, true, domain.NewError(domain.CodeUsernameTaken, "The username belongs to a user who is not a super admin.")
	}
	return CreateSuperAdminResult{ID: u.ID()}, true, nil
}
