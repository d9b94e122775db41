package queries

import (
	"context"

	"github.com/example/accounts/domain"
)

// Me is the logged-in caller reading their own account.
type Me struct {
	Actor domain.Actor
}

// MeHandler runs Me.
type MeHandler struct{}

// NewMeHandler returns a MeHandler.
func NewMeHandler() MeHandler { return MeHandler{} }

// Handle returns the caller's own user object as authentication read it, in the
// same statement as the session: reading it again would cost a round trip and
// could only find what this request's authentication has just found. An actor is
// always active; an inactive user's session does not authenticate.
func (MeHandler) Handle(_ context.Context, q Me) (UserView, error) {
	a := q.Actor
	return UserView{ID: a.ID, Username: a.Username, Role: a.Role, IsActive: true, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}, nil
}
