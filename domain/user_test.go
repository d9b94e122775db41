package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/example/accounts/domain"
)

var (
	created = time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	later   = created.Add(90 * time.Minute)
	// A zone east of UTC, to check that times are stored as UTC.
	tokyo = time.FixedZone("JST", 9*60*60)
)

const (
	userID  = "0190b3a2-0000-7000-8000-000000000001"
	adminID = "0190b3a2-0000-7000-8000-000000000002"
)

// newUser is a user created by an admin at created, whose creation event has been
// taken already, as after it was saved.
func newUser(t *testing.T, role domain.Role) *domain.User {
	t.Helper()
	u, err := domain.NewUser(domain.Registration{
		ID: userID, Username: "username", PasswordHash: "hash", Role: role, ActorID: adminID,
	}, created)
	if err != nil {
		t.Fatal(err)
	}
	u.PopEvents()
	return u
}

func TestNewUser(t *testing.T) {
	tests := []struct {
		name      string
		reg       domain.Registration
		wantEvent domain.Event
	}{
		{
			"signup",
			domain.Registration{ID: userID, Username: "User.Name", PasswordHash: "hash", Role: domain.RoleUser, SignUp: true},
			domain.Event{UserID: userID, Sequence: 1, OccurredAt: created,
				Data: domain.UserSignedUp{Username: "User.Name", Role: domain.RoleUser}},
		},
		{
			"created by an admin",
			domain.Registration{ID: userID, Username: "User.Name", PasswordHash: "hash", Role: domain.RoleAdmin, ActorID: adminID},
			domain.Event{UserID: userID, Sequence: 1, ActorID: adminID, OccurredAt: created,
				Data: domain.UserCreated{Username: "User.Name", Role: domain.RoleAdmin}},
		},
		{
			"super admin from the command line",
			domain.Registration{ID: userID, Username: "User.Name", PasswordHash: "hash", Role: domain.RoleSuperAdmin},
			domain.Event{UserID: userID, Sequence: 1, OccurredAt: created,
				Data: domain.UserCreated{Username: "User.Name", Role: domain.RoleSuperAdmin}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := domain.NewUser(tc.reg, created.In(tokyo))
			if err != nil {
				t.Fatalf("NewUser: %v", err)
			}
			want := domain.UserRecord{
				ID:                userID,
				Username:          "User.Name",
				PasswordHash:      "hash",
				PasswordChangedAt: created,
				Role:              tc.reg.Role,
				IsActive:          true,
				CreatedAt:         created,
				UpdatedAt:         created,
				Version:           1,
			}
			assertRecord(t, u, want)
			assertEvents(t, u, tc.wantEvent)
		})
	}
}

func TestNewUserRefusesWhatBreaksTheRules(t *testing.T) {
	valid := domain.Registration{ID: userID, Username: "username", PasswordHash: "hash", Role: domain.RoleUser}
	tests := []struct {
		name          string
		change        func(*domain.Registration)
		wantValidated bool // validation_failed, as a client's mistake
	}{
		{"username against its rules", func(r *domain.Registration) { r.Username = "user..name" }, true},
		{"no id", func(r *domain.Registration) { r.ID = "" }, false},
		{"no hash", func(r *domain.Registration) { r.PasswordHash = "" }, false},
		{"unknown role", func(r *domain.Registration) { r.Role = "owner" }, false},
		{"signup as an admin", func(r *domain.Registration) { r.SignUp, r.Role = true, domain.RoleAdmin }, false},
		{"signup with an actor", func(r *domain.Registration) { r.SignUp, r.ActorID = true, adminID }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid
			tc.change(&r)
			u, err := domain.NewUser(r, created)
			if err == nil {
				t.Fatalf("NewUser = %+v, want an error", u.Record())
			}
			if got := errors.Is(err, domain.ValidationError()); got != tc.wantValidated {
				t.Errorf("NewUser error %v: validation_failed %v, want %v", err, got, tc.wantValidated)
			}
		})
	}
}

