package ports

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/example/accounts/domain"
	"github.com/example/accounts/queries"
)

var (
	errTooLarge       = domain.NewError(codePayloadTooLarge, "The request body is too large.")
	errNotJSON        = domain.NewError(codeUnsupportedMediaType, "The request body must be application/json.")
	errEncoded        = domain.NewError(codeUnsupportedMediaType, "The request body must not be encoded: Content-Encoding identity only.")
	errUnreadableBody = invalidRequest("The request body could not be read.")
	errBodyTooSlow    = domain.NewError(codeRequestTimeout, "The request body did not arrive in time.")
)

// readJSON reads the body of r into v in the contract's order: its size (413), its
// media type (415), then its shape (400). The body is read whole before any of it is
// decoded, so a body one byte too large is refused whatever it holds.
func (s *server) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return errTooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errTooLarge
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The server's read timeout passed while the client was still sending.
		return errBodyTooSlow
	case err != nil:
		return errUnreadableBody
	case len(data) > 0 && !isJSON(r.Header.Get("Content-Type")):
		return errNotJSON
	case len(data) > 0 && !isIdentity(r.Header.Values("Content-Encoding")):
		return errEncoded
	}
	return decodeJSON(data, v)
}

// isIdentity reports whether a body comes as it is: the service decodes no
// compression, and a compressed body read as JSON would only fail later, or,
// decompressed, could stand for far more than max_body_bytes.
func isIdentity(encodings []string) bool {
	for _, header := range encodings {
		for coding := range strings.SplitSeq(header, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				return false
			}
		}
	}
	return true
}

// isJSON reports whether a Content-Type names application/json, in any letter case
// and with any parameters but a charset other than UTF-8: JSON is UTF-8 (RFC 8259),
// and a body declared as latin1 would otherwise be read as something it is not.
func isJSON(contentType string) bool {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/json" {
		return false
	}
	charset, ok := params["charset"]
	return !ok || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
}

// decodeJSON decodes one JSON object into v, a pointer to a request struct of text
// members. The decoder is strict where encoding/json is lenient, because leniency
// here changes meaning: names match case-sensitively, unknown and duplicate names,
// invalid UTF-8 and trailing data are refused, and every member is required.
func decodeJSON(data []byte, v any) error {
	if len(data) == 0 {
		return invalidRequest("The request body is empty; a JSON object is required.")
	}
	if jsontext.Value(data).Kind() != '{' {
		return invalidRequest("The request body must be a JSON object.")
	}
	if err := json.Unmarshal(data, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeError(err)
	}
	if missing := missingMembers(v); len(missing) > 0 {
		return invalidRequest("The request body lacks required members.", missing...)
	}
	return nil
}

// decodeError explains a decoding failure without echoing the library's text, which
// may quote the body; a member is named whenever the library knows which one.
func decodeError(err error) error {
	var syntactic *jsontext.SyntacticError
	var semantic *json.SemanticError
	switch {
	case errors.As(err, &syntactic) && errors.Is(syntactic.Err, jsontext.ErrDuplicateName):
		return invalidRequest("A member of the request body appears more than once.",
			memberError(syntactic.JSONPointer, "must appear only once"))
	case errors.As(err, &syntactic):
		return invalidRequest(fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntactic.ByteOffset))
	case errors.As(err, &semantic) && errors.Is(semantic.Err, json.ErrUnknownName):
		return invalidRequest("The request body has an unknown member.",
			memberError(semantic.JSONPointer, "is not a known member"))
	case errors.As(err, &semantic) && semantic.JSONPointer != "":
		return invalidRequest("A member of the request body has the wrong type.",
			memberError(semantic.JSONPointer, "must be a string"))
	}
	return invalidRequest("The request body is not valid JSON.")
}

func memberError(at jsontext.Pointer, message string) domain.FieldError {
	return domain.FieldError{Field: at.LastToken(), Message: message}
}

// text is a string member every request requires. Unlike a plain string it knows
// whether the member was present, and it refuses null and other kinds of value, which
// the JSON library would otherwise turn into "" or convert.
type text struct {
	value string
	set   bool
}

var errNotString = errors.New("not a JSON string")

// UnmarshalJSONFrom reads exactly one JSON value, as the json package requires, so
// that a syntax error inside a wrong-kind value is still reported as one.
func (t *text) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if dec.PeekKind() != '"' {
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return errNotString
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	t.value, t.set = tok.String(), true
	return nil
}

