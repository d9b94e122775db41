package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

var listSortFields = []string{"username", "role", "is_active", "created_at", "updated_at"}

// listPage is one page of GET /api/v1/users: the usernames in it, and its next
// cursor, "" on the last page (where the contract makes it null).
func listPage(t *testing.T, c *client, query string) (usernames []string, next string) {
	t.Helper()
	r := c.do("GET", "/api/v1/users?"+query, nil)
	assertStatus(t, r, http.StatusOK, "")
	page := r.JSON(t)
	for _, u := range page["users"].([]any) {
		usernames = append(usernames, u.(map[string]any)["username"].(string))
	}
	cursor, present := page["next_cursor"]
	if !present {
		t.Fatalf("GET ?%s: no next_cursor in %s", query, r.Body)
	}
	if cursor == nil {
		return usernames, ""
	}
	return usernames, cursor.(string)
}

// TestListUsersByCursor follows next_cursor through every sort order while users
// sign up and are created between its first pages: every user there from the start
// is seen exactly once and in the order of the list, and the last page's
// next_cursor is null.
func TestListUsersByCursor(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for i, name := range []string{"Zulu9", "alpha1", "Bravo2", "charlie3", "x-ray4", "delta5", "Echo6"} {
		id := w.root.createUser(name, []string{"admin", "user"}[i%2])
		if i%3 == 0 {
			assertStatus(t, w.root.do("DELETE", "/api/v1/users/"+id+"/activation", nil), http.StatusNoContent, "")
		}
	}
	added := 0
	addUsers := func() {
		added++
		signup := w.s.client().do("POST", "/api/v1/account/signup",
			map[string]string{"username": fmt.Sprintf("late%02d", added), "password": testPassword})
		assertStatus(t, signup, http.StatusCreated, "")
		w.root.createUser(fmt.Sprintf("Early%02d", added), "user")
	}

	for _, field := range listSortFields {
		for _, order := range []string{"asc", "desc"} {
			sorting := "sorting_field=" + field + "&sorting_order=" + order
			before, next := listPage(t, w.admin, sorting+"&limit=100")
			if next != "" {
				t.Fatalf("%s: one page of 100 holds everyone, yet has a next cursor", sorting)
			}

			seen, next := listPage(t, w.admin, sorting+"&limit=3")
			for pages := 1; next != ""; pages++ {
				if pages <= 2 {
					addUsers()
				}
				// The cursor carries the sort order: the query need not repeat it.
				var page []string
				page, next = listPage(t, w.admin, "limit=3&cursor="+next)
				seen = append(seen, page...)
			}

			if dup := duplicates(seen); len(dup) > 0 {
				t.Errorf("%s: %v seen twice in %v", sorting, dup, seen)
			}
			there := slices.DeleteFunc(slices.Clone(seen), func(name string) bool { return !slices.Contains(before, name) })
			if !slices.Equal(there, before) {
				t.Errorf("%s: the users there from the start came as %v, want %v", sorting, there, before)
			}
		}
	}
}

func duplicates(names []string) []string {
	var dup []string
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			dup = append(dup, n)
		}
		seen[n] = true
	}
	return dup
}

func TestListUsersCursorPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	first := w.admin.do("GET", "/api/v1/users?sorting_field=username&sorting_order=asc&limit=2", nil).JSON(t)
	cursor, ok := first["next_cursor"].(string)
	if !ok {
		t.Fatalf("first page of 2 of 3 users: %v, want a next_cursor", first)
	}
	// Repeating the cursor's own sort order is allowed; the offset of a cursor page is 0.
	r := w.admin.do("GET", "/api/v1/users?sorting_field=username&sorting_order=asc&limit=2&cursor="+cursor, nil)
	assertStatus(t, r, http.StatusOK, "")
	page := r.JSON(t)
	if page["offset"].(float64) != 0 || page["limit"].(float64) != 2 || page["total"].(float64) != 3 {
		t.Errorf("cursor page %v, want offset 0, limit 2, total 3", page)
	}
	users := page["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["username"] != "user0" || page["next_cursor"] != nil {
		t.Errorf("cursor page %v, want user0 alone and a null next_cursor", page)
	}
}

