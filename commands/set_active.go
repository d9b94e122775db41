package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// SetActive is a manager reactivating (Active true) or inactivating (false, the soft
// delete) a user.
type SetActive struct {
	Actor  domain.Actor
	UserID string
	Active bool
}

// SetActiveHandler runs SetActive.
type SetActiveHandler struct {
	store Store
	clock Clock
}

// NewSetActiveHandler returns a SetActiveHandler.
func NewSetActiveHandler(store Store, clock Clock) SetActiveHandler {
	return SetActiveHandler{store: store, clock: clock}
}

// Handle changes the state; asking for the state the user is already in changes
// nothing and succeeds. An inactivated user's sessions stop working at once, since
// the request path asks the user whether it still accepts a session; their rows
// are deleted afterwards, by EndSessionsOnUserInactivated.
func (h SetActiveHandler) Handle(ctx context.Context, cmd SetActive) (NoResult, error) {
	if err := cmd.Actor.MayManageUsers(); err != nil {
		return NoResult{}, err
	}
	return NoResult{}, changeUser(ctx, h.store, cmd.Actor, cmd.UserID, func(_ context.Context, _ Repositories, u *domain.User) (bool, error) {
		if cmd.Active {
			return u.Reactivate(cmd.Actor.ID, h.clock.Now()), nil
		}
		return u.Inactivate(cmd.Actor.ID, h.clock.Now()), nil
	})
}
