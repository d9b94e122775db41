package commands

import (
	"context"
	"errors"

	"github.com/example/accounts/domain"
)

// CreateSuperAdmin makes a super admin from the command line; the API never can.
type CreateSuperAdmin struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// CreateSuperAdminResult names the super admin and says whether it is new.
type CreateSuperAdminResult struct {
	ID      string `json:"id"`
	Created bool   `json:"created"`
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
	existing, err := h.store.Users().GetByUsername(ctx, cmd.Username)
	switch {
	case err == nil && existing.Role == domain.RoleSuperAdmin:
		return CreateSuperAdminResult{ID: existing.ID}, nil
	case err == nil:
		return CreateSuperAdminResult{}, domain.NewError(domain.CodeUsernameTaken, "The username belongs to a user who is not a super admin.")
	case !errors.Is(err, domain.ErrNotFound):
		return CreateSuperAdminResult{}, err
	}
	u, err := h.register(ctx, cmd.Username, cmd.Password, domain.RoleSuperAdmin)
	if err != nil {
		return CreateSuperAdminResult{}, err
	}
	return CreateSuperAdminResult{ID: u.ID, Created: true}, nil
}
