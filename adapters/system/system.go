package system

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/google/uuid"

	"github.com/example/accounts/commands"
)

var (
	_ commands.Clock = Clock{}
	_ commands.IDs   = IDs{}
)

// Clock is the wall clock.
type Clock struct{}

// Now returns the current time in UTC, truncated to the microsecond because that is
// what PostgreSQL keeps: a created_at returned when a user is created then equals the
// one read back later.
func (Clock) Now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// IDs makes user and session identifiers.
type IDs struct{}

// UserID returns a new UUIDv7. Version 7 starts with its creation time, so new users
// go to the end of the primary key's index rather than to random pages of it.
//
// It panics when no random bytes can be had. Since Go 1.24 crypto/rand never reports
// that (it crashes the program instead), so only a reader installed with uuid.SetRand
// could. There is no fallback to another UUID version: the API promises version 7.
func (IDs) UserID() string {
	id, err := uuid.NewV7()
	if err != nil {
		panic("system: cannot make a UUIDv7 user id: " + err.Error())
	}
	return id.String()
}

// sessionIDBytes is 256 bits: a session id is a bearer secret, too many to guess.
const sessionIDBytes = 32

// SessionID returns 256 random bits, base64url-encoded without padding (43
// characters, safe in cookies and URLs). The error is always nil: crypto/rand.Read
// never fails since Go 1.24.
func (IDs) SessionID() (string, error) {
	b := make([]byte, sessionIDBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}
