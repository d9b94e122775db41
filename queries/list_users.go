package queries

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/example/accounts/domain"
)

// SortField is a column the user list can be sorted by.
type SortField string

// The sortable columns; the contract fixes their order: username in byte order, role by
// its string, is_active false first.
const (
	SortByUsername  SortField = "username"
	SortByRole      SortField = "role"
	SortByIsActive  SortField = "is_active"
	SortByCreatedAt SortField = "created_at"
	SortByUpdatedAt SortField = "updated_at"
)

// ParseSortField reads a sorting_field value exactly.
func ParseSortField(s string) (SortField, bool) {
	switch f := SortField(s); f {
	case SortByUsername, SortByRole, SortByIsActive, SortByCreatedAt, SortByUpdatedAt:
		return f, true
	}
	return "", false
}

// List bounds and defaults of the contract.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxOffset    = 2147483647
)

// ListUsers is an admin reading a page of users. The port has checked the ranges. A
// page starts Offset users into the list or, with After, right after a position in it
// (never both): a position costs the same however deep it is, an offset costs more
// the further it skips.
type ListUsers struct {
	Actor      domain.Actor
	Limit      int
	Offset     int
	SortField  SortField
	Descending bool
	After      *Position
}

// UserPage is one page of users and the count of all users. Next is where the
// following page starts, nil on the last page.
type UserPage struct {
	Users  []UserView
	Total  int
	Limit  int
	Offset int
	Next   *Cursor
}

// UserLister reads a sorted page of q.Limit users, from q.Offset or after q.After,
// and the count of all users. Ties are broken by id in the same direction, except
// for username, which is unique.
type UserLister interface {
	Users(ctx context.Context, q ListUsers) ([]UserView, int, error)
}

// ListUsersHandler runs ListUsers.
type ListUsersHandler struct{ users UserLister }

// NewListUsersHandler returns a ListUsersHandler.
func NewListUsersHandler(users UserLister) ListUsersHandler {
	return ListUsersHandler{users: users}
}

// Handle checks that the actor may read users (403) and reads the page.
func (h ListUsersHandler) Handle(ctx context.Context, q ListUsers) (UserPage, error) {
	if err := q.Actor.MayReadUsers(); err != nil {
		return UserPage{}, err
	}
	// One user beyond the page tells whether another page follows, which counting
	// the rest of the list would tell at a far higher price.
	lookahead := q
	lookahead.Limit++
	users, total, err := h.users.Users(ctx, lookahead)
	if err != nil {
		return UserPage{}, err
	}
	page := UserPage{Users: users, Total: total, Limit: q.Limit, Offset: q.Offset}
	if len(users) > q.Limit {
		page.Users = users[:q.Limit]
		last := page.Users[q.Limit-1]
		page.Next = &Cursor{SortField: q.SortField, Descending: q.Descending, After: positionOf(last, q.SortField)}
	}
	if page.Users == nil {
		page.Users = []UserView{}
	}
	return page, nil
}

// Position is a place in a sorted list of users: right after the user whose value of
// the sort column is the key and whose id is ID. Only the key of the list's sort
// column is set, Time standing for created_at and updated_at alike; ID is empty when
// the list is sorted by username, which is unique and needs no tie-break.
type Position struct {
	Username string
	Role     domain.Role
	IsActive bool
	Time     time.Time
	ID       string
}

// positionOf is the position right after u in the list sorted by field.
func positionOf(u UserView, field SortField) Position {
	switch field {
	case SortByUsername:
		return Position{Username: u.Username}
	case SortByRole:
		return Position{Role: u.Role, ID: u.ID}
	case SortByIsActive:
		return Position{IsActive: u.IsActive, ID: u.ID}
	case SortByCreatedAt:
		return Position{Time: u.CreatedAt, ID: u.ID}
	}
	return Position{Time: u.UpdatedAt, ID: u.ID}
}

// Key is the position's value of the sort column field.
func (p Position) Key(field SortField) any {
	switch field {
	case SortByUsername:
		return p.Username
	case SortByRole:
		return p.Role
	case SortByIsActive:
		return p.IsActive
	}
	return p.Time
}

