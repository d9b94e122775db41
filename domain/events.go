package domain

import "time"

// EventType is the stable name of one kind of user event on the wire. It names the
// fact, not the Go type that carries it, so renaming code never renames an event.
type EventType string

// The user events. Each is recorded by the User aggregate as it changes, so a use
// case cannot make a change and forget its event.
const (
	EventUserSignedUp        EventType = "user.signed_up"
	EventUserCreated         EventType = "user.created"
	EventUserInactivated     EventType = "user.inactivated"
	EventUserReactivated     EventType = "user.reactivated"
	EventUserRoleChanged     EventType = "user.role_changed"
	EventUserPasswordChanged EventType = "user.password_changed"
)

// EventTypes lists every event type, in the order of the contract's table.
func EventTypes() []EventType {
	return []EventType{
		EventUserSignedUp, EventUserCreated, EventUserInactivated,
		EventUserReactivated, EventUserRoleChanged, EventUserPasswordChanged,
	}
}

// Event is one committed change of one user: what happened (Data, whose type names
// the event), to whom, by whom and when, and where it stands among that user's
// events. Consumers order one user's events by Sequence and drop stale ones.
type Event struct {
	UserID string
	// Sequence is the user's version after the change: 1 for the event that created
	// the user, then one more per change, with no gaps.
	Sequence int64
	// ActorID is the logged-in caller who made the change; "" when nobody logged in
	// did (signup, the command line).
	ActorID    string
	OccurredAt time.Time
	Data       EventData
}

// Type is the event's wire name.
func (e Event) Type() EventType { return e.Data.EventType() }

// EventData is what one kind of event says beyond the envelope. The set is closed:
// only the types of this file implement it.
type EventData interface {
	EventType() EventType
	// SchemaVersion is the version of this event type's wire schema. It changes
	// only when the shape of Data changes incompatibly.
	SchemaVersion() int
	sealed()
}

// UserSignedUp: someone registered themselves.
type UserSignedUp struct {
	Username string `json:"username"`
	Role     Role   `json:"role"`
}

// UserCreated: an admin created a user, or the command line a super admin.
type UserCreated struct {
	Username string `json:"username"`
	Role     Role   `json:"role"`
}

// UserInactivated: the user was soft-deleted; every session of theirs ends.
type UserInactivated struct{}

// UserReactivated: an inactive user was made active again.
type UserReactivated struct{}

// UserRoleChanged: the admin role was granted or revoked.
type UserRoleChanged struct {
	From Role `json:"from"`
	To   Role `json:"to"`
}

// PasswordChanger says whose hand changed a password.
type PasswordChanger string

// Who may change a password: the user, or a manager of theirs.
const (
	ChangedBySelf  PasswordChanger = "self"
	ChangedByAdmin PasswordChanger = "admin"
)

// UserPasswordChanged: the password was changed by its owner or set by an admin.
type UserPasswordChanged struct {
	By PasswordChanger `json:"by"`
}

func (UserSignedUp) EventType() EventType        { return EventUserSignedUp }
func (UserCreated) EventType() EventType         { return EventUserCreated }
func (UserInactivated) EventType() EventType     { return EventUserInactivated }
func (UserReactivated) EventType() EventType     { return EventUserReactivated }
func (UserRoleChanged) EventType() EventType     { return EventUserRoleChanged }
func (UserPasswordChanged) EventType() EventType { return EventUserPasswordChanged }

func (UserSignedUp) SchemaVersion() int        { return 1 }
func (UserCreated) SchemaVersion() int         { return 1 }
func (UserInactivated) SchemaVersion() int     { return 1 }
func (UserReactivated) SchemaVersion() int     { return 1 }
func (UserRoleChanged) SchemaVersion() int     { return 1 }
func (UserPasswordChanged) SchemaVersion() int { return 1 }

func (UserSignedUp) sealed()        {}
func (UserCreated) sealed()         {}
func (UserInactivated) sealed()     {}
func (UserReactivated) sealed()     {}
func (UserRoleChanged) sealed()     {}
func (UserPasswordChanged) sealed() {}
