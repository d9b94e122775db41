package ports

import (
	stdjson "encoding/json"
	"math/big"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

// requestBodies makes an empty value of each request body the endpoints decode.
var requestBodies = []func() any{
	func() any { return &credentialsRequest{} },
	func() any { return &changePasswordRequest{} },
	func() any { return &createUserRequest{} },
	func() any { return &setPasswordRequest{} },
}

// membersOf is what a decoded request body holds, by JSON member name.
func membersOf(v any) map[string]string {
	s := reflect.ValueOf(v).Elem()
	members := make(map[string]string, s.NumField())
	for i := range s.NumField() {
		if t, ok := s.Field(i).Interface().(text); ok {
			name, _, _ := strings.Cut(s.Type().Field(i).Tag.Get("json"), ",")
			members[name] = t.value
		}
	}
	return members
}

// FuzzDecodeJSON checks that no body makes decodeJSON panic or fail with anything
// but invalid_request, whichever request it decodes into, and that a body it
// accepts means the same to a lenient decoder, encoding/json: exactly the request's
// members, each a string of the value decoded, so nothing a lenient reader would
// see differently (a duplicate, a name in another case, invalid UTF-8, trailing
// data) gets through. The decoded request, encoded again, is accepted as the same.
func FuzzDecodeJSON(f *testing.F) {
	for kind, seeds := range [][]string{
		{`{"username":"alice","password":"secret"}`, ` {"password" : "s\/e\u0063ret" ,"username":"alice"}` + "\n",
			`{"username":"alice","username":"bob","password":"x"}`, `{"Username":"alice","password":"secret"}`,
			"{\"username\":\"al\xffice\",\"password\":\"secret\"}", `{"username":"alice","password":"\ud800"}`},
		{`{"current_password":"old secret","new_password":"new secret"}`, `{"current_password":"a","new_password":null}`,
			`{"current_password":"a","new_password":"b"}{}`, `{"current_password":"a"}`},
		{`{"username":"bob","password":"secret","role":"user"}`, `{"username":"bob","password":"secret","role":"user","extra":1}`,
			`{"username":1e999,"password":"b","role":"c"}`, `{"username":{"a":[1,{"b":null}]},"password":"b","role":"c"}`},
		{`{"password":"secret"}`, `{"password":"\u0000\u2028\ud83d\ude00"}`, "\ufeff{\"password\":\"x\"}", `[]`, `"x"`, ``, ` `,
			`{"password":"x",}`, `{"password":` + strings.Repeat("[", 1000)},
	} {
		for _, seed := range seeds {
			f.Add(uint8(kind), []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		newBody := requestBodies[int(kind)%len(requestBodies)]
		req := newBody()
		if err := decodeJSON(data, req); err != nil {
			if e, ok := domain.AsError(err); !ok || e.Code != codeInvalidRequest {
				t.Fatalf("decoding %q into %T: %v, want invalid_request", data, req, err)
			}
			return
		}
		decoded := membersOf(req)

		var lenient map[string]any
		if err := stdjson.Unmarshal(data, &lenient); err != nil {
			t.Fatalf("accepted %q into %T, which encoding/json refuses: %v", data, req, err)
		}
		if len(lenient) != len(decoded) {
			t.Fatalf("accepted %q into %T as %q, but it has %d members", data, req, decoded, len(lenient))
		}
		for name, value := range decoded {
			if lenient[name] != value {
				t.Fatalf("accepted %q into %T with %s = %q, but encoding/json reads %#v", data, req, name, value, lenient[name])
			}
		}

		encoded, err := stdjson.Marshal(decoded)
		if err != nil {
			t.Fatalf("encoding %q: %v", decoded, err)
		}
		again := newBody()
		if err := decodeJSON(encoded, again); err != nil {
			t.Fatalf("accepted %q into %T, but not its re-encoding %q: %v", data, req, encoded, err)
		}
		if !reflect.DeepEqual(membersOf(again), decoded) {
			t.Fatalf("accepted %q into %T as %q, its re-encoding %q as %q", data, req, decoded, encoded, membersOf(again))
		}
	})
}

// listCursors are next_cursor tokens of every sort order, which the fuzzer could
// not forge from nothing, for FuzzListQueryParams to combine with the other
// parameters.
var listCursors = func() []queries.Cursor {
	const id = "0190b3a2-0000-7000-8000-00000000000a"
	at := time.Date(2026, 11, 24, 8, 0, 0, 123456000, time.UTC)
	return []queries.Cursor{
		{SortField: queries.SortByUsername, After: queries.Position{Username: "bob.smith"}},
		{SortField: queries.SortByRole, Descending: true, After: queries.Position{Role: domain.RoleAdmin, ID: id}},
		{SortField: queries.SortByIsActive, After: queries.Position{IsActive: true, ID: id}},
		{SortField: queries.SortByCreatedAt, After: queries.Position{Time: at, ID: id}},
		{SortField: queries.SortByUpdatedAt, Descending: true, After: queries.Position{Time: at, ID: id}},
	}
}()

var digits = regexp.MustCompile(`^[0-9]+$`)

// inRange is the oracle of a numeric parameter: digits only, and a value in [lo, hi]
// however many digits spell it.
func inRange(s string, lo, hi int64) bool {
	n, ok := new(big.Int).SetString(s, 10)
	return digits.MatchString(s) && ok && n.Cmp(big.NewInt(lo)) >= 0 && n.Cmp(big.NewInt(hi)) <= 0
}

// FuzzListQueryParams builds list queries from parameters, each present or not and
// given once or twice, with a cursor either a real one or fuzzed, and checks that
// parseListQuery refuses exactly the queries with a bad parameter, naming each bad
// one, and reads an accepted one as meant: the values given, the defaults for the
// rest, and a cursor's own order.
func FuzzListQueryParams(f *testing.F) {
	f.Add("5", "10", "username", "asc", "", uint8(0b01111), uint8(0), uint8(255))
	f.Add("100", "0", "role", "desc", "", uint8(0b11111), uint8(0), uint8(1))
	f.Add("1", "", "role", "desc", "", uint8(0b11101), uint8(0), uint8(1))
	f.Add("20", "", "created_at", "asc", "", uint8(0b11101), uint8(0), uint8(3))
	f.Add("", "", "", "", "", uint8(0b10000), uint8(0), uint8(4))
	f.Add("0", "-1", "Username", "ASC", "x", uint8(0b11111), uint8(0), uint8(255))
	f.Add("007", "2147483647", "is_active", "desc", "", uint8(0b00111), uint8(0b00100), uint8(255))
	f.Add("101", "2147483648", "updated_at", "asc", "", uint8(0b11111), uint8(0b10000), uint8(2))
	f.Add("+5", " 1", "", "", "eyJ2IjoxfQ", uint8(0b10011), uint8(0), uint8(255))
	f.Add("99999999999999999999", "1e3", "id", "up", "", uint8(0b01111), uint8(0b00011), uint8(255))
	f.Fuzz(func(t *testing.T, limit, offset, field, order, cursor string, present, twice, pick uint8) {
		if int(pick) < len(listCursors) {
			cursor = listCursors[pick].Token()
		}
		names := []string{"limit", "offset", "sorting_field", "sorting_order", "cursor"}
		given := map[string]string{"limit": limit, "offset": offset, "sorting_field": field, "sorting_order": order, "cursor": cursor}
		values := url.Values{"other": {"ignored"}}
		for i, name := range names {
			switch {
			case present&(1<<i) == 0:
				delete(given, name)
			case twice&(1<<i) != 0:
				values[name] = []string{given[name], given[name]}
			default:
				values[name] = []string{given[name]}
			}
		}

		// The oracle: which parameters are bad, and what a good query means.
		bad := map[string]bool{}
		good := func(name string, ok bool) bool {
			_, isGiven := given[name]
			if isGiven && (len(values[name]) > 1 || !ok) {
				bad[name] = true
			}
			return isGiven && !bad[name]
		}
		want := queries.ListUsers{Limit: queries.DefaultLimit, SortField: queries.SortByUpdatedAt, Descending: true}
		if good("limit", inRange(limit, 1, queries.MaxLimit)) {
			n, _ := new(big.Int).SetString(limit, 10)
			want.Limit = int(n.Int64())
		}
		offsetChosen := good("offset", inRange(offset, 0, queries.MaxOffset))
		if offsetChosen {
			n, _ := new(big.Int).SetString(offset, 10)
			want.Offset = int(n.Int64())
		}
		fieldChosen := good("sorting_field", slices.Contains([]string{"username", "role", "is_active", "created_at", "updated_at"}, field))
		if fieldChosen {
			want.SortField = queries.SortField(field)
		}
		orderChosen := good("sorting_order", order == "asc" || order == "desc")
		if orderChosen {
			want.Descending = order == "desc"
		}
		c, cursorOK := queries.ParseCursor(cursor)
		if good("cursor", cursorOK &&
			!offsetChosen &&
			(!fieldChosen || want.SortField == c.SortField) &&
			(!orderChosen || want.Descending == c.Descending)) {
			want.SortField, want.Descending, want.After = c.SortField, c.Descending, &c.After
		}

		raw := values.Encode()
		q, err := parseListQuery(raw)
		if err != nil {
			e, ok := domain.AsError(err)
			if !ok || e.Code != codeInvalidRequest {
				t.Fatalf("parsing %q: %v, want invalid_request", raw, err)
			}
			var named []string
			for _, fe := range e.Fields {
				named = append(named, fe.Field)
			}
			slices.Sort(named)
			var wantNamed []string
			for name := range bad {
				wantNamed = append(wantNamed, name)
			}
			slices.Sort(wantNamed)
			if !slices.Equal(named, wantNamed) {
				t.Fatalf("parsing %q named %q at fault, want %q", raw, named, wantNamed)
			}
			return
		}
		if len(bad) > 0 {
			t.Fatalf("accepted %q as %+v, but %v are bad", raw, q, bad)
		}
		if q.Limit != want.Limit || q.Offset != want.Offset || q.SortField != want.SortField || q.Descending != want.Descending ||
			(q.After == nil) != (want.After == nil) || q.After != nil && !samePlace(*q.After, *want.After) {
			t.Fatalf("parsed %q as %+v, want %+v", raw, q, want)
		}
	})
}

func samePlace(a, b queries.Position) bool {
	return a.Username == b.Username && a.Role == b.Role && a.IsActive == b.IsActive && a.Time.Equal(b.Time) && a.ID == b.ID
}
