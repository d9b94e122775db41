package queries_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

func TestMe(t *testing.T) {
	for _, actor := range []domain.Actor{carolActor, aliceActor, rootActor} {
		t.Run(string(actor.Role), func(t *testing.T) {
			r := newReader()
			got, err := queries.NewMeHandler(r).Handle(t.Context(), queries.Me{Actor: actor})
			wantCode(t, err, "")
			if got.ID != actor.ID {
				t.Fatalf("got user %q, want the caller %q", got.ID, actor.ID)
			}
			if got.Role != actor.Role {
				t.Errorf("role %q, want %q", got.Role, actor.Role)
			}
		})
	}
}

func TestMeMissing(t *testing.T) {
	_, err := queries.NewMeHandler(newReader()).Handle(t.Context(), queries.Me{Actor: domain.Actor{ID: "gone", Role: domain.RoleUser}})
	wantCode(t, err, domain.CodeNotFound)
}

// The user object never carries a password hash, and its JSON names are the API's.
func TestUserViewJSON(t *testing.T) {
	b, err := json.Marshal(view("us-carol", "carol.user", domain.RoleUser))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "username", "role", "is_active", "created_at", "updated_at"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("%s lacks %q", b, k)
		}
	}
	if len(fields) != 6 {
		t.Errorf("%s has %d members, want 6", b, len(fields))
	}
	if strings.Contains(strings.ToLower(string(b)), "hash") {
		t.Errorf("%s mentions a hash", b)
	}
}
