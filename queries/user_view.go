package queries

import (
	"time"

	"github.com/example/accounts/domain"
)

// UserView is a user as clients see it: never a password hash.
type UserView struct {
	ID        string
	Username  string
	Role      domain.Role
	IsActive  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}