func TestUserInactivateAndReactivate(t *testing.T) {
	u := newUser(t, domain.RoleUser)

	if u.Reactivate(adminID, later) {
		t.Error("Reactivate of an active user changed something")
	}
	assertEvents(t, u)

	if !u.Inactivate(adminID, later.In(tokyo)) {
		t.Fatal("Inactivate of an active user changed nothing")
	}
	if u.IsActive() {
		t.Error("still active after Inactivate")
	}
	assertEvents(t, u, domain.Event{UserID: userID, Sequence: 2, ActorID: adminID, OccurredAt: later, Data: domain.UserInactivated{}})
	if u.Inactivate(adminID, later) {
		t.Error("Inactivate of an inactive user changed something")
	}
	assertEvents(t, u)

	if !u.Reactivate(adminID, later.Add(time.Minute)) {
		t.Fatal("Reactivate of an inactive user changed nothing")
	}
	assertEvents(t, u, domain.Event{UserID: userID, Sequence: 3, ActorID: adminID, OccurredAt: later.Add(time.Minute), Data: domain.UserReactivated{}})
	if !u.IsActive() || u.Version() != 3 || !u.UpdatedAt().Equal(later.Add(time.Minute)) {
		t.Errorf("after Reactivate: %+v", u.Record())
	}
}

// The request path refuses an inactive user's sessions at once, and the rows are
// deleted later: a reactivation in between must not bring them back.
func TestUserAcceptsOnlySessionsSinceTheLastInactivation(t *testing.T) {
	u := newUser(t, domain.RoleUser)
	before := defaultPolicy.NewSession("before", u, created)
	other := defaultPolicy.NewSession("other", domain.RestoreUser(domain.UserRecord{ID: adminID, IsActive: true, Version: 1}), created)
	if !u.Accepts(before) {
		t.Fatal("a fresh session is refused")
	}
	if u.Accepts(other) {
		t.Error("another user's session is accepted")
	}

	u.SetRole(domain.RoleAdmin, adminID, later)
	if !u.Accepts(before) {
		t.Error("a role change ended the session")
	}

	u.Inactivate(adminID, later)
	if u.Accepts(before) {
		t.Error("an inactive user's session is accepted")
	}
	u.Reactivate(adminID, later)
	if u.Accepts(before) {
		t.Error("a session from before the inactivation works again after the reactivation")
	}
	after := defaultPolicy.NewSession("after", u, later)
	if !u.Accepts(after) {
		t.Error("a session begun after the reactivation is refused")
	}
}

func TestUserSetRole(t *testing.T) {
	roles := []domain.Role{domain.RoleSuperAdmin, domain.RoleAdmin, domain.RoleUser}
	for _, from := range roles {
		for _, to := range roles {
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				u := newUser(t, from)
				changed := u.SetRole(to, adminID, later.In(tokyo))
				if changed != (from != to) {
					t.Errorf("SetRole changed = %v, want %v", changed, from != to)
				}
				if u.Role() != to {
					t.Errorf("Role = %q, want %q", u.Role(), to)
				}
				if !changed {
					assertEvents(t, u)
					assertUpdatedAt(t, u, created)
					return
				}
				assertEvents(t, u, domain.Event{UserID: userID, Sequence: 2, ActorID: adminID, OccurredAt: later,
					Data: domain.UserRoleChanged{From: from, To: to}})
				assertUpdatedAt(t, u, later)
			})
		}
	}
}

func TestUserSetPassword(t *testing.T) {
	for _, tc := range []struct {
		actor string
		want  domain.PasswordChanger
	}{{userID, domain.ChangedBySelf}, {adminID, domain.ChangedByAdmin}} {
		t.Run(string(tc.want), func(t *testing.T) {
			u := newUser(t, domain.RoleUser)
			u.SetPassword("new", tc.actor, later.In(tokyo))
			if u.PasswordHash() != "new" {
				t.Errorf("PasswordHash = %q, want new", u.PasswordHash())
			}
			if !u.PasswordChangedAt().Equal(later) || u.PasswordChangedAt().Location() != time.UTC {
				t.Errorf("PasswordChangedAt = %v, want %v in UTC", u.PasswordChangedAt(), later)
			}
			assertUpdatedAt(t, u, later)
			assertEvents(t, u, domain.Event{UserID: userID, Sequence: 2, ActorID: tc.actor, OccurredAt: later,
				Data: domain.UserPasswordChanged{By: tc.want}})
		})
	}
}