// TestListUsersRefusesForeignCursors: a cursor that is not a next_cursor of this very
// list, as asked, is the client's mistake (400), before its session is even looked
// at, and never the server's (500).
func TestListUsersRefusesForeignCursors(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	first := w.admin.do("GET", "/api/v1/users?sorting_field=username&sorting_order=asc&limit=1", nil).JSON(t)
	cursor := first["next_cursor"].(string)
	forged := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	const id = "0190b3a2-0000-7000-8000-000000000001"
	for _, query := range []string{
		"cursor=" + cursor + "&offset=0",
		"cursor=" + cursor + "&offset=1",
		"cursor=" + cursor + "&sorting_field=role",
		"cursor=" + cursor + "&sorting_order=desc",
		"cursor=" + cursor + "&cursor=" + cursor,
		"cursor=" + cursor[:len(cursor)-3],
		"cursor=" + cursor + "x",
		"cursor=" + cursor + "%3D%3D",
		"cursor=",
		"cursor=garbage",
		"cursor=" + forged("\x00\x01junk"),
		"cursor=" + forged(`{"v":1,"sort":"username","order":"asc","key":["a"]}`),
		"cursor=" + forged(`{"v":1,"sort":"username","order":"asc","key":"a\u0000b"}`),
		"cursor=" + forged(`{"v":2,"sort":"username","order":"asc","key":"a"}`),
		"cursor=" + forged(`{"v":1,"sort":"updated_at","order":"desc","key":"2026-11-24T08:00:00.123456Z","id":"' OR 1=1 --"}`),
		"cursor=" + forged(`{"v":1,"sort":"created_at","order":"desc","key":"0000-01-01T00:00:00.000000Z","id":"`+id+`"}`),
		"cursor=" + forged(`{"v":1,"sort":"is_active","order":"desc","key":"yes","id":"`+id+`"}`),
		"cursor=" + forged(`{"v":1,"sort":"role","order":"desc","key":"root","id":"`+id+`"}`),
	} {
		t.Run(query, func(t *testing.T) {
			assertStatus(t, w.admin.do("GET", "/api/v1/users?"+query, nil), http.StatusBadRequest, "invalid_request")
			assertStatus(t, w.s.client().do("GET", "/api/v1/users?"+query, nil), http.StatusBadRequest, "invalid_request")
		})
	}
}

// TestListUsersTotalAfterConcurrentWrites: signups and creates racing for the same
// usernames, half of which lose with 409, leave total exactly the number of users.
func TestListUsersTotalAfterConcurrentWrites(t *testing.T) {
	t.Parallel()
	// Thirty writes at once each hash a password: on a busy machine some would
	// wait past the default hash_wait for a slot and get 503, which is not what
	// this test is about.
	w := newWorld(t, map[string]string{"APP_SECURITY_HASH_WAIT": "30s"})
	const names = 15
	rs := concurrently(2*names, func(i int) response {
		// Each name is asked for twice: once by a signup, once by an admin's create.
		body := map[string]string{"username": fmt.Sprintf("racer%02d", i%names), "password": testPassword}
		if i < names {
			return w.s.client().do("POST", "/api/v1/account/signup", body)
		}
		body["role"] = "user"
		return w.root.do("POST", "/api/v1/users", body)
	})
	created, taken := countStatus(rs, http.StatusCreated, ""), countStatus(rs, http.StatusConflict, "username_taken")
	if created != names || taken != names {
		t.Fatalf("%d created and %d taken, want %d of each: %v", created, taken, names, rs)
	}

	page := w.admin.do("GET", "/api/v1/users?limit=1", nil).JSON(t)
	rows, err := w.s.DB.NewSelect().Table("users").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if page["total"].(float64) != 3+names || rows != 3+names {
		t.Errorf("total %v, rows %d; want %d", page["total"], rows, 3+names)
	}
}
