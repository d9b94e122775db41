package queries_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

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
			// One user more than the page, to learn whether another page follows.
			lookahead := q
			lookahead.Limit = 3
			if len(r.listed) != 1 || r.listed[0] != lookahead {
				t.Fatalf("reader got %+v, want exactly %+v", r.listed, lookahead)
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
			wantNext := queries.Cursor{SortField: queries.SortByUsername, Descending: true, After: queries.Position{Username: "carol.user"}}
			if page.Next == nil || *page.Next != wantNext {
				t.Errorf("next = %+v, want %+v", page.Next, wantNext)
			}
		})
	}
}

// The next page starts after the last user of this one, at that user's value of the
// sort column and id; the id only where the column is not unique.
func TestListUsersNextPosition(t *testing.T) {
	last := queries.UserView{
		ID: "us-dave", Username: "dave.user", Role: domain.RoleUser, IsActive: true,
		CreatedAt: t0, UpdatedAt: t0.Add(time.Minute),
	}
	for field, want := range map[queries.SortField]queries.Position{
		queries.SortByUsername:  {Username: "dave.user"},
		queries.SortByRole:      {Role: domain.RoleUser, ID: "us-dave"},
		queries.SortByIsActive:  {IsActive: true, ID: "us-dave"},
		queries.SortByCreatedAt: {Time: t0, ID: "us-dave"},
		queries.SortByUpdatedAt: {Time: t0.Add(time.Minute), ID: "us-dave"},
	} {
		for _, desc := range []bool{false, true} {
			r := &fakeReader{views: []queries.UserView{view("us-carol", "carol.user", domain.RoleUser), last, view("us-erin", "erin.user", domain.RoleUser)}}
			q := queries.ListUsers{Actor: aliceActor, Limit: 2, SortField: field, Descending: desc}
			page, err := queries.NewListUsersHandler(r).Handle(t.Context(), q)
			wantCode(t, err, "")
			wantNext := queries.Cursor{SortField: field, Descending: desc, After: want}
			if page.Next == nil || *page.Next != wantNext {
				t.Errorf("%s desc=%v: next = %+v, want %+v", field, desc, page.Next, wantNext)
			}
		}
	}
}

func TestListUsersLastPageHasNoNext(t *testing.T) {
	for _, q := range []queries.ListUsers{
		{Actor: rootActor, Limit: 4},                                           // exactly the rest
		{Actor: rootActor, Limit: 20},                                          // fewer than a page
		{Actor: rootActor, Limit: 2, Offset: 2},                                // the last two, by offset
		{Actor: rootActor, Limit: 20, Offset: 50},                              // past the end
		{Actor: rootActor, Limit: 2, After: &queries.Position{ID: "ad-alice"}}, // the last two, after alice
	} {
		page, err := queries.NewListUsersHandler(newReader()).Handle(t.Context(), q)
		wantCode(t, err, "")
		if page.Next != nil {
			t.Errorf("%+v: next = %+v on the last page", q, page.Next)
		}
	}
}