// Renewing the hash of the same password is no change anyone asked for.
func TestUserRenewPasswordHashChangesNothingElse(t *testing.T) {
	u := newUser(t, domain.RoleUser)
	want := u.Record()
	want.PasswordHash = "renewed"
	u.RenewPasswordHash("renewed")
	assertRecord(t, u, want)
	assertEvents(t, u)
}

// Every change moves the version on by one, so consumers see no gaps.
func TestUserSequenceHasNoGaps(t *testing.T) {
	u, err := domain.NewUser(domain.Registration{ID: userID, Username: "username", PasswordHash: "h", Role: domain.RoleUser, SignUp: true}, created)
	if err != nil {
		t.Fatal(err)
	}
	u.SetRole(domain.RoleAdmin, adminID, later)
	u.SetRole(domain.RoleAdmin, adminID, later) // no change, no event
	u.SetPassword("h2", userID, later)
	events := u.PopEvents()
	u.Inactivate(adminID, later)
	events = append(events, u.PopEvents()...)
	for i, e := range events {
		if e.Sequence != int64(i+1) {
			t.Errorf("event %d (%s) has sequence %d, want %d", i, e.Type(), e.Sequence, i+1)
		}
	}
	if len(events) != 4 || u.Version() != 4 {
		t.Errorf("%d events, version %d; want 4 and 4", len(events), u.Version())
	}
}

func TestRestoreUserIsTheRecordAndRecordsNothing(t *testing.T) {
	r := domain.UserRecord{
		ID: userID, Username: "x", PasswordHash: "h", PasswordChangedAt: created, Role: domain.RoleAdmin,
		IsActive: false, CreatedAt: created, UpdatedAt: later, Version: 7, SessionsValidFrom: 5,
	}
	u := domain.RestoreUser(r)
	assertRecord(t, u, r) // a username the rules refuse loads all the same
	assertEvents(t, u)
}

func TestEveryEventTypeHasItsWireName(t *testing.T) {
	data := []domain.EventData{
		domain.UserSignedUp{}, domain.UserCreated{}, domain.UserInactivated{},
		domain.UserReactivated{}, domain.UserRoleChanged{}, domain.UserPasswordChanged{},
	}
	want := []domain.EventType{
		"user.signed_up", "user.created", "user.inactivated",
		"user.reactivated", "user.role_changed", "user.password_changed",
	}
	if !reflect.DeepEqual(domain.EventTypes(), want) {
		t.Errorf("EventTypes() = %v, want %v", domain.EventTypes(), want)
	}
	for i, d := range data {
		if d.EventType() != want[i] || d.SchemaVersion() != 1 {
			t.Errorf("%T: %s version %d, want %s version 1", d, d.EventType(), d.SchemaVersion(), want[i])
		}
	}
}

func assertRecord(t *testing.T, u *domain.User, want domain.UserRecord) {
	t.Helper()
	if got := u.Record(); got != want {
		t.Errorf("user =\n %+v\nwant\n %+v", got, want)
	}
	for name, at := range map[string]time.Time{"CreatedAt": u.CreatedAt(), "UpdatedAt": u.UpdatedAt(), "PasswordChangedAt": u.PasswordChangedAt()} {
		if !at.IsZero() && at.Location() != time.UTC {
			t.Errorf("%s in %v, want UTC", name, at.Location())
		}
	}
}

// assertEvents pops the user's recorded events and compares them with want.
func assertEvents(t *testing.T, u *domain.User, want ...domain.Event) {
	t.Helper()
	got := u.PopEvents()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events =\n %+v\nwant\n %+v", got, want)
	}
	for _, e := range got {
		if e.OccurredAt.Location() != time.UTC {
			t.Errorf("%s occurred in %v, want UTC", e.Type(), e.OccurredAt.Location())
		}
	}
}

func assertUpdatedAt(t *testing.T, u *domain.User, want time.Time) {
	t.Helper()
	if !u.UpdatedAt().Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v", u.UpdatedAt(), want)
	}
	if u.UpdatedAt().Location() != time.UTC {
		t.Errorf("UpdatedAt in %v, want UTC", u.UpdatedAt().Location())
	}
}
