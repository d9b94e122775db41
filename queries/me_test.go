package queries_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// Me answers with the caller as authentication read them: no second read.
func TestMe(t *testing.T) {
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	actor := domain.Actor{ID: "us-carol", Role: domain.RoleUser, SessionID: "s1", Username: "carol.user", CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
	got, err := queries.NewMeHandler().Handle(t.Context(), queries.Me{Actor: actor})
	wantCode(t, err, "")
	want := queries.UserView{ID: "us-carol", Username: "carol.user", Role: domain.RoleUser, IsActive: true, CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
	if got != want {
		t.Errorf("Me = %+v, want %+v", got, want)
	}
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
