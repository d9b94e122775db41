package postgres_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/example/accounts/adapters/postgres"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"github.com/example/accounts/commands"
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
	return newListFixtureOn(t, pgtest.New(t))
}

func newListFixtureOn(t *testing.T, db *bun.DB) *postgres.UserReader {
	t.Helper()
	store := newStore(db)
	for _, f := range listFixture {
		rec := userRecord(f.n, f.username, f.role)
		rec.IsActive = f.active
		rec.CreatedAt, rec.UpdatedAt = commandstest.At(f.created), commandstest.At(f.updated)
		addUser(t, store, domain.RestoreUser(rec))
	}
	return postgres.NewUserReader(db)
}

// fixtureOrders is the fixture sorted by each field, ascending, as user numbers;
// descending is the exact reverse, because ties are broken by id in the same direction.
var fixtureOrders = map[queries.SortField][]int{
	queries.SortByUsername:  {2, 7, 5, 3, 4, 6, 1}, // Bob Carol Zoe _dave alice bob.b erin
	queries.SortByRole:      {2, 6, 4, 1, 3, 5, 7}, // admin, super_admin, user
	queries.SortByIsActive:  {2, 5, 1, 3, 4, 6, 7}, // false first
	queries.SortByCreatedAt: {2, 4, 1, 3, 6, 5, 7},
	queries.SortByUpdatedAt: {3, 4, 5, 7, 1, 2, 6},
}

// fixtureOrder is the fixture sorted by field in one direction.
func fixtureOrder(field queries.SortField, desc bool) []int {
	order := slices.Clone(fixtureOrders[field])
	if desc {
		slices.Reverse(order)
	}
	return order
}

func TestUsersSortOrders(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)
	for field := range fixtureOrders {
		for _, desc := range []bool{false, true} {
			want := fixtureOrder(field, desc)
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

// sortFields are the list's sort fields, in the contract's order.
var sortFields = []queries.SortField{
	queries.SortByUsername, queries.SortByRole, queries.SortByIsActive, queries.SortByCreatedAt, queries.SortByUpdatedAt,
}

var lister = domain.Actor{ID: commandstest.UserID(900), Role: domain.RoleAdmin, SessionID: "s"}

// Pages at offsets, which page the ids before reading the rows, put together make
// the whole order.
func TestUsersOffsetPagesEveryOrder(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)
	for _, field := range sortFields {
		for _, desc := range []bool{false, true} {
			var got []int
			for offset := 0; offset < len(listFixture)+2; offset += 2 {
				page, _, err := reader.Users(t.Context(), queries.ListUsers{Limit: 2, Offset: offset, SortField: field, Descending: desc})
				if err != nil {
					t.Fatalf("%s desc=%v offset %d: %v", field, desc, offset, err)
				}
				got = append(got, userNumbers(page)...)
			}
			if want := fixtureOrder(field, desc); !slices.Equal(got, want) {
				t.Errorf("%s desc=%v: pages at offsets give %v, want %v", field, desc, got, want)
			}
		}
	}
}

// listAll reads the whole list as a client does who follows next_cursor: the first
// page, then the page after each page, through the token the client would hold.
// between runs before every page but the first.
func listAll(t *testing.T, reader *postgres.UserReader, field queries.SortField, desc bool, limit int, between func()) []queries.UserView {
	t.Helper()
	handler := queries.NewListUsersHandler(reader)
	q := queries.ListUsers{Actor: lister, Limit: limit, SortField: field, Descending: desc}
	var all []queries.UserView
	for range 1000 {
		page, err := handler.Handle(t.Context(), q)
		if err != nil {
			t.Fatalf("%s desc=%v after %+v: %v", field, desc, q.After, err)
		}
		all = append(all, page.Users...)
		if page.Next == nil {
			return all
		}
		cursor, ok := queries.ParseCursor(page.Next.Token())
		if !ok || cursor.SortField != field || cursor.Descending != desc {
			t.Fatalf("%s desc=%v: next cursor %+v does not come back from its token: %+v, %v", field, desc, page.Next, cursor, ok)
		}
		q.After = &cursor.After
		if between != nil {
			between()
		}
	}
	t.Fatalf("%s desc=%v: the list never ends", field, desc)
	return nil
}

func TestUsersCursorPagesEveryOrder(t *testing.T) {
	t.Parallel()
	reader := newListFixture(t)
	for _, field := range sortFields {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 2, 3, len(listFixture), queries.MaxLimit} {
				got := userNumbers(listAll(t, reader, field, desc, limit, nil))
				if want := fixtureOrder(field, desc); !slices.Equal(got, want) {
					t.Errorf("%s desc=%v limit %d: cursor pages give %v, want %v", field, desc, limit, got, want)
				}
			}
		}
	}
}

