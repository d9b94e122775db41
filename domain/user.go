package domain

import (
	"errors"
	"fmt"
	"time"
)

// User is an account, the one aggregate of the service. Its state changes only
// through its methods, which keep its rules (a user is created valid, a password is
// only ever held as a hash) and record the event of every change that changes
// something, with the user's version after it. The repository that saves a user
// writes those events in the same transaction, so no use case can forget one.
type User struct {
	id           string
	username     string
	passwordHash string
	// passwordChangedAt is when the password was set. Renewing the hash of the same
	// password does not move it: whoever verified a password can tell by it alone
	// whether that password is still the user's.
	passwordChangedAt time.Time
	role              Role
	active            bool
	createdAt         time.Time
	updatedAt         time.Time
	// version counts the user's changes: 1 once created, one more per event.
	version int64
	// sessionsValidFrom is the version from which sessions count: a session begun
	// at an earlier version (before the last inactivation) never works again, even
	// if its row has not been deleted yet and the user was reactivated since.
	sessionsValidFrom int64

	events []Event
}

// Registration is what creating a user takes. The caller has already checked the
// password's rules and hashed it (hashing is slow, so it comes after every cheap
// check).
type Registration struct {
	ID           string
	Username     string
	PasswordHash string
	Role         Role
	// SignUp marks someone registering themselves: the event is user.signed_up,
	// and the role can only be user.
	SignUp bool
	// ActorID is the logged-in admin creating the user; "" for a signup or the
	// command line.
	ActorID string
}

// NewUser creates an active user at version 1 and records its creation event. It
// refuses a registration that breaks the rules: a username against its rules is
// validation_failed, like the request that carried it; anything else is a bug of
// the caller's.
func NewUser(r Registration, now time.Time) (*User, error) {
	if err := Validate(ValidateUsername(r.Username)); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("domain: new user: %w", err)
	}
	now = now.UTC()
	u := &User{
		id:                r.ID,
		username:          r.Username,
		passwordHash:      r.PasswordHash,
		passwordChangedAt: now,
		role:              r.Role,
		active:            true,
		createdAt:         now,
		updatedAt:         now,
	}
	var created EventData = UserCreated{Username: r.Username, Role: r.Role}
	if r.SignUp {
		created = UserSignedUp{Username: r.Username, Role: r.Role}
	}
	u.record(created, r.ActorID, now)
	return u, nil
}

func (r Registration) check() error {
	var errs []error
	if r.ID == "" {
		errs = append(errs, errors.New("no id"))
	}
	if r.PasswordHash == "" {
		errs = append(errs, errors.New("no password hash"))
	}
	if _, ok := ParseRole(string(r.Role)); !ok {
		errs = append(errs, fmt.Errorf("unknown role %q", r.Role))
	}
	if r.SignUp && (r.Role != RoleUser || r.ActorID != "") {
		errs = append(errs, errors.New("a signup makes a user of role user, with no actor"))
	}
	return errors.Join(errs...)
}

// UserRecord is a user as storage keeps it: every field, and no rules. Storage
// builds one to load a user (RestoreUser) and reads one to save it (User.Record).
type UserRecord struct {
	ID                string
	Username          string
	PasswordHash      string
	PasswordChangedAt time.Time
	Role              Role
	IsActive          bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Version           int64
	SessionsValidFrom int64
}

// RestoreUser loads a user from storage as it was saved. Nothing is checked and
// nothing recorded: the rules held when it was saved, and a rule tightened since
// must not make existing users unreadable.
func RestoreUser(r UserRecord) *User {
	return &User{
		id:                r.ID,
		username:          r.Username,
		passwordHash:      r.PasswordHash,
		passwordChangedAt: r.PasswordChangedAt,
		role:              r.Role,
		active:            r.IsActive,
		createdAt:         r.CreatedAt,
		updatedAt:         r.UpdatedAt,
		version:           r.Version,
		sessionsValidFrom: r.SessionsValidFrom,
	}
}

// Record returns the user's state for storage.
func (u *User) Record() UserRecord {
	return UserRecord{
		ID:                u.id,
		Username:          u.username,
		PasswordHash:      u.passwordHash,
		PasswordChangedAt: u.passwordChangedAt,
		Role:              u.role,
		IsActive:          u.active,
		CreatedAt:         u.createdAt,
		UpdatedAt:         u.updatedAt,
		Version:           u.version,
		SessionsValidFrom: u.sessionsValidFrom,
	}
}

func (u *User) ID() string                   { return u.id }
func (u *User) Username() string             { return u.username }
func (u *User) PasswordHash() string         { return u.passwordHash }
func (u *User) PasswordChangedAt() time.Time { return u.passwordChangedAt }
func (u *User) Role() Role                   { return u.role }
func (u *User) IsActive() bool               { return u.active }
func (u *User) CreatedAt() time.Time         { return u.createdAt }
func (u *User) UpdatedAt() time.Time         { return u.updatedAt }
func (u *User) Version() int64               { return u.version }

// SetPassword replaces the password with a new hash. actorID is who did it: the
// user themselves, or a manager setting it for them.
func (u *User) SetPassword(hash, actorID string, now time.Time) {
	u.passwordHash = hash
	u.passwordChangedAt = now.UTC()
	by := ChangedByAdmin
	if actorID == u.id {
		by = ChangedBySelf
	}
	u.record(UserPasswordChanged{By: by}, actorID, now)
}

// RenewPasswordHash stores a fresh hash of the same password, made with the current
// hashing settings. The password did not change, so nothing else does: no event,
// no new version, and neither timestamp moves.
func (u *User) RenewPasswordHash(hash string) {
	u.passwordHash = hash
}

// Inactivate soft-deletes the user and reports whether anything changed. Every
// session begun so far stops working at once, and keeps not working after a
// reactivation.
func (u *User) Inactivate(actorID string, now time.Time) bool {
	if !u.active {
		return false
	}
	u.active = false
	u.record(UserInactivated{}, actorID, now)
	u.sessionsValidFrom = u.version
	return true
}

// Reactivate makes an inactive user active again and reports whether anything
// changed. Sessions from before the inactivation stay ended.
func (u *User) Reactivate(actorID string, now time.Time) bool {
	if u.active {
		return false
	}
	u.active = true
	u.record(UserReactivated{}, actorID, now)
	return true
}

// SetRole moves the user to role r and reports whether anything changed.
func (u *User) SetRole(r Role, actorID string, now time.Time) bool {
	if u.role == r {
		return false
	}
	from := u.role
	u.role = r
	u.record(UserRoleChanged{From: from, To: r}, actorID, now)
	return true
}

// Accepts reports whether session s of this user still works, apart from its
// expiry: the user is active and s was begun after the user's last inactivation.
func (u *User) Accepts(s *Session) bool {
	return u.active && s.UserID == u.id && s.UserVersion >= u.sessionsValidFrom
}

// PopEvents returns the events recorded since the user was created or loaded, or
// since the last call, and forgets them: saving the user writes each event once.
func (u *User) PopEvents() []Event {
	events := u.events
	u.events = nil
	return events
}

// record is the one way state changes become visible: the version moves on, the
// change is stamped, and its event is kept for the repository to write.
func (u *User) record(data EventData, actorID string, now time.Time) {
	now = now.UTC()
	u.version++
	u.updatedAt = now
	u.events = append(u.events, Event{
		UserID:     u.id,
		Sequence:   u.version,
		ActorID:    actorID,
		OccurredAt: now,
		Data:       data,
	})
}
