package domain

// Role is a user's place in the hierarchy super_admin > admin > user. Its string is
// the value stored in the database and sent in JSON.
type Role string

// The three roles.
const (
	RoleSuperAdmin Role = "super_admin"
	RoleAdmin      Role = "admin"
	RoleUser       Role = "user"
)

// ParseRole reads one of the three role strings exactly (case-sensitive).
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleSuperAdmin, RoleAdmin, RoleUser:
		return r, true
	}
	return "", false
}

// Manages reports whether a holder of r may act on a user whose role is target:
// super_admin manages admin and user, admin manages user, and nobody manages a
// super_admin.
func (r Role) Manages(target Role) bool {
	switch r {
	case RoleSuperAdmin:
		return target == RoleAdmin || target == RoleUser
	case RoleAdmin:
		return target == RoleUser
	}
	return false
}

// ManagesAnyone reports whether r manages some role at all: the check that comes
// before looking up a target.
func (r Role) ManagesAnyone() bool {
	return r.Manages(RoleUser)
}

// Assignable reports whether the API may give this role to a user: super_admin is
// only ever made from the command line.
func (r Role) Assignable() bool {
	return r == RoleAdmin || r == RoleUser
}
