package ports

import (
	"net/http"
	"strings"
	"testing"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// TestDecodeJSON pins down the decoder's strictness one property at a time, each of
// which encoding/json would let through.
func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		fields []string // nil: accepted
	}{
		{name: "exact", body: `{"username":"alice","password":"secret"}`},
		{name: "any member order and whitespace", body: " {\n\t\"password\" : \"secret\" ,\"username\":\"alice\"}\n"},
		{name: "escapes", body: `{"username":"\u0061lice","password":"s\/ecret"}`},
		{name: "name in another case", body: `{"USERNAME":"alice","password":"secret"}`, fields: []string{"USERNAME"}},
		{name: "name in title case", body: `{"Username":"alice","password":"secret"}`, fields: []string{"Username"}},
		{name: "duplicate name", body: `{"username":"alice","username":"mallory","password":"secret"}`, fields: []string{"username"}},
		{name: "duplicate name spelled with an escape", body: `{"username":"alice","\u0075sername":"mallory","password":"secret"}`, fields: []string{"username"}},
		{name: "invalid UTF-8", body: "{\"username\":\"alice\",\"password\":\"se\xffcret\"}", fields: []string{}},
		{name: "lone surrogate", body: `{"username":"alice","password":"\ud800"}`, fields: []string{}},
		{name: "trailing object", body: `{"username":"alice","password":"secret"}{}`, fields: []string{}},
		{name: "trailing comma", body: `{"username":"alice","password":"secret",}`, fields: []string{}},
		{name: "unknown member", body: `{"username":"alice","password":"secret","role":"admin"}`, fields: []string{"role"}},
		{name: "missing member", body: `{"username":"alice"}`, fields: []string{"password"}},
		{name: "null member", body: `{"username":"alice","password":null}`, fields: []string{"password"}},
		{name: "boolean member", body: `{"username":"alice","password":true}`, fields: []string{"password"}},
		{name: "top-level null", body: `null`, fields: []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var req credentialsRequest
			err := decodeJSON([]byte(c.body), &req)
			if c.fields == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if req.Username.value != "alice" || req.Password.value != "s/ecret" && req.Password.value != "secret" {
					t.Errorf("decoded %+v", req)
				}
				return
			}
			e, ok := domain.AsError(err)
			if !ok || e.Code != codeInvalidRequest {
				t.Fatalf("err = %v, want invalid_request", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(c.fields, ",") {
				t.Errorf("fields %q, want %q (%v)", got, c.fields, err)
			}
		})
	}
}

func TestDecodeErrorsDoNotEchoTheBody(t *testing.T) {
	for _, body := range []string{
		`{"password":"` + secretPassword + `" "username":"x"}`,
		`{"password":"` + secretPassword + "\xff\"}",
		`{"password":"` + secretPassword + `"}{}`,
	} {
		err := decodeJSON([]byte(body), &credentialsRequest{})
		if err == nil || strings.Contains(err.Error(), secretPassword) {
			t.Errorf("decoding %q: %v", body, err)
		}
	}
}

func TestBodyAtTheLimitIsRead(t *testing.T) {
	prefix := `{"username":"alice","password":"`
	body := prefix + strings.Repeat("p", testMaxBody-len(prefix)-len(`"}`)) + `"}`
	h := newHarness(t)
	w := h.do(http.MethodPost, "/api/v1/account/login", body)
	wantNoContent(t, w)
	if len(h.login.msg.Password) != testMaxBody-len(prefix)-2 {
		t.Errorf("password of %d bytes sent", len(h.login.msg.Password))
	}
}

// FuzzDecode checks that no body makes the decoder panic or fail with anything but
// invalid_request, and that whatever it accepts has every member.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		``, ` `, `null`, `[]`, `"x"`, `0`, `{}`, `{`, `}`, `{"":""}`,
		`{"username":"alice","password":"secret","role":"user"}`,
		`{"username":"a","password":"b","role":"c"}{}`,
		`{"username":"a","username":"b","password":"c","role":"d"}`,
		`{"Username":"a","password":"b","role":"c"}`,
		"{\"username\":\"\xff\",\"password\":\"b\",\"role\":\"c\"}",
		`{"username":"\ud800","password":"b","role":"c"}`,
		`{"username":null,"password":"b","role":"c"}`,
		`{"username":1e999,"password":"b","role":"c"}`,
		`{"username":{"a":[1,2,{"b":null}]},"password":"b","role":"c"}`,
		`{"username":"a","password":"b","role":"c","extra":[]}`,
		`{"username":"a" "password":"b"}`,
		`{"username":"a",}`,
		"\ufeff{}",
		strings.Repeat("[", 10000),
		`{"username":` + strings.Repeat("[", 10000),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var req createUserRequest
		err := decodeJSON(data, &req)
		if err == nil {
			if !req.Username.set || !req.Password.set || !req.Role.set {
				t.Fatalf("accepted %q with a member missing: %+v", data, req)
			}
			return
		}
		if e, ok := domain.AsError(err); !ok || e.Code != codeInvalidRequest {
			t.Fatalf("decoding %q: %v, want invalid_request", data, err)
		}
	})
}

// FuzzParseListQuery checks that no query string makes parseListQuery panic or fail
// with anything but invalid_request, and that whatever it accepts is in range, with
// no offset on a page after a cursor.
func FuzzParseListQuery(f *testing.F) {
	cursor := queries.Cursor{SortField: queries.SortByRole, Descending: true,
		After: queries.Position{Role: domain.RoleAdmin, ID: targetID}}.Token()
	for _, seed := range []string{
		"", "limit=5&offset=10", "sorting_field=username&sorting_order=asc", "limit=1;offset=2", "offset=%zz",
		"cursor=" + cursor, "cursor=" + cursor + "&offset=0", "cursor=" + cursor + "&sorting_field=role&sorting_order=desc&limit=100",
		"cursor=" + cursor + "&sorting_order=asc", "cursor=" + cursor[:20], "cursor=&cursor=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseListQuery(raw)
		if err != nil {
			if e, ok := domain.AsError(err); !ok || e.Code != codeInvalidRequest {
				t.Fatalf("parsing %q: %v, want invalid_request", raw, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > queries.MaxLimit || q.Offset < 0 || q.Offset > queries.MaxOffset {
			t.Fatalf("accepted %q as limit %d, offset %d", raw, q.Limit, q.Offset)
		}
		if _, ok := queries.ParseSortField(string(q.SortField)); !ok {
			t.Fatalf("accepted %q sorted by %q", raw, q.SortField)
		}
		if q.After != nil && q.Offset != 0 {
			t.Fatalf("accepted %q with both a cursor and offset %d", raw, q.Offset)
		}
	})
}
