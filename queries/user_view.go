package queries

import (
	"time"

	"github.com/example/accounts/domain"
)

// UserView is a user as clients see it: never a password hash.
type UserView struct {
	ID        string      `json:"id"`
	Username  string      `json:"username"`
	Role      domain.Role `json:"role"`
	IsActive  bool        `json:"is_active"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}
