package ports

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

func TestCreateUser(t *testing.T) {
	for _, role := range []domain.Role{domain.RoleUser, domain.RoleAdmin} {
		t.Run(string(role), func(t *testing.T) {
			h := newHarness(t)
			w := h.do(http.MethodPost, "/api/v1/users", `{"username":"carol","password":"`+secretPassword+`","role":"`+string(role)+`"}`,
				withCookie(sessionToken))
			wantBody(t, w, http.StatusCreated, `{"id":"`+targetID+`","created_at":"2026-11-24T08:00:00.123456Z"}`)
			if got := w.Header().Get("Location"); got != "/api/v1/users/"+targetID {
				t.Errorf("Location = %q", got)
			}
			want := commands.CreateUser{Actor: theActor, Username: "carol", Password: secretPassword, Role: role, ClientAddr: "192.0.2.1"}
			if h.createUser.msg != want {
				t.Errorf("sent %+v, want %+v", h.createUser.msg, want)
			}
		})
	}
}

func TestCreateUserRoleIsAShapeCheck(t *testing.T) {
	for _, role := range []string{`"super_admin"`, `"Admin"`, `"USER"`, `""`, `"root"`, `" user"`} {
		t.Run(role, func(t *testing.T) {
			h := newHarness(t)
			// No cookie: the role is refused before authentication.
			w := h.do(http.MethodPost, "/api/v1/users", `{"username":"carol","password":"`+secretPassword+`","role":`+role+`}`)
			wantProblem(t, w, http.StatusBadRequest, codeInvalidRequest, "role")
		})
	}
}

func TestGetUserNormalizesTheID(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodGet, "/api/v1/users/"+strings.ToUpper(targetID), "", withCookie(sessionToken))
	wantBody(t, w, http.StatusOK, aUserJSON)
	if h.getUser.msg != (queries.GetUser{Actor: theActor, UserID: targetID}) {
		t.Errorf("sent %+v", h.getUser.msg)
	}
}

func TestSetUserPassword(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodPut, "/api/v1/users/"+strings.ToUpper(targetID)+"/password", `{"password":"`+secretPassword+`"}`,
		withCookie(sessionToken))
	wantNoContent(t, w)
	want := commands.SetUserPassword{Actor: theActor, UserID: targetID, Password: secretPassword, ClientAddr: "192.0.2.1"}
	if h.setUserPassword.msg != want {
		t.Errorf("sent %+v, want %+v", h.setUserPassword.msg, want)
	}
}

func TestSetAdmin(t *testing.T) {
	for method, admin := range map[string]bool{http.MethodPut: true, http.MethodDelete: false} {
		t.Run(method, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(method, "/api/v1/users/"+targetID+"/roles/admin", "", withCookie(sessionToken))
			wantNoContent(t, w)
			if want := (commands.SetAdmin{Actor: theActor, UserID: targetID, Admin: admin}); h.setAdmin.msg != want {
				t.Errorf("sent %+v, want %+v", h.setAdmin.msg, want)
			}
		})
	}
}

