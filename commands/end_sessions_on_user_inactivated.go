package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// EndSessionsOnUserInactivatedHandler reacts to user.inactivated by deleting the
// session rows the user had when the inactivation committed. Those sessions
// already stopped working at the inactivation itself (the user no longer accepts
// them); this only removes what is left of them, asynchronously, from the outbox.
type EndSessionsOnUserInactivatedHandler struct {
	store Store
}

// NewEndSessionsOnUserInactivatedHandler returns an EndSessionsOnUserInactivatedHandler.
func NewEndSessionsOnUserInactivatedHandler(store Store) EndSessionsOnUserInactivatedHandler {
	return EndSessionsOnUserInactivatedHandler{store: store}
}

// Handle deletes the sessions begun before the inactivation: those of an earlier
// user version than the event's sequence. It may run late, after a reactivation
// and new logins, and it may run twice (delivery is at least once): sessions begun
// after the inactivation are of a later version and survive either way. Other
// events are no concern of it.
func (h EndSessionsOnUserInactivatedHandler) Handle(ctx context.Context, e domain.Event) error {
	if _, ok := e.Data.(domain.UserInactivated); !ok {
		return nil
	}
	_, err := h.store.Sessions().DeleteBefore(ctx, e.UserID, e.Sequence)
	return err
}
