package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/example/accounts/domain"
)

// TestActorChecks spells out, for every caller role and target role, which operation
// is allowed (true) and which is forbidden (false).
func TestActorChecks(t *testing.T) {
	tests := []struct {
		caller, target domain.Role
		// Check 4.
		createWithRole bool
		manageUsers    bool
		changeRoles    bool
		readUsers      bool
		// Check 7.
		manageOther bool
		manageSelf  bool
	}{
		{sa, sa, false, true, true, true, false, false},
		{sa, ad, true, true, true, true, true, false},
		{sa, us, true, true, true, true, true, false},
		{ad, sa, false, true, false, true, false, false},
		{ad, ad, false, true, false, true, false, false},
		{ad, us, true, true, false, true, true, false},
		{us, sa, false, false, false, false, false, false},
		{us, ad, false, false, false, false, false, false},
		{us, us, false, false, false, false, false, false},
	}
	for _, tc := range tests {
		actor := domain.Actor{ID: "caller-id", Role: tc.caller, SessionID: "sid"}
		other := domain.RestoreUser(domain.UserRecord{ID: "other-id", Role: tc.target})
		// Acting on one's own id with the target role: the caller's record would have
		// the caller's role, but MayManage must refuse by id whatever the role says.
		self := domain.RestoreUser(domain.UserRecord{ID: actor.ID, Role: tc.target})
		ops := []struct {
			name  string
			err   error
			allow bool
		}{
			{"create-with-role", actor.MayCreate(tc.target), tc.createWithRole},
			{"manage-users", actor.MayManageUsers(), tc.manageUsers},
			{"change-roles", actor.MayChangeRoles(), tc.changeRoles},
			{"read-users", actor.MayReadUsers(), tc.readUsers},
			{"manage-target", actor.MayManage(other), tc.manageOther},
			{"manage-self", actor.MayManage(self), tc.manageSelf},
		}
		for _, op := range ops {
			t.Run(fmt.Sprintf("%s/%s/%s", tc.caller, tc.target, op.name), func(t *testing.T) {
				if op.allow && op.err != nil {
					t.Fatalf("got %v, want allowed", op.err)
				}
				if !op.allow && !errors.Is(op.err, domain.ErrForbidden) {
					t.Fatalf("got %v, want forbidden", op.err)
				}
			})
		}
	}
}
