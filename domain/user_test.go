package domain_test

import (
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

func TestNewUser(t *testing.T) {
	u := domain.NewUser("id-1", "User.Name", "hash", domain.RoleAdmin, created.In(tokyo))
	want := domain.User{
		ID:                "id-1",
		Username:          "User.Name",
		PasswordHash:      "hash",
		PasswordChangedAt: created,
		Role:              domain.RoleAdmin,
		IsActive:          true,
		CreatedAt:         created,
		UpdatedAt:         created,
	}
	if *u != want {
		t.Fatalf("NewUser = %+v, want %+v", *u, want)
	}
	if u.CreatedAt.Location() != time.UTC || u.UpdatedAt.Location() != time.UTC {
		t.Errorf("times in %v and %v, want UTC", u.CreatedAt.Location(), u.UpdatedAt.Location())
	}
}

func TestUserSetActive(t *testing.T) {
	tests := []struct {
		name        string
		from, to    bool
		wantChanged bool
	}{
		{"inactivate active", true, false, true},
		{"reactivate inactive", false, true, true},
		{"inactivate inactive", false, false, false},
		{"reactivate active", true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := domain.NewUser("id", "username", "hash", domain.RoleUser, created)
			u.IsActive = tc.from
			changed := u.SetActive(tc.to, later.In(tokyo))
			if changed != tc.wantChanged {
				t.Errorf("SetActive changed = %v, want %v", changed, tc.wantChanged)
			}
			if u.IsActive != tc.to {
				t.Errorf("IsActive = %v, want %v", u.IsActive, tc.to)
			}
			wantUpdated := created
			if tc.wantChanged {
				wantUpdated = later
			}
			assertUpdatedAt(t, u, wantUpdated)
		})
	}
}

func TestUserSetRole(t *testing.T) {
	roles := []domain.Role{domain.RoleSuperAdmin, domain.RoleAdmin, domain.RoleUser}
	for _, from := range roles {
		for _, to := range roles {
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				u := domain.NewUser("id", "username", "hash", from, created)
				changed := u.SetRole(to, later.In(tokyo))
				if changed != (from != to) {
					t.Errorf("SetRole changed = %v, want %v", changed, from != to)
				}
				if u.Role != to {
					t.Errorf("Role = %q, want %q", u.Role, to)
				}
				wantUpdated := created
				if from != to {
					wantUpdated = later
				}
				assertUpdatedAt(t, u, wantUpdated)
			})
		}
	}
}

func TestUserSetPasswordHashAlwaysTouches(t *testing.T) {
	u := domain.NewUser("id", "username", "old", domain.RoleUser, created)
	u.SetPasswordHash("new", later.In(tokyo))
	if u.PasswordHash != "new" {
		t.Errorf("PasswordHash = %q, want new", u.PasswordHash)
	}
	if !u.PasswordChangedAt.Equal(later) || u.PasswordChangedAt.Location() != time.UTC {
		t.Errorf("PasswordChangedAt = %v, want %v in UTC", u.PasswordChangedAt, later)
	}
	assertUpdatedAt(t, u, later)
	if !u.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt moved to %v", u.CreatedAt)
	}
}

// Renewing the hash of the same password is no change anyone asked for.
func TestUserRenewPasswordHashDoesNotTouch(t *testing.T) {
	u := domain.NewUser("id", "username", "old", domain.RoleUser, created)
	u.RenewPasswordHash("renewed")
	if u.PasswordHash != "renewed" {
		t.Errorf("PasswordHash = %q, want renewed", u.PasswordHash)
	}
	if !u.PasswordChangedAt.Equal(created) {
		t.Errorf("PasswordChangedAt moved to %v", u.PasswordChangedAt)
	}
	assertUpdatedAt(t, u, created)
}

func assertUpdatedAt(t *testing.T, u *domain.User, want time.Time) {
	t.Helper()
	if !u.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v", u.UpdatedAt, want)
	}
	if u.UpdatedAt.Location() != time.UTC {
		t.Errorf("UpdatedAt in %v, want UTC", u.UpdatedAt.Location())
	}
}
