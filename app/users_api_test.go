package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRoleHierarchyOverHTTP runs every admin operation for every caller role against
// every kind of target, and checks the status the contract gives and what it does to
// the target: the effect when allowed, nothing at all when refused.
func TestRoleHierarchyOverHTTP(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	s := w.s
	usernames := map[string]string{"super_admin": "root.target", "admin": "admin.target", "user": "user.target"}
	targets := map[string]string{
		"super_admin": s.superAdmin(usernames["super_admin"]),
		"admin":       w.root.createUser(usernames["admin"], "admin"),
		"user":        w.root.createUser(usernames["user"], "user"),
		"missing":     "0190b3a2-0000-7000-8000-000000000000",
	}
	original := map[string]userState{}
	for _, role := range []string{"super_admin", "admin", "user"} {
		original[role] = userStateOf(t, s, targets[role])
	}
	callers := []struct {
		role   string
		c      *client
		selfID string
	}{{"super_admin", w.root, w.rootID}, {"admin", w.admin, w.adminID}, {"user", w.user, w.userID}}

	type op struct{ method, suffix, body string }
	ops := map[string]op{
		"get":          {"GET", "", ""},
		"set password": {"PUT", "/password", `{"password":"brand-new-password"}`},
		"grant admin":  {"PUT", "/roles/admin", ""},
		"revoke admin": {"DELETE", "/roles/admin", ""},
		"reactivate":   {"PUT", "/activation", ""},
		"inactivate":   {"DELETE", "/activation", ""},
	}
	// want[op][caller][target]; "self" is the caller's own id.
	const ok, forbidden, notFound = 0, 403, 404
	manager := map[string]map[string]int{
		"super_admin": {"super_admin": forbidden, "admin": ok, "user": ok, "self": forbidden, "missing": notFound},
		"admin":       {"super_admin": forbidden, "admin": forbidden, "user": ok, "self": forbidden, "missing": notFound},
		"user":        {"super_admin": forbidden, "admin": forbidden, "user": forbidden, "self": forbidden, "missing": forbidden},
	}
	roles := map[string]map[string]int{
		"super_admin": manager["super_admin"],
		"admin":       {"super_admin": forbidden, "admin": forbidden, "user": forbidden, "self": forbidden, "missing": forbidden},
		"user":        manager["user"],
	}
	reader := map[string]map[string]int{
		"super_admin": {"super_admin": ok, "admin": ok, "user": ok, "self": ok, "missing": notFound},
		"admin":       {"super_admin": ok, "admin": ok, "user": ok, "self": ok, "missing": notFound},
		"user":        manager["user"],
	}
	want := map[string]map[string]map[string]int{
		"get": reader, "set password": manager, "reactivate": manager, "inactivate": manager,
		"grant admin": roles, "revoke admin": roles,
	}
	// The status of each operation's success (the contract).
	success := map[string]int{"get": 200, "set password": 204, "grant admin": 204, "revoke admin": 204, "reactivate": 204, "inactivate": 204}

	for opName, o := range ops {
		for _, caller := range callers {
			for _, target := range []string{"super_admin", "admin", "user", "self", "missing"} {
				id := targets[target]
				if target == "self" {
					id = caller.selfID
				}
				username, real := usernames[target]
				if real {
					// A session, so that ending the target's sessions shows; and for
					// reactivation an inactive target, so that it has something to do.
					s.loggedIn(username)
					if opName == "reactivate" {
						if _, err := s.DB.NewRaw(`UPDATE users SET is_active = false WHERE id = ?`, id).Exec(t.Context()); err != nil {
							t.Fatal(err)
						}
					}
				}
				var before userState
				if target != "missing" {
					before = userStateOf(t, s, id)
				}

				name := fmt.Sprintf("%s by %s on %s", opName, caller.role, target)
				t.Run(name, func(t *testing.T) {
					var body any
					if o.body != "" {
						body = o.body
					}
					r := caller.c.do(o.method, "/api/v1/users/"+strings.ToUpper(id)+o.suffix, body)
					switch want[opName][caller.role][target] {
					case ok:
						assertStatus(t, r, success[opName], "")
						checkEffect(t, s, opName, id, before, r)
						return
					case forbidden:
						assertStatus(t, r, 403, "forbidden")
					case notFound:
						assertStatus(t, r, 404, "not_found")
					}
					if target != "missing" {
						if after := userStateOf(t, s, id); !after.equal(before) {
							t.Errorf("a refused request changed the target: %+v, was %+v", after, before)
						}
					}
				})

				// Put the targets back as they were for the next case.
				for role, u := range original {
					if _, err := s.DB.NewRaw(`UPDATE users SET role = ?, is_active = ?, password_hash = ?, updated_at = ? WHERE id = ?`,
						u.Role, u.Active, u.PasswordHash, u.UpdatedAt, targets[role]).Exec(t.Context()); err != nil {
						t.Fatal(err)
					}
					if _, err := s.DB.NewRaw(`DELETE FROM sessions WHERE user_id = ?`, targets[role]).Exec(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
}

// checkEffect checks what a successful operation did to the target: exactly its
// effect, and for one that had nothing to do, nothing at all (not even updated_at).
func checkEffect(t *testing.T, s *service, opName, id string, before userState, r response) {
	t.Helper()
	after := userStateOf(t, s, id)
	want := before
	switch opName {
	case "get":
		if got := r.JSON(t); got["id"] != id || got["role"] != before.Role || got["is_active"] != before.Active {
			t.Errorf("read %s, want the user %s", r.Body, id)
		}
	case "set password":
		if after.PasswordHash == before.PasswordHash {
			t.Error("the password hash did not change")
		}
		want.PasswordHash = after.PasswordHash
		want.Sessions = 0
	case "grant admin":
		want.Role = "admin"
	case "revoke admin":
		want.Role = "user"
	case "reactivate":
		want.Active = true
	case "inactivate":
		want.Active = false
		want.Sessions = 0
	}
	if !want.equal(before) {
		if !after.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("updated_at %v not moved on from %v", after.UpdatedAt, before.UpdatedAt)
		}
		want.UpdatedAt = after.UpdatedAt
	}
	if !after.equal(want) {
		t.Errorf("target is %+v after %s, want %+v", after, opName, want)
	}
	if opName == "set password" {
		var username string
		if err := s.DB.NewSelect().Table("users").Column("username").Where("id = ?", id).Scan(t.Context(), &username); err != nil {
			t.Fatal(err)
		}
		assertStatus(t, s.client().login(username, "brand-new-password"), http.StatusNoContent, "")
	}
}

// userState is what the admin operations may change about a user.
type userState struct {
	Role         string
	Active       bool
	PasswordHash string
	UpdatedAt    time.Time
	Sessions     int // that can still work
}

func (u userState) equal(v userState) bool {
	return u.Role == v.Role && u.Active == v.Active && u.PasswordHash == v.PasswordHash &&
		u.UpdatedAt.Equal(v.UpdatedAt) && u.Sessions == v.Sessions
}

func userStateOf(t *testing.T, s *service, id string) userState {
	t.Helper()
	var u userState
	err := s.DB.NewSelect().Table("users").
		ColumnExpr("role, is_active, password_hash, updated_at").
		// Sessions that can still work: an inactivation ends them at once, while
		// their rows are deleted later by the user.inactivated handler.
		ColumnExpr("(SELECT count(*) FROM sessions WHERE user_id = users.id AND user_version >= users.sessions_valid_from)").
		Where("id = ?", id).
		Scan(t.Context(), &u.Role, &u.Active, &u.PasswordHash, &u.UpdatedAt, &u.Sessions)
	if err != nil {
		t.Fatalf("reading user %s: %v", id, err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	body := func(name, role string) map[string]string {
		return map[string]string{"username": name, "password": testPassword, "role": role}
	}

	r := w.admin.do("POST", "/api/v1/users", body("created.user", "user"))
	assertStatus(t, r, http.StatusCreated, "")
	created := r.JSON(t)
	if r.Header.Get("Location") != "/api/v1/users/"+created["id"].(string) {
		t.Errorf("Location %q for %v", r.Header.Get("Location"), created)
	}
	got := w.admin.do("GET", "/api/v1/users/"+created["id"].(string), nil).JSON(t)
	if got["created_at"] != created["created_at"] || got["role"] != "user" {
		t.Errorf("created %v, read back %v", created, got)
	}

	assertStatus(t, w.admin.do("POST", "/api/v1/users", body("other.admin", "admin")), 403, "forbidden")
	// Check 4 (role) comes before check 5 (rules).
	assertStatus(t, w.admin.do("POST", "/api/v1/users", body("x", "admin")), 403, "forbidden")
	assertStatus(t, w.user.do("POST", "/api/v1/users", body("by.a.user", "user")), 403, "forbidden")
	assertStatus(t, w.root.do("POST", "/api/v1/users", body("new.admin", "admin")), 201, "")
	assertStatus(t, w.root.do("POST", "/api/v1/users", body("new.root", "super_admin")), 400, "invalid_request")
	assertStatus(t, w.root.do("POST", "/api/v1/users", body("new.admin", "admin")), 409, "username_taken")
	assertStatus(t, w.root.do("POST", "/api/v1/users", body("bad name", "user")), 400, "validation_failed")
	assertStatus(t, w.s.client().do("POST", "/api/v1/users", body("anon.user", "user")), 401, "unauthenticated")
}

func TestAdminActionsEndSessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)

	// Setting a user's password ends every session of theirs.
	r := w.admin.do("PUT", "/api/v1/users/"+w.userID+"/password", map[string]string{"password": "set-by-admin"})
	assertStatus(t, r, http.StatusNoContent, "")
	if n := w.s.sessionCount(w.userID); n != 0 {
		t.Errorf("%d sessions after admin set the password", n)
	}
	assertStatus(t, w.user.do("GET", "/api/v1/account/me", nil), 401, "unauthenticated")
	assertStatus(t, w.s.client().login("user0", testPassword), 401, "invalid_credentials")
	user := w.s.client()
	assertStatus(t, user.login("user0", "set-by-admin"), 204, "")

	// Inactivation refuses the user's cookie on the very next request.
	assertStatus(t, w.admin.do("DELETE", "/api/v1/users/"+w.userID+"/activation", nil), 204, "")
	r = user.do("GET", "/api/v1/account/me", nil)
	assertStatus(t, r, 401, "unauthenticated")
	if rm := r.Cookie("auth_token"); rm == nil || rm.MaxAge >= 0 {
		t.Error("no cookie removal for an inactivated user")
	}
	assertStatus(t, w.s.client().login("user0", "set-by-admin"), 401, "account_inactive")
	// Repeating changes nothing; reactivation lets the user back in.
	assertStatus(t, w.admin.do("DELETE", "/api/v1/users/"+w.userID+"/activation", nil), 204, "")
	assertStatus(t, w.admin.do("PUT", "/api/v1/users/"+w.userID+"/activation", nil), 204, "")
	assertStatus(t, w.s.client().login("user0", "set-by-admin"), 204, "")
}

func TestRoleChangesActAtOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	assertStatus(t, w.user.do("GET", "/api/v1/users", nil), 403, "forbidden")
	assertStatus(t, w.root.do("PUT", "/api/v1/users/"+w.userID+"/roles/admin", nil), 204, "")
	assertStatus(t, w.user.do("GET", "/api/v1/users", nil), 200, "")
	assertStatus(t, w.root.do("PUT", "/api/v1/users/"+w.userID+"/roles/admin", nil), 204, "")
	assertStatus(t, w.root.do("DELETE", "/api/v1/users/"+w.userID+"/roles/admin", nil), 204, "")
	assertStatus(t, w.user.do("GET", "/api/v1/users", nil), 403, "forbidden")
	assertStatus(t, w.root.do("DELETE", "/api/v1/users/"+w.userID+"/roles/admin", nil), 204, "")
	if got := w.root.do("GET", "/api/v1/users/"+w.userID, nil).JSON(t)["role"]; got != "user" {
		t.Errorf("role %v after grant and revoke", got)
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	for _, name := range []string{"Bravo", "alpha", "charlie", "x_yzz"} {
		w.root.createUser(name, "user")
	}
	r := w.admin.do("GET", "/api/v1/users?sorting_field=username&sorting_order=asc&limit=3&offset=1", nil)
	assertStatus(t, r, 200, "")
	page := r.JSON(t)
	if page["total"].(float64) != 7 || page["limit"].(float64) != 3 || page["offset"].(float64) != 1 {
		t.Errorf("page header %v", page)
	}
	var names []string
	for _, u := range page["users"].([]any) {
		names = append(names, u.(map[string]any)["username"].(string))
	}
	// Byte order: upper case before lower case.
	if strings.Join(names, ",") != "admin0,alpha,charlie" {
		t.Errorf("page %v", names)
	}

	defaults := w.admin.do("GET", "/api/v1/users", nil).JSON(t)
	if defaults["limit"].(float64) != 20 || defaults["offset"].(float64) != 0 || len(defaults["users"].([]any)) != 7 {
		t.Errorf("defaults %v", defaults)
	}
	empty := w.admin.do("GET", "/api/v1/users?offset=100", nil).JSON(t)
	if len(empty["users"].([]any)) != 0 || empty["total"].(float64) != 7 {
		t.Errorf("past the end: %v", empty)
	}

	for _, q := range []string{"limit=0", "limit=101", "limit=abc", "offset=-1", "offset=2147483648",
		"sorting_field=password_hash", "sorting_order=up", "limit=5&limit=6", "limit=1;offset=2"} {
		t.Run(q, func(t *testing.T) {
			assertStatus(t, w.admin.do("GET", "/api/v1/users?"+q, nil), 400, "invalid_request")
		})
	}
	assertStatus(t, w.admin.do("GET", "/api/v1/users?unknown=1", nil), 200, "")
}