// compareIn orders a and b as the list sorted by field in ascending order does.
func compareIn(field queries.SortField, a, b queries.UserView) int {
	var byKey int
	switch field {
	case queries.SortByUsername:
		return strings.Compare(a.Username, b.Username) // unique: no tie-break
	case queries.SortByRole:
		byKey = strings.Compare(string(a.Role), string(b.Role))
	case queries.SortByIsActive:
		byKey = cmp.Compare(boolRank(a.IsActive), boolRank(b.IsActive))
	case queries.SortByCreatedAt:
		byKey = a.CreatedAt.Compare(b.CreatedAt)
	case queries.SortByUpdatedAt:
		byKey = a.UpdatedAt.Compare(b.UpdatedAt)
	}
	return cmp.Or(byKey, strings.Compare(a.ID, b.ID))
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A client paging by cursor while users are added sees every user that was there all
// along exactly once, in order; users added after its position may appear, users
// added behind it never do.
func TestUsersCursorPagesWhileUsersAreAdded(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store, reader := newStore(db), postgres.NewUserReader(db)
	rng := rand.New(rand.NewPCG(7, 11))
	roles := []domain.Role{domain.RoleSuperAdmin, domain.RoleAdmin, domain.RoleUser}
	var ids []string
	// add adds a user whose every sortable value is random, its id too, within ranges
	// small enough for ties: so users land before, after and level with the position.
	add := func() {
		n := len(ids) + 1
		rec := userRecord(n, fmt.Sprintf("%c%c%d", "AZaz_."[rng.IntN(6)], "bmy"[rng.IntN(3)], n), roles[rng.IntN(3)])
		rec.ID = fmt.Sprintf("%08x-0000-7000-8000-%012x", rng.Uint32(), n)
		rec.IsActive = rng.IntN(2) == 0
		rec.CreatedAt, rec.UpdatedAt = commandstest.At(rng.IntN(4)), commandstest.At(rng.IntN(4))
		addUser(t, store, domain.RestoreUser(rec))
		ids = append(ids, rec.ID)
	}
	for range 30 {
		add()
	}

	for _, field := range sortFields {
		for _, desc := range []bool{false, true} {
			there, pages := len(ids), 1
			seen := listAll(t, reader, field, desc, 4, func() {
				if pages <= 5 {
					add()
					add()
				}
				pages++
			})

			seenIDs := map[string]bool{}
			for i, u := range seen {
				seenIDs[u.ID] = true
				if i == 0 {
					continue
				}
				// Strictly in order: no user twice, none from behind the position.
				c := compareIn(field, seen[i-1], u)
				if desc {
					c = -c
				}
				if c >= 0 {
					t.Errorf("%s desc=%v: %+v comes after %+v", field, desc, u, seen[i-1])
				}
			}
			for _, id := range ids[:there] {
				if !seenIDs[id] {
					t.Errorf("%s desc=%v: user %s, there from start to end, was missed", field, desc, id)
				}
			}
		}
	}
}

// queryLog records the SQL of every query run on a database.
type queryLog struct {
	mu  sync.Mutex
	sql []string
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sql = append(l.sql, e.Query)
}

// listSQL is the SQL of the list query the reader runs for q.
func listSQL(t *testing.T, db *bun.DB, log *queryLog, q queries.ListUsers) string {
	t.Helper()
	log.mu.Lock()
	log.sql = nil
	log.mu.Unlock()
	if _, _, err := postgres.NewUserReader(db).Users(t.Context(), q); err != nil {
		t.Fatalf("Users(%+v): %v", q, err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	// The page's own query comes last: an offset page reads the total first.
	return log.sql[len(log.sql)-1]
}

// pageShapes are the kinds of page, each its own query: the first page, a page
// after a position (the next cursor of a first page of two), a page at an offset,
// and one past the middle, which is read from the other end of the index.
func pageShapes(t *testing.T, reader *postgres.UserReader, field queries.SortField, desc bool) map[string]queries.ListUsers {
	t.Helper()
	first := queries.ListUsers{Actor: lister, Limit: 2, SortField: field, Descending: desc}
	page, err := queries.NewListUsersHandler(reader).Handle(t.Context(), first)
	if err != nil || page.Next == nil {
		t.Fatalf("%s desc=%v: first page %+v, %v; want one with a next cursor", field, desc, page, err)
	}
	after, atOffset, pastMiddle := first, first, first
	after.After, atOffset.Offset, pastMiddle.Offset = &page.Next.After, 2, page.Total-2
	return map[string]queries.ListUsers{"first page": first, "after a position": after, "at an offset": atOffset, "past the middle": pastMiddle}
}

// orderByClause finds the ORDER BY clauses of a query, each up to its LIMIT, the
// end of its subquery or the end of the query.
var orderByClause = regexp.MustCompile(`ORDER BY (.*?)(?: LIMIT|\)|$)`)

// Usernames are unique, so sorting by them needs no tie-break: every query orders by
// the username alone and a position compares the username alone, which the
// username's own index serves.
func TestUsersByUsernameHaveNoIDTieBreak(t *testing.T) {
	t.Parallel()
	log := &queryLog{}
	db := pgtest.New(t).WithQueryHook(log)
	reader := newListFixtureOn(t, db)
	for _, desc := range []bool{false, true} {
		for shape, q := range pageShapes(t, reader, queries.SortByUsername, desc) {
			// A page past the middle is read the other way round.
			direction := map[bool]string{false: "ASC", true: "DESC"}[desc != (shape == "past the middle")]
			sql := listSQL(t, db, log, q)
			clauses := orderByClause.FindAllStringSubmatch(sql, -1)
			if len(clauses) == 0 {
				t.Errorf("%s: no ORDER BY in %s", shape, sql)
			}
			for _, c := range clauses {
				if !regexp.MustCompile(`^"\w+"\."username" ` + direction + `$`).MatchString(c[1]) {
					t.Errorf("%s desc=%v: ORDER BY %s, want the username alone, in %s", shape, desc, c[1], sql)
				}
			}
			if q.After != nil && !strings.Contains(sql, `WHERE (("u"."username") `) {
				t.Errorf("%s desc=%v: the position is not the username alone: %s", shape, desc, sql)
			}
		}
	}
	// Any other column is not unique, and is followed by the id.
	for shape, q := range pageShapes(t, reader, queries.SortByRole, false) {
		sql := listSQL(t, db, log, q)
		direction := map[bool]string{false: "ASC", true: "DESC"}[shape == "past the middle"]
		for _, c := range orderByClause.FindAllStringSubmatch(sql, -1) {
			if !strings.HasSuffix(c[1], `"."id" `+direction) {
				t.Errorf("%s by role: ORDER BY %s, want a tie-break by id, in %s", shape, c[1], sql)
			}
		}
	}
}

// planNode is a node of a plan as EXPLAIN (FORMAT JSON) writes it.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

func (n planNode) all() []planNode {
	nodes := []planNode{n}
	for _, child := range n.Plans {
		nodes = append(nodes, child.all()...)
	}
	return nodes
}

// explain returns the nodes of the plan of sql with sequential scans and sorts priced
// out. On a table of a few rows either would win; what matters is that the query can
// do without them, as it must on a large table.
func explain(t *testing.T, db *bun.DB, sql string) []planNode {
	t.Helper()
	var plan []struct{ Plan planNode }
	err := db.RunInTx(t.Context(), nil, func(ctx context.Context, tx bun.Tx) error {
		for _, setting := range []string{"enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort"} {
			if _, err := tx.ExecContext(ctx, "SET LOCAL "+setting+" = off"); err != nil {
				return err
			}
		}
		var doc []byte
		if err := tx.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+sql).Scan(&doc); err != nil {
			return err
		}
		return json.Unmarshal(doc, &plan)
	})
	if err != nil || len(plan) != 1 {
		t.Fatalf("EXPLAIN %s: %v", sql, err)
	}
	return plan[0].Plan.all()
}

// Every page of every order is read off the order's index, in its order: no sort,
// whatever the page.
func TestUsersPagesReadTheSortIndex(t *testing.T) {
	t.Parallel()
	log := &queryLog{}
	db := pgtest.New(t).WithQueryHook(log)
	reader := newListFixtureOn(t, db)
	for field, index := range map[queries.SortField]string{
		queries.SortByUsername:  "users_username_key",
		queries.SortByRole:      "users_role_id_idx",
		queries.SortByIsActive:  "users_is_active_id_idx",
		queries.SortByCreatedAt: "users_created_at_id_idx",
		queries.SortByUpdatedAt: "users_updated_at_id_idx",
	} {
		for _, desc := range []bool{false, true} {
			for shape, q := range pageShapes(t, reader, field, desc) {
				sql := listSQL(t, db, log, q)
				nodes := explain(t, db, sql)
				if slices.ContainsFunc(nodes, func(n planNode) bool { return strings.Contains(n.NodeType, "Sort") }) {
					t.Errorf("%s desc=%v, %s: the plan sorts: %+v\n%s", field, desc, shape, nodes, sql)
				}
				if !slices.ContainsFunc(nodes, func(n planNode) bool {
					return strings.HasPrefix(n.NodeType, "Index") && n.RelationName == "users" && n.IndexName == index
				}) {
					t.Errorf("%s desc=%v, %s: the plan does not read %s: %+v\n%s", field, desc, shape, index, nodes, sql)
				}
			}
		}
	}
}

// total is the count of all users the list reports, and countUsers the count of the
// table itself.
func total(t *testing.T, reader *postgres.UserReader) int {
	t.Helper()
	_, n, err := reader.Users(t.Context(), queries.ListUsers{Limit: 1, SortField: queries.SortByUpdatedAt})
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	return n
}

func countUsers(t *testing.T, db *bun.DB) int {
	t.Helper()
	n, err := db.NewSelect().Table("users").Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func wantTotal(t *testing.T, db *bun.DB, want int) {
	t.Helper()
	if got, rows := total(t, postgres.NewUserReader(db)), countUsers(t, db); got != want || rows != want {
		t.Fatalf("total %d, rows %d; want %d", got, rows, want)
	}
}

// Users added at once, some of them racing for the same username, are counted
// exactly: the loser of each race rolls back and counts for nothing.
func TestTotalAfterConcurrentAdds(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(db)
	const distinct, twice = 40, 10
	var wg sync.WaitGroup
	errs := make(chan error, distinct+twice)
	for i := range distinct + twice {
		wg.Go(func() {
			// The last ones take the names of the first ones.
			u := newUser(i+1, fmt.Sprintf("user%03d", i%distinct), domain.RoleUser)
			errs <- store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
				return tx.Users().Add(ctx, u)
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, domain.ErrUsernameTaken) {
			t.Fatalf("add: %v", err)
		}
	}
	wantTotal(t, db, distinct)

	// The count is spread over slots rather than kept on one row that every add
	// would wait for.
	var slots int
	if err := db.NewRaw("SELECT count(*) FROM user_count WHERE n <> 0").Scan(t.Context(), &slots); err != nil {
		t.Fatal(err)
	}
	if slots < 2 {
		t.Errorf("%d adds used %d slot of the count", distinct, slots)
	}
}

func TestTotalLeavesOutWhatRollsBack(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(db)
	addUser(t, store, newUser(1, "alice", domain.RoleUser))

	taken := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		return tx.Users().Add(ctx, newUser(2, "alice", domain.RoleUser))
	})
	if !errors.Is(taken, domain.ErrUsernameTaken) {
		t.Fatalf("adding a taken username: %v", taken)
	}
	changedMind := errors.New("changed my mind")
	err := store.InTx(t.Context(), func(ctx context.Context, tx commands.Repositories) error {
		if err := tx.Users().Add(ctx, newUser(3, "bob.b", domain.RoleUser)); err != nil {
			return err
		}
		return changedMind
	})
	if !errors.Is(err, changedMind) {
		t.Fatalf("rolled back add: %v", err)
	}
	wantTotal(t, db, 1)
}

// The count follows the table whoever writes it, in bulk or by hand.
func TestTotalFollowsEveryWrite(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := t.Context()
	addUser(t, newStore(db), newUser(1, "alice", domain.RoleUser))
	exec := func(sql string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (id, username, password_hash, password_changed_at, role, is_active, created_at, updated_at, version)
		SELECT gen_random_uuid(), 'bulk' || i, 'x', now(), 'user', true, now(), now(), 1 FROM generate_series(1, 500) AS i`)
	wantTotal(t, db, 501)
	exec(`DELETE FROM users WHERE username LIKE 'bulk1%'`) // bulk1, bulk10…bulk19, bulk100…bulk199
	wantTotal(t, db, 390)
	exec(`TRUNCATE users CASCADE`)
	wantTotal(t, db, 0)
	addUser(t, newStore(db), newUser(1, "alice", domain.RoleUser))
	wantTotal(t, db, 1)
}

// The migration that brings the count counts the users already there.
func TestTotalBackfilledByMigration(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	store := newStore(db)
	addUser(t, store, newUser(1, "alice", domain.RoleUser))
	runMigrationFile(t, db, "20261130100000_count_users.tx.down.sql")
	addUser(t, store, newUser(2, "bob.b", domain.RoleUser))
	addUser(t, store, newUser(3, "carol", domain.RoleUser))
	runMigrationFile(t, db, "20261130100000_count_users.tx.up.sql")
	wantTotal(t, db, 3)
	addUser(t, store, newUser(4, "dave.d", domain.RoleUser))
	wantTotal(t, db, 4)
}
