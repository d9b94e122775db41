package domain

import "time"

// User is an account. Its password is only ever held as a hash.
type User struct {
	ID           string
	Username     string
	PasswordHash string
	// PasswordChangedAt is when the password was set. Renewing the hash of the same
	// password does not move it: whoever verified a password can tell by it alone
	// whether that password is still the user's.
	PasswordChangedAt time.Time
	Role              Role
	IsActive          bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// NewUser builds an active user. The caller has already checked the username and
// hashed the password (hashing is slow, so it comes after every cheap check).
func NewUser(id, username, passwordHash string, role Role, now time.Time) *User {
	now = now.UTC()
	return &User{
		ID:                id,
		Username:          username,
		PasswordHash:      passwordHash,
		PasswordChangedAt: now,
		Role:              role,
		IsActive:          true,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
}

// SetPasswordHash replaces the password.
func (u *User) SetPasswordHash(hash string, now time.Time) {
	u.PasswordHash = hash
	u.PasswordChangedAt = now.UTC()
	u.touch(now)
}

// RenewPasswordHash stores a fresh hash of the same password, made with the current
// hashing settings. The password did not change, so neither do PasswordChangedAt
// and UpdatedAt.
func (u *User) RenewPasswordHash(hash string) {
	u.PasswordHash = hash
}

// SetActive makes the user active or inactive (soft delete) and reports whether
// anything changed: repeating a request changes nothing and emits nothing.
func (u *User) SetActive(active bool, now time.Time) bool {
	if u.IsActive == active {
		return false
	}
	u.IsActive = active
	u.touch(now)
	return true
}

// SetRole moves the user to role r and reports whether anything changed.
func (u *User) SetRole(r Role, now time.Time) bool {
	if u.Role == r {
		return false
	}
	u.Role = r
	u.touch(now)
	return true
}

func (u *User) touch(now time.Time) {
	u.UpdatedAt = now.UTC()
}
