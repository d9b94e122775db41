package queries

import (
	"context"

	"github.com/example/accounts/domain"
)

// UserReader reads one user; not found is domain.ErrNotFound.
type UserReader interface {
	User(ctx context.Context, id string) (UserView, error)
}

// GetUser is an admin reading one user, themselves included.
type GetUser struct {
	Actor  domain.Actor
	UserID string
}

// GetUserHandler runs GetUser.
type GetUserHandler struct{ users UserReader }

// NewGetUserHandler returns a GetUserHandler.
func NewGetUserHandler(users UserReader) GetUserHandler { return GetUserHandler{users: users} }

// Handle checks that the actor may read users (403), then finds the user (404).
func (h GetUserHandler) Handle(ctx context.Context, q GetUser) (UserView, error) {
	if err := q.Actor.MayReadUsers(); err != nil {
		return UserView{}, err
	}
	return h.users.User(ctx, q.UserID)
}