// Cursor is a position in one sort order of the list: what a client keeps between
// pages, as a token (see Token).
type Cursor struct {
	SortField  SortField
	Descending bool
	After      Position
}

// cursorVersion is the token format below. A new format takes a new number, so that
// a token of the old one is refused, or read as what it is, rather than misread.
const cursorVersion = 1

// cursorTimeLayout is the API's timestamp form: RFC 3339 in UTC with exactly six
// fractional digits, the precision the database keeps, so a key loses nothing.
const cursorTimeLayout = "2006-01-02T15:04:05.000000Z"

// cursorToken is a cursor as its token holds it.
type cursorToken struct {
	Version int       `json:"v"`
	Sort    SortField `json:"sort"`
	Order   string    `json:"order"`
	Key     any       `json:"key"`
	ID      string    `json:"id,omitempty"`
}

// Token is the cursor as clients see it, an opaque string: the unpadded base64url
// (RFC 4648, section 5) of a JSON object, written in exactly this form,
//
//	{"v":1,"sort":"updated_at","order":"desc","key":"2026-11-24T08:00:00.123456Z","id":"0190b3a2-0000-7000-8000-000000000001"}
//
// sort and order are the list's sorting_field and sorting_order; key is the value of
// the sort column of the last user of the page (a string for username and role, a
// boolean for is_active, a timestamp in the API's form for created_at and
// updated_at); id is that user's id, in lowercase, left out when sorting by username.
func (c Cursor) Token() string {
	t := cursorToken{Version: cursorVersion, Sort: c.SortField, Order: "asc", Key: c.After.Key(c.SortField), ID: c.After.ID}
	if c.Descending {
		t.Order = "desc"
	}
	if at, ok := t.Key.(time.Time); ok {
		t.Key = at.UTC().Format(cursorTimeLayout)
	}
	// Strings, a number and a boolean always encode.
	data, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(data)
}

// ParseCursor reads a token that Token wrote, and nothing else: a token is accepted
// only if Token writes exactly it for what it decodes to, so any other spelling
// (padding, spacing, member order or letter case, unknown or repeated members, "ASC",
// another timestamp form) is refused rather than guessed at. Its key must fit its sort
// column and its id be a UUID, so that no token can make the database fail. A token
// that passes is a place in the list even if no page ever ended there.
func ParseCursor(token string) (Cursor, bool) {
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, false
	}
	var t struct {
		Version int             `json:"v"`
		Sort    string          `json:"sort"`
		Order   string          `json:"order"`
		Key     json.RawMessage `json:"key"`
		ID      string          `json:"id"`
	}
	if json.Unmarshal(data, &t) != nil || t.Version != cursorVersion {
		return Cursor{}, false
	}
	field, ok := ParseSortField(t.Sort)
	if !ok {
		return Cursor{}, false
	}
	c := Cursor{SortField: field, Descending: t.Order == "desc"}
	if !c.After.setKey(field, t.Key) {
		return Cursor{}, false
	}
	if field != SortByUsername {
		if !isUUID(t.ID) {
			return Cursor{}, false
		}
		c.After.ID = t.ID
	}
	return c, c.Token() == token
}

// setKey reads a token's key for the sort column field into p.
func (p *Position) setKey(field SortField, key json.RawMessage) bool {
	switch field {
	case SortByUsername:
		// PostgreSQL text cannot hold a NUL, so no username has one.
		return json.Unmarshal(key, &p.Username) == nil && !strings.ContainsRune(p.Username, 0)
	case SortByRole:
		var role string
		if json.Unmarshal(key, &role) != nil {
			return false
		}
		var ok bool
		p.Role, ok = domain.ParseRole(role)
		return ok
	case SortByIsActive:
		return json.Unmarshal(key, &p.IsActive) == nil
	}
	var at string
	if json.Unmarshal(key, &at) != nil {
		return false
	}
	var err error
	p.Time, err = time.Parse(cursorTimeLayout, at)
	// The layout takes year 0, which PostgreSQL has no timestamp for.
	return err == nil && p.Time.Year() >= 1
}

// isUUID reports whether s is a UUID as ids are stored: 36 characters, lowercase.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