func TestListUsersAfterAPosition(t *testing.T) {
	r := newReader()
	after := &queries.Position{Time: t0, ID: "ad-alice"}
	q := queries.ListUsers{Actor: aliceActor, Limit: 1, SortField: queries.SortByCreatedAt, After: after}
	page, err := queries.NewListUsersHandler(r).Handle(t.Context(), q)
	wantCode(t, err, "")
	if len(r.listed) != 1 || r.listed[0].After != after {
		t.Fatalf("reader got %+v, want the position passed on", r.listed)
	}
	if len(page.Users) != 1 || page.Users[0].ID != "us-carol" || page.Offset != 0 {
		t.Errorf("page %+v, want carol alone at offset 0", page)
	}
	wantNext := queries.Cursor{SortField: queries.SortByCreatedAt, After: queries.Position{Time: t0, ID: "us-carol"}}
	if page.Next == nil || *page.Next != wantNext {
		t.Errorf("next = %+v, want %+v", page.Next, wantNext)
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

const someID = "0190b3a2-0000-7000-8000-00000000000a"

// token is the cursor token holding text.
func token(text string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(text))
}

// The token format is a contract with every client holding one: it must not change
// by accident.
func TestCursorTokenFormat(t *testing.T) {
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	for _, tc := range []struct {
		cursor queries.Cursor
		json   string
	}{
		{queries.Cursor{SortField: queries.SortByUpdatedAt, Descending: true, After: queries.Position{Time: at, ID: someID}},
			`{"v":1,"sort":"updated_at","order":"desc","key":"2026-11-24T08:00:00.123456Z","id":"` + someID + `"}`},
		{queries.Cursor{SortField: queries.SortByCreatedAt, After: queries.Position{Time: at.In(time.FixedZone("CET", 3600)), ID: someID}},
			`{"v":1,"sort":"created_at","order":"asc","key":"2026-11-24T08:00:00.123456Z","id":"` + someID + `"}`},
		{queries.Cursor{SortField: queries.SortByRole, After: queries.Position{Role: domain.RoleSuperAdmin, ID: someID}},
			`{"v":1,"sort":"role","order":"asc","key":"super_admin","id":"` + someID + `"}`},
		{queries.Cursor{SortField: queries.SortByIsActive, Descending: true, After: queries.Position{IsActive: false, ID: someID}},
			`{"v":1,"sort":"is_active","order":"desc","key":false,"id":"` + someID + `"}`},
		{queries.Cursor{SortField: queries.SortByUsername, After: queries.Position{Username: "bob.smith"}},
			`{"v":1,"sort":"username","order":"asc","key":"bob.smith"}`},
	} {
		if got := tc.cursor.Token(); got != token(tc.json) {
			data, _ := base64.RawURLEncoding.DecodeString(got)
			t.Errorf("token of %+v holds %s, want %s", tc.cursor, data, tc.json)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	for _, c := range []queries.Cursor{
		{SortField: queries.SortByUsername, After: queries.Position{Username: "Zoe"}},
		{SortField: queries.SortByUsername, After: queries.Position{Username: `a"<&>\é` + "\u2028"}},
		{SortField: queries.SortByUsername, After: queries.Position{Username: ""}},
		{SortField: queries.SortByRole, After: queries.Position{Role: domain.RoleAdmin, ID: someID}},
		{SortField: queries.SortByRole, After: queries.Position{Role: domain.RoleUser, ID: someID}},
		{SortField: queries.SortByIsActive, After: queries.Position{IsActive: true, ID: someID}},
		{SortField: queries.SortByIsActive, After: queries.Position{IsActive: false, ID: someID}},
		{SortField: queries.SortByCreatedAt, After: queries.Position{Time: at, ID: someID}},
		{SortField: queries.SortByUpdatedAt, After: queries.Position{Time: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), ID: someID}},
		{SortField: queries.SortByUpdatedAt, After: queries.Position{Time: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), ID: someID}},
	} {
		for _, desc := range []bool{false, true} {
			c.Descending = desc
			got, ok := queries.ParseCursor(c.Token())
			if !ok || got.SortField != c.SortField || got.Descending != desc || !samePosition(got.After, c.After) {
				t.Errorf("%+v came back as %+v, %v", c, got, ok)
			}
		}
	}
}

// Anything but a token the service wrote is refused, whatever it decodes to.
func TestParseCursorRefuses(t *testing.T) {
	valid := `{"v":1,"sort":"updated_at","order":"desc","key":"2026-11-24T08:00:00.123456Z","id":"` + someID + `"}`
	if _, ok := queries.ParseCursor(token(valid)); !ok {
		t.Fatalf("the valid token is refused")
	}
	for name, tok := range map[string]string{
		"empty":                  "",
		"not base64":             "not a cursor!",
		"standard base64":        base64.StdEncoding.EncodeToString([]byte(valid)),
		"padded":                 base64.URLEncoding.EncodeToString([]byte(valid + " ")),
		"truncated":              token(valid)[:40],
		"one character more":     token(valid) + "A",
		"base64 of junk":         token("\x00\xff junk"),
		"JSON but not a cursor":  token(`{"hello":"world"}`),
		"JSON array":             token(`[1,"updated_at","desc"]`),
		"JSON null":              token(`null`),
		"whitespace":             token(strings.Replace(valid, ",", ", ", 1)),
		"trailing data":          token(valid + `{}`),
		"member order":           token(`{"sort":"updated_at","v":1,"order":"desc","key":"2026-11-24T08:00:00.123456Z","id":"` + someID + `"}`),
		"member case":            token(strings.Replace(valid, `"sort"`, `"Sort"`, 1)),
		"unknown member":         token(strings.Replace(valid, `}`, `,"x":1}`, 1)),
		"repeated member":        token(strings.Replace(valid, `"v":1,`, `"v":1,"v":1,`, 1)),
		"version 2":              token(strings.Replace(valid, `"v":1`, `"v":2`, 1)),
		"version as a string":    token(strings.Replace(valid, `"v":1`, `"v":"1"`, 1)),
		"no version":             token(strings.Replace(valid, `"v":1,`, ``, 1)),
		"unknown sort":           token(strings.Replace(valid, `updated_at`, `password_hash`, 1)),
		"order in capitals":      token(strings.Replace(valid, `"desc"`, `"DESC"`, 1)),
		"no order":               token(strings.Replace(valid, `"order":"desc",`, ``, 1)),
		"no key":                 token(strings.Replace(valid, `"key":"2026-11-24T08:00:00.123456Z",`, ``, 1)),
		"null key":               token(strings.Replace(valid, `"2026-11-24T08:00:00.123456Z"`, `null`, 1)),
		"key without fraction":   token(strings.Replace(valid, `.123456Z`, `Z`, 1)),
		"key with nanoseconds":   token(strings.Replace(valid, `.123456Z`, `.123456789Z`, 1)),
		"key with an offset":     token(strings.Replace(valid, `Z"`, `+00:00"`, 1)),
		"key in year 0":          token(strings.Replace(valid, `2026`, `0000`, 1)),
		"key not a time":         token(strings.Replace(valid, `"2026-11-24T08:00:00.123456Z"`, `"yesterday"`, 1)),
		"key a number":           token(strings.Replace(valid, `"2026-11-24T08:00:00.123456Z"`, `1764000000`, 1)),
		"no id":                  token(strings.Replace(valid, `,"id":"`+someID+`"`, ``, 1)),
		"id in capitals":         token(strings.Replace(valid, someID, strings.ToUpper(someID), 1)),
		"id not a UUID":          token(strings.Replace(valid, someID, `' OR 1=1 --`, 1)),
		"id without hyphens":     token(strings.Replace(valid, someID, strings.ReplaceAll(someID, "-", ""), 1)),
		"username with an id":    token(`{"v":1,"sort":"username","order":"asc","key":"bob","id":"` + someID + `"}`),
		"username a number":      token(`{"v":1,"sort":"username","order":"asc","key":5}`),
		"username with a NUL":    token(`{"v":1,"sort":"username","order":"asc","key":"bo\u0000b"}`),
		"username escaped":       token(`{"v":1,"sort":"username","order":"asc","key":"\u0062ob"}`),
		"username invalid UTF-8": token("{\"v\":1,\"sort\":\"username\",\"order\":\"asc\",\"key\":\"b\xffb\"}"),
		"unknown role":           token(`{"v":1,"sort":"role","order":"asc","key":"root","id":"` + someID + `"}`),
		"role in capitals":       token(`{"v":1,"sort":"role","order":"asc","key":"ADMIN","id":"` + someID + `"}`),
		"is_active a string":     token(`{"v":1,"sort":"is_active","order":"asc","key":"true","id":"` + someID + `"}`),
		"is_active a number":     token(`{"v":1,"sort":"is_active","order":"asc","key":1,"id":"` + someID + `"}`),
		"is_active null":         token(`{"v":1,"sort":"is_active","order":"asc","key":null,"id":"` + someID + `"}`),
		"key of another sort":    token(`{"v":1,"sort":"created_at","order":"asc","key":true,"id":"` + someID + `"}`),
	} {
		if c, ok := queries.ParseCursor(tok); ok {
			t.Errorf("%s: %q accepted as %+v", name, tok, c)
		}
	}
}

// FuzzParseCursor checks that no token makes ParseCursor panic, and that whatever it
// accepts is exactly the token of what it decoded to, with a key the database takes.
func FuzzParseCursor(f *testing.F) {
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	for _, c := range []queries.Cursor{
		{SortField: queries.SortByUsername, After: queries.Position{Username: "bob.smith"}},
		{SortField: queries.SortByRole, Descending: true, After: queries.Position{Role: domain.RoleAdmin, ID: someID}},
		{SortField: queries.SortByIsActive, After: queries.Position{IsActive: true, ID: someID}},
		{SortField: queries.SortByUpdatedAt, Descending: true, After: queries.Position{Time: at, ID: someID}},
	} {
		f.Add(c.Token())
	}
	f.Add("")
	f.Add(token(`{}`))
	f.Fuzz(func(t *testing.T, tok string) {
		c, ok := queries.ParseCursor(tok)
		if !ok {
			return
		}
		if c.Token() != tok {
			t.Fatalf("accepted %q as %+v, whose token is %q", tok, c, c.Token())
		}
		if _, known := queries.ParseSortField(string(c.SortField)); !known {
			t.Fatalf("accepted %q with sort %q", tok, c.SortField)
		}
		if strings.ContainsRune(c.After.Username, 0) || c.After.Time.Year() < 1 {
			t.Fatalf("accepted %q with a key the database refuses: %+v", tok, c.After)
		}
	})
}

func samePosition(a, b queries.Position) bool {
	return a.Username == b.Username && a.Role == b.Role && a.IsActive == b.IsActive && a.Time.Equal(b.Time) && a.ID == b.ID
}
