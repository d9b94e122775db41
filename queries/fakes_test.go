package queries_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

var t0 = time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)

// fakeReader serves users from a slice, in the order given whatever the sort asked
// for, and records every call.
type fakeReader struct {
	mu      sync.Mutex
	views   []queries.UserView
	err     error
	reads   []string
	listed  []queries.ListUsers
	noUsers bool // answer nil for a list, as a reader scanning zero rows may
}

func (f *fakeReader) User(_ context.Context, id string) (queries.UserView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, id)
	if f.err != nil {
		return queries.UserView{}, f.err
	}
	for _, v := range f.views {
		if v.ID == id {
			return v, nil
		}
	}
	return queries.UserView{}, fmt.Errorf("user %s: %w", id, domain.ErrNotFound)
}

func (f *fakeReader) Users(_ context.Context, q queries.ListUsers) ([]queries.UserView, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listed = append(f.listed, q)
	if f.err != nil {
		return nil, 0, f.err
	}
	if f.noUsers {
		return nil, 0, nil
	}
	start := min(q.Offset, len(f.views))
	if q.After != nil {
		start = f.after(*q.After)
	}
	end := min(start+q.Limit, len(f.views))
	return append([]queries.UserView(nil), f.views[start:end]...), len(f.views), nil
}

// after is the index of the view that follows the one p names, by id, or by
// username for a position without one.
func (f *fakeReader) after(p queries.Position) int {
	for i, v := range f.views {
		if p.ID != "" && v.ID == p.ID || p.ID == "" && v.Username == p.Username {
			return i + 1
		}
	}
	return len(f.views)
}

func view(id, username string, role domain.Role) queries.UserView {
	return queries.UserView{ID: id, Username: username, Role: role, IsActive: true, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)}
}

func newReader() *fakeReader {
	return &fakeReader{views: []queries.UserView{
		view("sa-root", "root.admin", domain.RoleSuperAdmin),
		view("ad-alice", "alice.admin", domain.RoleAdmin),
		view("us-carol", "carol.user", domain.RoleUser),
		view("us-dave", "dave.user", domain.RoleUser),
	}}
}

var (
	rootActor  = domain.Actor{ID: "sa-root", Role: domain.RoleSuperAdmin, SessionID: "s1"}
	aliceActor = domain.Actor{ID: "ad-alice", Role: domain.RoleAdmin, SessionID: "s2"}
	carolActor = domain.Actor{ID: "us-carol", Role: domain.RoleUser, SessionID: "s3"}
)

func codeOf(err error) domain.Code {
	if err == nil {
		return ""
	}
	if e, ok := domain.AsError(err); ok {
		return e.Code
	}
	return domain.Code("not a domain error: " + err.Error())
}

func wantCode(t *testing.T, err error, want domain.Code) {
	t.Helper()
	if got := codeOf(err); got != want {
		t.Fatalf("got %q (%v), want %q", got, err, want)
	}
}
