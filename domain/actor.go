package domain

import "time"

// Actor is the logged-in caller a use case acts for. It is read from the database
// on every request, with the session, so a grant or revoke takes effect at once;
// and it carries the caller's own account as that read found it, so that reading
// one's own account needs no second read.
type Actor struct {
	ID        string
	Role      Role
	SessionID string
	Username  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MayCreate is check 4 of the order of checks for creating a user of role r.
func (a Actor) MayCreate(r Role) error {
	if !a.Role.Manages(r) {
		return ErrForbidden
	}
	return nil
}

// MayManageUsers is check 4 for operations on another user: the caller's role manages
// some role at all.
func (a Actor) MayManageUsers() error {
	if !a.Role.ManagesAnyone() {
		return ErrForbidden
	}
	return nil
}

// MayChangeRoles is check 4 for granting or revoking admin: only a super admin may.
func (a Actor) MayChangeRoles() error {
	if a.Role != RoleSuperAdmin {
		return ErrForbidden
	}
	return nil
}

// MayReadUsers is check 4 for reading other users: admins and super admins may.
func (a Actor) MayReadUsers() error {
	return a.MayManageUsers()
}

// MayManage is check 7: the caller's role manages the target's role, and nobody
// manages themselves through the users API.
func (a Actor) MayManage(target *User) error {
	if target.ID() == a.ID || !a.Role.Manages(target.Role()) {
		return ErrForbidden
	}
	return nil
}
