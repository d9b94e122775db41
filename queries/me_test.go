package queries_test

import (
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
