package queries_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

func TestListUsers(t *testing.T) {
	tests := []struct {
		name  string
		actor domain.Actor
		want  domain.Code
	}{
		{"admin", aliceActor, ""},
		{"super admin", rootActor, ""},
		{"user", carolActor, domain.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReader()
			q := queries.ListUsers{Actor: tc.actor, Limit: 2, Offset: 1, SortField: queries.SortByUsername, Descending: true}

			page, err := queries.NewListUsersHandler(r).Handle(t.Context(), q)

			wantCode(t, err, tc.want)
			if tc.want != "" {
				if len(r.listed) != 0 {
					t.Errorf("listed %v before refusing", r.listed)
				}
				return
			}
			if len(r.listed) != 1 || r.listed[0] != q {
				t.Fatalf("reader got %+v, want exactly %+v", r.listed, q)
			}
			if page.Total != len(r.views) {
				t.Errorf("total %d, want %d", page.Total, len(r.views))
			}
			if page.Limit != 2 || page.Offset != 1 {
				t.Errorf("limit/offset %d/%d, want 2/1", page.Limit, page.Offset)
			}
			want := r.views[1:3]
			if len(page.Users) != len(want) {
				t.Fatalf("users %+v, want %+v", page.Users, want)
			}
			for i := range want {
				if page.Users[i] != want[i] {
					t.Errorf("users[%d] = %+v, want %+v", i, page.Users[i], want[i])
				}
			}
		})
	}
}

func TestListUsersEchoesLimitAndOffset(t *testing.T) {
	for _, lo := range [][2]int{{1, 0}, {20, 0}, {100, 3}, {7, queries.MaxOffset}} {
		r := newReader()
		page, err := queries.NewListUsersHandler(r).Handle(t.Context(), queries.ListUsers{Actor: rootActor, Limit: lo[0], Offset: lo[1], SortField: queries.SortByUpdatedAt})
		wantCode(t, err, "")
		if page.Limit != lo[0] || page.Offset != lo[1] {
			t.Errorf("limit/offset %d/%d, want %d/%d", page.Limit, page.Offset, lo[0], lo[1])
		}
		if page.Total != len(r.views) {
			t.Errorf("total %d, want %d: it counts all users, not the page", page.Total, len(r.views))
		}
	}
}

func TestListUsersEmpty(t *testing.T) {
	tests := []struct {
		name   string
		reader *fakeReader
	}{
		{"no users at all", &fakeReader{noUsers: true}},
		{"offset past the end", newReader()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := queries.NewListUsersHandler(tc.reader).Handle(t.Context(), queries.ListUsers{Actor: aliceActor, Limit: 20, Offset: 50})
			wantCode(t, err, "")
			if page.Users == nil || len(page.Users) != 0 {
				t.Fatalf("users = %#v, want an empty, non-nil slice", page.Users)
			}
			b, err := json.Marshal(page)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"users":[]`) {
				t.Errorf("page encodes as %s, want \"users\":[]", b)
			}
			if page.Limit != 20 || page.Offset != 50 {
				t.Errorf("limit/offset %d/%d, want 20/50", page.Limit, page.Offset)
			}
		})
	}
}

func TestListUsersReaderFailure(t *testing.T) {
	boom := errors.New("connection reset")
	r := newReader()
	r.err = boom
	_, err := queries.NewListUsersHandler(r).Handle(t.Context(), queries.ListUsers{Actor: rootActor, Limit: 20})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
}

func TestParseSortField(t *testing.T) {
	tests := []struct {
		in   string
		want queries.SortField
		ok   bool
	}{
		{"username", queries.SortByUsername, true},
		{"role", queries.SortByRole, true},
		{"is_active", queries.SortByIsActive, true},
		{"created_at", queries.SortByCreatedAt, true},
		{"updated_at", queries.SortByUpdatedAt, true},
		{"", "", false},
		{"Username", "", false},
		{"USERNAME", "", false},
		{"Updated_At", "", false},
		{"isActive", "", false},
		{"created", "", false},
		{"id", "", false},
		{"password_hash", "", false},
		{" role", "", false},
		{"role ", "", false},
	}
	for _, tc := range tests {
		got, ok := queries.ParseSortField(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseSortField(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