func TestSetActive(t *testing.T) {
	for method, active := range map[string]bool{http.MethodPut: true, http.MethodDelete: false} {
		t.Run(method, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(method, "/api/v1/users/"+targetID+"/activation", "", withCookie(sessionToken))
			wantNoContent(t, w)
			if want := (commands.SetActive{Actor: theActor, UserID: targetID, Active: active}); h.setActive.msg != want {
				t.Errorf("sent %+v, want %+v", h.setActive.msg, want)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	h := newHarness(t)
	h.listUsers.res = queries.UserPage{Users: []queries.UserView{aUser}, Total: 41, Limit: 1, Offset: 40}
	w := h.do(http.MethodGet, "/api/v1/users?limit=1&offset=40", "", withCookie(sessionToken))
	wantBody(t, w, http.StatusOK, `{"users":[`+aUserJSON+`],"total":41,"limit":1,"offset":40,"next_cursor":null}`)
}

func TestListUsersEmptyPageHasAnArray(t *testing.T) {
	h := newHarness(t)
	h.listUsers.res = queries.UserPage{Total: 3, Limit: 20, Offset: 100}
	w := h.do(http.MethodGet, "/api/v1/users?offset=100", "", withCookie(sessionToken))
	wantBody(t, w, http.StatusOK, `{"users":[],"total":3,"limit":20,"offset":100,"next_cursor":null}`)
}

func TestListUsersNextCursor(t *testing.T) {
	h := newHarness(t)
	next := queries.Cursor{SortField: queries.SortByRole, After: queries.Position{Role: domain.RoleUser, ID: targetID}}
	h.listUsers.res = queries.UserPage{Users: []queries.UserView{aUser}, Total: 41, Limit: 1, Next: &next}
	w := h.do(http.MethodGet, "/api/v1/users?limit=1&sorting_field=role&sorting_order=asc", "", withCookie(sessionToken))
	wantBody(t, w, http.StatusOK, `{"users":[`+aUserJSON+`],"total":41,"limit":1,"offset":0,"next_cursor":"`+next.Token()+`"}`)
}

// Cursors of the list, as a page hands them out.
var (
	afterUsername = queries.Cursor{SortField: queries.SortByUsername, After: queries.Position{Username: "bob.smith"}}
	afterUpdated  = queries.Cursor{SortField: queries.SortByUpdatedAt, Descending: true, After: queries.Position{Time: created.Truncate(time.Microsecond), ID: targetID}}
)

func TestListUsersQuery(t *testing.T) {
	defaults := queries.ListUsers{Actor: theActor, Limit: 20, Offset: 0, SortField: queries.SortByUpdatedAt, Descending: true}
	with := func(change func(*queries.ListUsers)) queries.ListUsers {
		q := defaults
		change(&q)
		return q
	}
	for query, want := range map[string]queries.ListUsers{
		"":                         defaults,
		"unknown=1&other":          defaults,
		"limit=1":                  with(func(q *queries.ListUsers) { q.Limit = 1 }),
		"limit=100":                with(func(q *queries.ListUsers) { q.Limit = 100 }),
		"limit=007":                with(func(q *queries.ListUsers) { q.Limit = 7 }),
		"offset=2147483647":        with(func(q *queries.ListUsers) { q.Offset = 2147483647 }),
		"sorting_field=username":   with(func(q *queries.ListUsers) { q.SortField = queries.SortByUsername }),
		"sorting_field=role":       with(func(q *queries.ListUsers) { q.SortField = queries.SortByRole }),
		"sorting_field=is_active":  with(func(q *queries.ListUsers) { q.SortField = queries.SortByIsActive }),
		"sorting_field=created_at": with(func(q *queries.ListUsers) { q.SortField = queries.SortByCreatedAt }),
		"sorting_order=asc":        with(func(q *queries.ListUsers) { q.Descending = false }),
		"sorting_order=desc":       defaults,
		"limit=5&offset=10&sorting_field=username&sorting_order=asc": {
			Actor: theActor, Limit: 5, Offset: 10, SortField: queries.SortByUsername,
		},
		// A cursor brings its own sort order, which the query may repeat.
		"cursor=" + afterUsername.Token(): {
			Actor: theActor, Limit: 20, SortField: queries.SortByUsername, After: &afterUsername.After,
		},
		"cursor=" + afterUsername.Token() + "&sorting_field=username&sorting_order=asc&limit=3": {
			Actor: theActor, Limit: 3, SortField: queries.SortByUsername, After: &afterUsername.After,
		},
		"sorting_order=desc&cursor=" + afterUpdated.Token(): with(func(q *queries.ListUsers) { q.After = &afterUpdated.After }),
	} {
		t.Run(query, func(t *testing.T) {
			h := newHarness(t)
			w := h.do(http.MethodGet, "/api/v1/users?"+query, "", withCookie(sessionToken))
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d; body %s", w.Code, w.Body)
			}
			if got := h.listUsers.msg; !reflect.DeepEqual(got, want) {
				t.Errorf("sent %+v after %+v, want %+v after %+v", got, position(got), want, position(want))
			}
		})
	}
}

// position is where q starts, for messages: nil, or the position itself rather than
// its address.
func position(q queries.ListUsers) any {
	if q.After == nil {
		return nil
	}
	return *q.After
}

func TestListUsersBadQuery(t *testing.T) {
	for query, fields := range map[string][]string{
		"limit=0":                               {"limit"},
		"limit=101":                             {"limit"},
		"limit=":                                {"limit"},
		"limit=abc":                             {"limit"},
		"limit=%2B5":                            {"limit"},
		"limit=-0":                              {"limit"},
		"limit=1.0":                             {"limit"},
		"limit=1e1":                             {"limit"},
		"limit=%205":                            {"limit"},
		"limit=99999999999999999999":            {"limit"},
		"offset=-1":                             {"offset"},
		"offset=2147483648":                     {"offset"},
		"sorting_field=id":                      {"sorting_field"},
		"sorting_field=USERNAME":                {"sorting_field"},
		"sorting_field=":                        {"sorting_field"},
		"sorting_order=ASC":                     {"sorting_order"},
		"sorting_order=ascending":               {"sorting_order"},
		"limit=1&limit=1":                       {"limit"},
		"offset=1&offset=2":                     {"offset"},
		"sorting_field=role&sorting_field=role": {"sorting_field"},
		"sorting_order=asc&sorting_order=desc":  {"sorting_order"},
		"limit=0&offset=x&sorting_field=x&sorting_order=x": {"limit", "offset", "sorting_field", "sorting_order"},
		"limit=1;offset=2": nil, // url.ParseQuery refuses a raw ';'
		"limit=%zz":        nil,

		"cursor=":              {"cursor"},
		"cursor=garbage":       {"cursor"},
		"cursor=" + junkCursor: {"cursor"},
		"cursor=" + afterUsername.Token() + "%3D":                              {"cursor"},
		"cursor=" + afterUsername.Token()[1:]:                                  {"cursor"},
		"cursor=" + afterUsername.Token() + "&cursor=" + afterUsername.Token(): {"cursor"},
		// A cursor says where the page starts, and in which sort order.
		"offset=0&cursor=" + afterUsername.Token():                 {"cursor"},
		"offset=20&cursor=" + afterUsername.Token():                {"cursor"},
		"sorting_field=role&cursor=" + afterUsername.Token():       {"cursor"},
		"sorting_order=desc&cursor=" + afterUsername.Token():       {"cursor"},
		"sorting_field=updated_at&cursor=" + afterUsername.Token(): {"cursor"},
		// A parameter that is wrong on its own is named alone, not blamed on the cursor.
		"sorting_field=bogus&cursor=" + afterUsername.Token(): {"sorting_field"},
		"offset=x&cursor=" + afterUsername.Token():            {"offset"},
		"limit=0&cursor=garbage":                              {"limit", "cursor"},
	} {
		t.Run(query, func(t *testing.T) {
			h := newHarness(t)
			// No cookie: the query is checked before authentication.
			w := h.do(http.MethodGet, "/api/v1/users?"+query, "")
			wantProblem(t, w, http.StatusBadRequest, codeInvalidRequest, fields...)
		})
	}
}

// junkCursor is valid base64url of something that is not a cursor.
var junkCursor = base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"sort":"username","order":"asc","key":{"$ne":null}}`))
