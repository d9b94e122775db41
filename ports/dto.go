package ports

import (
	"time"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// Request bodies hold only what a client may send. Every member is a required string
// (see text), so a body that decodes has every field the endpoint needs.

// credentialsRequest is the body of signup and login.
type credentialsRequest struct {
	Username text `json:"username"`
	Password text `json:"password"`
}

// changePasswordRequest is the body of PUT /api/v1/account/password.
type changePasswordRequest struct {
	CurrentPassword text `json:"current_password"`
	NewPassword     text `json:"new_password"`
}

// createUserRequest is the body of POST /api/v1/users.
type createUserRequest struct {
	Username text `json:"username"`
	Password text `json:"password"`
	Role     text `json:"role"`
}

// role is the requested role. Only the roles the API may assign parse: super_admin is
// a shape error here (400), not a permission one, because no caller may ever ask for it.
func (r createUserRequest) role() (domain.Role, error) {
	if role, ok := domain.ParseRole(r.Role.value); ok && role.Assignable() {
		return role, nil
	}
	return "", invalidRequest("The role cannot be assigned.",
		domain.FieldError{Field: "role", Message: `must be "user" or "admin"`})
}

// setPasswordRequest is the body of PUT /api/v1/users/{id}/password.
type setPasswordRequest struct {
	Password text `json:"password"`
}

// timestampLayout is RFC 3339 in UTC with exactly six fractional digits, which
// time.RFC3339Nano would trim.
const timestampLayout = "2006-01-02T15:04:05.000000Z"

func timestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// userResponse is the user object of the contract; it has no place for a password hash.
type userResponse struct {
	ID        string      `json:"id"`
	Username  string      `json:"username"`
	Role      domain.Role `json:"role"`
	IsActive  bool        `json:"is_active"`
	CreatedAt string      `json:"created_at"`
	UpdatedAt string      `json:"updated_at"`
}

func newUserResponse(u queries.UserView) userResponse {
	return userResponse{
		ID:        u.ID,
		Username:  u.Username,
		Role:      u.Role,
		IsActive:  u.IsActive,
		CreatedAt: timestamp(u.CreatedAt),
		UpdatedAt: timestamp(u.UpdatedAt),
	}
}

// pageResponse is one page of the user list; users is [] rather than null when empty,
// and next_cursor null on the last page.
type pageResponse struct {
	Users      []userResponse `json:"users"`
	Total      int            `json:"total"`
	Limit      int            `json:"limit"`
	Offset     int            `json:"offset"`
	NextCursor *string        `json:"next_cursor"`
}

func newPageResponse(p queries.UserPage) pageResponse {
	users := make([]userResponse, 0, len(p.Users))
	for _, u := range p.Users {
		users = append(users, newUserResponse(u))
	}
	page := pageResponse{Users: users, Total: p.Total, Limit: p.Limit, Offset: p.Offset}
	if p.Next != nil {
		token := p.Next.Token()
		page.NextCursor = &token
	}
	return page
}

// signupResponse names the new account.
type signupResponse struct {
	ID string `json:"id"`
}

// createdUserResponse names the account an admin created.
type createdUserResponse struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
}

// statusResponse is the body of the index and health endpoints.
type statusResponse struct {
	Status string `json:"status"`
}

var statusOK = statusResponse{Status: "ok"}
