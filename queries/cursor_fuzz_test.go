package queries_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// FuzzCursorRoundTrip builds cursors from fuzzed parts and checks that ParseCursor
// gives back exactly the cursor of any position the database can hold (a username
// of valid UTF-8 without NUL, a known role, a timestamp of years 1 to 9999 to the
// microsecond, a lowercase UUID), and refuses the token of any other: it must not
// read a cursor it could not have written. The exception is a username of invalid
// UTF-8, which JSON cannot carry: its token is that of the name with U+FFFD for the
// bad bytes, and reads as that name.
func FuzzCursorRoundTrip(f *testing.F) {
	id := []byte("\x01\x90\xb3\xa2\x00\x00\x70\x00\x80\x00\x00\x00\x00\x00\x00\x0a")
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC).UnixMicro()
	f.Add(uint8(0), false, "bob.smith", uint8(0), false, at, id)
	f.Add(uint8(0), true, `a"<&>\é`+"\u2028", uint8(0), false, at, []byte{})
	f.Add(uint8(0), false, "bo\x00b", uint8(0), false, at, []byte{})
	f.Add(uint8(0), false, "b\xffb", uint8(0), false, at, []byte{})
	f.Add(uint8(0), false, "bob", uint8(0), false, at, id)
	f.Add(uint8(1), true, "", uint8(1), false, at, id)
	f.Add(uint8(1), false, "", uint8(3), false, at, id)
	f.Add(uint8(2), true, "", uint8(0), true, at, id)
	f.Add(uint8(3), false, "", uint8(0), false, int64(-62135596800000000), id)
	f.Add(uint8(4), true, "", uint8(0), false, int64(253402300799999999), id)
	f.Add(uint8(4), true, "", uint8(0), false, int64(253402300800000000), id)
	f.Add(uint8(4), false, "", uint8(0), false, at, []byte("0190B3A2-0000-7000-8000-00000000000A"))
	f.Add(uint8(5), false, "", uint8(0), false, at, id)
	f.Fuzz(func(t *testing.T, sort uint8, desc bool, username string, role uint8, active bool, micros int64, rawID []byte) {
		fields := []queries.SortField{queries.SortByUsername, queries.SortByRole, queries.SortByIsActive,
			queries.SortByCreatedAt, queries.SortByUpdatedAt, "password_hash"}
		roles := []domain.Role{domain.RoleUser, domain.RoleAdmin, domain.RoleSuperAdmin, "root"}
		c := queries.Cursor{SortField: fields[int(sort)%len(fields)], Descending: desc}
		holdable := true
		switch c.SortField {
		case queries.SortByUsername:
			c.After.Username = username
			holdable = utf8.ValidString(username) && !strings.ContainsRune(username, 0)
		case queries.SortByRole:
			c.After.Role = roles[int(role)%len(roles)]
			holdable = c.After.Role != "root"
		case queries.SortByIsActive:
			c.After.IsActive = active
		case queries.SortByCreatedAt, queries.SortByUpdatedAt:
			c.After.Time = time.UnixMicro(micros).UTC()
			holdable = 1 <= c.After.Time.Year() && c.After.Time.Year() <= 9999
		default:
			holdable = false
		}
		if c.SortField != queries.SortByUsername {
			c.After.ID = string(rawID)
			if len(rawID) == 16 {
				c.After.ID = fmt.Sprintf("%x-%x-%x-%x-%x", rawID[:4], rawID[4:6], rawID[6:8], rawID[8:10], rawID[10:])
			} else {
				holdable = holdable && isLowercaseUUID(c.After.ID)
			}
		} else if len(rawID) > 0 {
			// A username cursor carries no id: the order needs no tie-break.
			c.After.ID = string(rawID)
			holdable = false
		}

		tok := c.Token()
		got, ok := queries.ParseCursor(tok)
		switch {
		case holdable && !ok:
			t.Fatalf("the token %q of %+v is refused", tok, c)
		case holdable && (got.SortField != c.SortField || got.Descending != c.Descending || !sameCursorPosition(got.After, c.After)):
			t.Fatalf("the token %q of %+v reads as %+v", tok, c, got)
		case !holdable && ok && got.Token() != tok:
			t.Fatalf("the token %q of %+v reads as %+v, whose token is %q", tok, c, got, got.Token())
		case !holdable && ok && c.SortField != queries.SortByUsername:
			t.Fatalf("the token %q of %+v is accepted as %+v", tok, c, got)
		case !holdable && ok && (!utf8.ValidString(got.After.Username) || strings.ContainsRune(got.After.Username, 0)):
			t.Fatalf("the token %q of %+v is accepted with a username the database cannot hold: %+v", tok, c, got)
		}
	})
}

func isLowercaseUUID(s string) bool {
	const hex = "0123456789abcdef"
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !strings.Contains(hex, s[i:i+1]) {
			return false
		}
	}
	return true
}

func sameCursorPosition(a, b queries.Position) bool {
	return a.Username == b.Username && a.Role == b.Role && a.IsActive == b.IsActive && a.Time.Equal(b.Time) && a.ID == b.ID
}
