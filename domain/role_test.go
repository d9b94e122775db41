package domain_test

import (
	"testing"

	"github.com/example/accounts/domain"
)

const (
	sa = domain.RoleSuperAdmin
	ad = domain.RoleAdmin
	us = domain.RoleUser
)

// allRoles includes values that are not roles: they must manage and be managed by
// nobody and never be assignable.
var allRoles = []domain.Role{sa, ad, us, "", "root", "Admin"}

func TestRoleManages(t *testing.T) {
	// The whole hierarchy of the contract; every pair not listed is false.
	manages := map[[2]domain.Role]bool{
		{sa, ad}: true,
		{sa, us}: true,
		{ad, us}: true,
	}
	for _, r := range allRoles {
		for _, target := range allRoles {
			want := manages[[2]domain.Role{r, target}]
			if got := r.Manages(target); got != want {
				t.Errorf("%q.Manages(%q) = %v, want %v", r, target, got, want)
			}
		}
	}
}

func TestRoleManagesAnyone(t *testing.T) {
	want := map[domain.Role]bool{sa: true, ad: true}
	for _, r := range allRoles {
		if got := r.ManagesAnyone(); got != want[r] {
			t.Errorf("%q.ManagesAnyone() = %v, want %v", r, got, want[r])
		}
	}
}

func TestRoleAssignable(t *testing.T) {
	want := map[domain.Role]bool{ad: true, us: true}
	for _, r := range allRoles {
		if got := r.Assignable(); got != want[r] {
			t.Errorf("%q.Assignable() = %v, want %v", r, got, want[r])
		}
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want domain.Role
		ok   bool
	}{
		{"super_admin", sa, true},
		{"admin", ad, true},
		{"user", us, true},
		{"", "", false},
		{"Admin", "", false},
		{"ADMIN", "", false},
		{"User", "", false},
		{"Super_Admin", "", false},
		{"SUPER_ADMIN", "", false},
		{"superadmin", "", false},
		{"super-admin", "", false},
		{" user", "", false},
		{"user ", "", false},
		{"users", "", false},
	}
	for _, tc := range tests {
		got, ok := domain.ParseRole(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
