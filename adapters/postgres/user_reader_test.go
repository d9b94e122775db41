package postgres_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands/commandstest"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

var (
	_ queries.UserReader = (*postgres.UserReader)(nil)
	_ queries.UserLister = (*postgres.UserReader)(nil)
)

// listFixture is seven users with ties in every sortable column but username, added
// in an order unrelated to any sort so that the table's physical order proves
// nothing. The usernames sort differently in byte order than in a linguistic one:
// upper case before lower case, "_" between them.
var listFixture = []struct {
	n                int
	username         string
	role             domain.Role
	active           bool
	created, updated int // minutes, see at
}{
	{5, "Zoe", domain.RoleUser, false, 2, 2},
	{2, "Bob", domain.RoleAdmin, false, 0, 3},
	{7, "Carol", domain.RoleUser, true, 2, 2},
	{1, "erin", domain.RoleUser, true, 1, 3},
	{4, "alice", domain.RoleSuperAdmin, true, 0, 2},
	{6, "bob.b", domain.RoleAdmin, true, 1, 3},
	{3, "_dave", domain.RoleUser, true, 1, 1},
}

func newListFixture(t *testing.T) *postgres.UserReader {
	t.Helper()
	db := pgtest.New(t)
	store := newStore(db)
	for _, f := range listFixture {
		rec := userRecord(f.n, f.username, f.role)
		rec.IsActive = f.active
		rec.CreatedAt, rec.UpdatedAt = commandstest.At(f.created), commandstest.At(f.updated)
		addUser(t, store, domain.RestoreUser(rec))
	}
	return postgres.NewUserReader(db)
}

func TestUsersSortOrders(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)

	// Ascending order by user number (= id order); descending is its exact reverse,
	// because ties are broken by id in the same direction.
	for field, ascending := range map[queries.SortField][]int{
		queries.SortByUsername:  {2, 7, 5, 3, 4, 6, 1}, // Bob Carol Zoe _dave alice bob.b erin
		queries.SortByRole:      {2, 6, 4, 1, 3, 5, 7}, // admin, super_admin, user
		queries.SortByIsActive:  {2, 5, 1, 3, 4, 6, 7}, // false first
		queries.SortByCreatedAt: {2, 4, 1, 3, 6, 5, 7},
		queries.SortByUpdatedAt: {3, 4, 5, 7, 1, 2, 6},
	} {
		descending := slices.Clone(ascending)
		slices.Reverse(descending)
		for _, desc := range []bool{false, true} {
			want := ascending
			if desc {
				want = descending
			}
			page, total, err := reader.Users(t.Context(), queries.ListUsers{
				Limit: queries.MaxLimit, SortField: field, Descending: desc,
			})
			if err != nil {
				t.Fatalf("%s desc=%v: %v", field, desc, err)
			}
			if got := userNumbers(page); !slices.Equal(got, want) || total != len(listFixture) {
				t.Errorf("%s desc=%v: users %v, total %d; want %v, %d", field, desc, got, total, want, len(listFixture))
			}
		}
	}
}

func TestUsersPages(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)
	// By updated_at, descending (the API's default): 6 2 1 7 5 4 3.
	for _, tc := range []struct {
		limit, offset int
		want          []int
	}{
		{limit: 3, offset: 0, want: []int{6, 2, 1}},
		{limit: 3, offset: 2, want: []int{1, 7, 5}},
		{limit: 3, offset: 6, want: []int{3}},
		{limit: 3, offset: 7, want: []int{}},
		{limit: 1, offset: queries.MaxOffset, want: []int{}},
	} {
		page, total, err := reader.Users(t.Context(), queries.ListUsers{
			Limit: tc.limit, Offset: tc.offset, SortField: queries.SortByUpdatedAt, Descending: true,
		})
		if err != nil {
			t.Fatalf("limit %d offset %d: %v", tc.limit, tc.offset, err)
		}
		// total counts every user, also when the page is past the end.
		if got := userNumbers(page); !slices.Equal(got, tc.want) || total != len(listFixture) {
			t.Errorf("limit %d offset %d: users %v, total %d; want %v, %d",
				tc.limit, tc.offset, got, total, tc.want, len(listFixture))
		}
	}
}

func TestUsersPageViews(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)
	page, _, err := reader.Users(t.Context(), queries.ListUsers{Limit: 1, SortField: queries.SortByUsername})
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	want := queries.UserView{
		ID: commandstest.UserID(2), Username: "Bob", Role: domain.RoleAdmin, IsActive: false,
		CreatedAt: commandstest.At(0), UpdatedAt: commandstest.At(3),
	}
	if len(page) != 1 || page[0] != want {
		t.Fatalf("page = %+v, want [%+v]", page, want)
	}
}

func TestUsersOfAnEmptyTable(t *testing.T) {
	t.Parallel()
	reader := postgres.NewUserReader(pgtest.New(t))
	page, total, err := reader.Users(t.Context(), queries.ListUsers{Limit: 20, SortField: queries.SortByUpdatedAt})
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if page == nil || len(page) != 0 || total != 0 {
		t.Fatalf("Users = %#v, %d; want an empty page and 0", page, total)
	}
}

func TestUsersRefusesUnknownSortField(t *testing.T) {
	t.Parallel()
	reader := postgres.NewUserReader(pgtest.New(t))
	_, _, err := reader.Users(t.Context(), queries.ListUsers{Limit: 20, SortField: "password_hash"})
	if err == nil {
		t.Fatal("Users sorted by an unknown field")
	}
}

func TestUser(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)

	got, err := reader.User(t.Context(), commandstest.UserID(4))
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	want := queries.UserView{
		ID: commandstest.UserID(4), Username: "alice", Role: domain.RoleSuperAdmin, IsActive: true,
		CreatedAt: commandstest.At(0), UpdatedAt: commandstest.At(2),
	}
	if got != want {
		t.Fatalf("User = %+v, want %+v", got, want)
	}
	for _, id := range []string{commandstest.UserID(404), "not-a-uuid"} {
		if _, err := reader.User(t.Context(), id); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("User(%q): got %v, want not found", id, err)
		}
	}
}

// userNumbers turns a page back into fixture numbers (see userID).
func userNumbers(page []queries.UserView) []int {
	numbers := make([]int, 0, len(page))
	for _, u := range page {
		for _, f := range listFixture {
			if commandstest.UserID(f.n) == u.ID {
				numbers = append(numbers, f.n)
			}
		}
	}
	return numbers
}
