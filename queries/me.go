package queries

import (
	"context"

	"github.com/example/accounts/domain"
)

// Me is the logged-in caller reading their own account.
type Me struct {
	Actor domain.Actor `json:"actor"`
}

// MeHandler runs Me.
type MeHandler struct{ users UserReader }

// NewMeHandler returns a MeHandler.
func NewMeHandler(users UserReader) MeHandler { return MeHandler{users: users} }

// Handle returns the caller's own user object.
func (h MeHandler) Handle(ctx context.Context, q Me) (UserView, error) {
	return h.users.User(ctx, q.Actor.ID)
}
