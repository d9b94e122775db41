package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// SetAdmin is a super admin granting (Admin true) or revoking (false) the admin role.
type SetAdmin struct {
	Actor  domain.Actor
	UserID string
	Admin  bool
}

// SetAdminHandler runs SetAdmin.
type SetAdminHandler struct {
	store Store
	clock Clock
}

// NewSetAdminHandler returns a SetAdminHandler.
func NewSetAdminHandler(store Store, clock Clock) SetAdminHandler {
	return SetAdminHandler{store: store, clock: clock}
}

// Handle changes the role; granting to an admin or revoking from a user changes
// nothing and succeeds.
func (h SetAdminHandler) Handle(ctx context.Context, cmd SetAdmin) (NoResult, error) {
	if err := cmd.Actor.MayChangeRoles(); err != nil {
		return NoResult{}, err
	}
	role := domain.RoleUser
	if cmd.Admin {
		role = domain.RoleAdmin
	}
	return NoResult{}, changeUser(ctx, h.store, cmd.Actor, cmd.UserID, func(_ context.Context, _ Repositories, u *domain.User) (bool, error) {
		return u.SetRole(role, cmd.Actor.ID, h.clock.Now()), nil
	})
}
