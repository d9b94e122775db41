package queries

import (
	"context"

	"github.com/example/accounts/domain"
)

// SortField is a column the user list can be sorted by.
type SortField string

// The sortable columns; the contract fixes their order: username in byte order, role by
// its string, is_active false first.
const (
	SortByUsername  SortField = "username"
	SortByRole      SortField = "role"
	SortByIsActive  SortField = "is_active"
	SortByCreatedAt SortField = "created_at"
	SortByUpdatedAt SortField = "updated_at"
)

// ParseSortField reads a sorting_field value exactly.
func ParseSortField(s string) (SortField, bool) {
	switch f := SortField(s); f {
	case SortByUsername, SortByRole, SortByIsActive, SortByCreatedAt, SortByUpdatedAt:
		return f, true
	}
	return "", false
}

// List bounds and defaults of the contract.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxOffset    = 2147483647
)

// ListUsers is an admin reading a page of users. The port has checked the ranges.
type ListUsers struct {
	Actor      domain.Actor `json:"actor"`
	Limit      int          `json:"limit"`
	Offset     int          `json:"offset"`
	SortField  SortField    `json:"sort_field"`
	Descending bool         `json:"descending"`
}

// UserPage is one page of users and the count of all users.
type UserPage struct {
	Users  []UserView `json:"users"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}

// UserLister reads a sorted page of users, ties broken by id in the same direction,
// and the total count.
type UserLister interface {
	Users(ctx context.Context, q ListUsers) ([]UserView, int, error)
}

// ListUsersHandler runs ListUsers.
type ListUsersHandler struct{ users UserLister }

// NewListUsersHandler returns a ListUsersHandler.
func NewListUsersHandler(users UserLister) ListUsersHandler {
	return ListUsersHandler{users: users}
}

// Handle checks that the actor may read users (403) and reads the page.
func (h ListUsersHandler) Handle(ctx context.Context, q ListUsers) (UserPage, error) {
	if err := q.Actor.MayReadUsers(); err != nil {
		return UserPage{}, err
	}
	users, total, err := h.users.Users(ctx, q)
	if err != nil {
		return UserPage{}, err
	}
	if users == nil {
		users = []UserView{}
	}
	return UserPage{Users: users, Total: total, Limit: q.Limit, Offset: q.Offset}, nil
}