// missingMembers names the text members of the struct v points to that the body left
// out: the JSON library fills what is present but has no notion of required.
func missingMembers(v any) []domain.FieldError {
	s := reflect.ValueOf(v).Elem()
	var missing []domain.FieldError
	for i := range s.NumField() {
		if t, ok := s.Field(i).Interface().(text); ok && !t.set {
			name, _, _ := strings.Cut(s.Type().Field(i).Tag.Get("json"), ",")
			missing = append(missing, domain.FieldError{Field: name, Message: "is required"})
		}
	}
	return missing
}

// pathID reads the {id} path variable: a UUID in the 36-character hyphenated form,
// in any letter case, passed on in lowercase, the form ids are stored in.
func pathID(r *http.Request) (string, error) {
	raw := mux.Vars(r)["id"]
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return "", invalidRequest("The id in the path is not a UUID.",
			domain.FieldError{Field: "id", Message: "must be a UUID"})
	}
	return id.String(), nil
}

// parseListQuery reads the query of GET /api/v1/users, filling in the defaults.
// Unknown parameters are ignored; every bad known one is named.
func parseListQuery(rawQuery string) (queries.ListUsers, error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return queries.ListUsers{}, invalidRequest("The query string is malformed.")
	}
	p := params{values: values}
	q := queries.ListUsers{
		Limit:      p.integer("limit", 1, queries.MaxLimit, queries.DefaultLimit),
		Offset:     p.integer("offset", 0, queries.MaxOffset, 0),
		SortField:  p.sortField("sorting_field", queries.SortByUpdatedAt),
		Descending: p.descending("sorting_order", true),
	}
	if token, ok := p.get("cursor"); ok {
		p.resume(&q, token)
	}
	if len(p.problems) > 0 {
		return queries.ListUsers{}, invalidRequest("The query string has invalid parameters.", p.problems...)
	}
	return q, nil
}

// resume makes q the page after a cursor's position, in the cursor's sort order. The
// cursor says where the page starts, so offset may not be given with it; and it
// belongs to one sort order, which the sorting parameters may leave out but not
// contradict.
func (p *params) resume(q *queries.ListUsers, token string) {
	c, ok := queries.ParseCursor(token)
	switch {
	case !ok:
		p.fail("cursor", "must be a next_cursor of this list, unchanged")
	case p.chose("offset"):
		p.fail("cursor", "cannot be combined with offset")
	case p.chose("sorting_field") && q.SortField != c.SortField,
		p.chose("sorting_order") && q.Descending != c.Descending:
		p.fail("cursor", "belongs to another sorting_field or sorting_order")
	default:
		q.SortField, q.Descending, q.After = c.SortField, c.Descending, &c.After
	}
}

// params reads known query parameters, gathering every problem rather than stopping
// at the first, so that a client learns all of them at once.
type params struct {
	values   url.Values
	problems []domain.FieldError
}

// get returns the single value of parameter name; a parameter given twice is a
// problem, since which of the two was meant cannot be known.
func (p *params) get(name string) (string, bool) {
	switch vs := p.values[name]; len(vs) {
	case 0:
		return "", false
	case 1:
		return vs[0], true
	}
	p.fail(name, "must be given at most once")
	return "", false
}

// chose reports whether the client gave parameter name a value of its own: it is
// there, and no problem was found with it.
func (p *params) chose(name string) bool {
	return len(p.values[name]) > 0 &&
		!slices.ContainsFunc(p.problems, func(f domain.FieldError) bool { return f.Field == name })
}

func (p *params) fail(name, message string) {
	p.problems = append(p.problems, domain.FieldError{Field: name, Message: message})
}

// integer reads a plain base-10 integer in [lo, hi]: digits only, so no sign, space
// or exponent.
func (p *params) integer(name string, lo, hi, fallback int) int {
	s, ok := p.get(name)
	if !ok {
		return fallback
	}
	n, err := strconv.Atoi(s)
	if err != nil || strings.Trim(s, "0123456789") != "" || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return fallback
	}
	return n
}

func (p *params) sortField(name string, fallback queries.SortField) queries.SortField {
	s, ok := p.get(name)
	if !ok {
		return fallback
	}
	f, ok := queries.ParseSortField(s)
	if !ok {
		p.fail(name, "must be one of username, role, is_active, created_at, updated_at")
		return fallback
	}
	return f
}

func (p *params) descending(name string, fallback bool) bool {
	s, ok := p.get(name)
	switch {
	case !ok:
		return fallback
	case s == "asc":
		return false
	case s == "desc":
		return true
	}
	p.fail(name, "must be asc or desc")
	return fallback
}
