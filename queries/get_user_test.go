package queries_test

import (
	"errors"
	"testing"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

func TestGetUser(t *testing.T) {
	tests := []struct {
		name   string
		actor  domain.Actor
		target string
		want   domain.Code
	}{
		{"admin reads a user", aliceActor, "us-dave", ""},
		{"admin reads a super admin", aliceActor, "sa-root", ""},
		{"admin reads themselves", aliceActor, "ad-alice", ""},
		{"super admin reads an admin", rootActor, "ad-alice", ""},
		{"super admin reads themselves", rootActor, "sa-root", ""},
		{"user may not read others", carolActor, "us-dave", domain.CodeForbidden},
		{"user may not read themselves here either", carolActor, "us-carol", domain.CodeForbidden},
		{"user asking for a missing user is forbidden, not not found", carolActor, "missing", domain.CodeForbidden},
		{"missing user", aliceActor, "missing", domain.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReader()
			got, err := queries.NewGetUserHandler(r).Handle(t.Context(), queries.GetUser{Actor: tc.actor, UserID: tc.target})
			wantCode(t, err, tc.want)
			if tc.want == domain.CodeForbidden {
				if len(r.reads) != 0 {
					t.Errorf("read %v before refusing", r.reads)
				}
				return
			}
			if tc.want != "" {
				return
			}
			if got.ID != tc.target {
				t.Errorf("got user %q, want %q", got.ID, tc.target)
			}
			for _, v := range r.views {
				if v.ID == tc.target && got != v {
					t.Errorf("got %+v, want %+v", got, v)
				}
			}
		})
	}
}

func TestGetUserReaderFailure(t *testing.T) {
	boom := errors.New("connection reset")
	r := newReader()
	r.err = boom
	_, err := queries.NewGetUserHandler(r).Handle(t.Context(), queries.GetUser{Actor: rootActor, UserID: "us-dave"})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
}
