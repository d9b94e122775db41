package system_test

import (
	"encoding/base64"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/accounts/adapters/system"
)

func TestNowIsUTCMicroseconds(t *testing.T) {
	before := time.Now()
	now := system.Clock{}.Now()
	after := time.Now()

	if now.Location() != time.UTC {
		t.Errorf("location = %s, want UTC", now.Location())
	}
	if now.Nanosecond()%1000 != 0 {
		t.Errorf("%s has sub-microsecond digits", now.Format(time.RFC3339Nano))
	}
	if now.Before(before.Truncate(time.Microsecond)) || now.After(after) {
		t.Errorf("Now = %s, not between %s and %s", now, before, after)
	}
	// What the API writes and the database keeps: six fractional digits.
	back, err := time.Parse(time.RFC3339Nano, now.Format("2006-01-02T15:04:05.000000Z07:00"))
	if err != nil || !back.Equal(now) {
		t.Errorf("%s does not survive microsecond precision: %s, %v", now, back, err)
	}
}

var userIDFormat = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestUserIDsAreUniqueTimeOrderedUUIDv7(t *testing.T) {
	start := time.Now().Truncate(time.Millisecond)
	ids := make([]string, 10_000)
	for i := range ids {
		ids[i] = system.IDs{}.UserID()
	}
	end := time.Now()

	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if !userIDFormat.MatchString(id) {
			t.Fatalf("%q is not a lowercase hyphenated UUIDv7", id)
		}
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
		if i > 0 && id <= ids[i-1] {
			t.Fatalf("%q comes after %q: not time-ordered", id, ids[i-1])
		}
	}
	u := uuid.MustParse(ids[0])
	if u.Version() != 7 {
		t.Errorf("version = %d, want 7", u.Version())
	}
	if at := time.Unix(u.Time().UnixTime()); at.Before(start) || at.After(end) {
		t.Errorf("embedded time %s is not between %s and %s", at, start, end)
	}
}

var sessionIDFormat = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestSessionIDsAreUnique256BitBase64URL(t *testing.T) {
	seen := make(map[string]bool, 10_000)
	for range 10_000 {
		id, err := system.IDs{}.SessionID()
		if err != nil {
			t.Fatal(err)
		}
		if !sessionIDFormat.MatchString(id) {
			t.Fatalf("%q is not 43 characters of unpadded base64url", id)
		}
		if b, err := base64.RawURLEncoding.Strict().DecodeString(id); err != nil || len(b) != 32 {
			t.Fatalf("%q decodes to %d bytes, %v; want 32", id, len(b), err)
		}
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
	}
}
