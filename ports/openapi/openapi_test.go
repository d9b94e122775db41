package openapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/example/accounts/ports/openapi"
)

const problemRef = "#/components/schemas/Problem"

// load parses and validates the document the way any OpenAPI tool would, examples
// included, so a mistake in it fails here rather than in a client's code generator.
func load(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestDocumentIsValidOpenAPI303(t *testing.T) {
	doc := load(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

// operation is one operation of the loaded document with where it lives.
type operation struct {
	method, path string
	op           *openapi3.Operation
}

func (o operation) String() string { return o.method + " " + o.path }

func allOperations(doc *openapi3.T) []operation {
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, operation{method, path, op})
		}
	}
	return ops
}

func TestOperationIDs(t *testing.T) {
	want := []string{
		"root", "docs", "openapiDocument", "livez", "readyz", "apiIndex",
		"signup", "login", "logout", "getMe", "changeOwnPassword",
		"createUser", "listUsers", "getUser", "setUserPassword",
		"grantAdmin", "revokeAdmin", "reactivateUser", "inactivateUser",
	}
	var got []string
	for _, o := range allOperations(load(t)) {
		if o.op.OperationID == "" {
			t.Errorf("%s has no operationId", o)
		}
		if o.op.Summary == "" || o.op.Description == "" {
			t.Errorf("%s lacks a summary or a description", o)
		}
		got = append(got, o.op.OperationID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("operationIds = %v, want %v", got, want)
	}
}

// problemCodes returns the status and codes a problem response narrows Problem to,
// failing unless its schema is Problem itself or Problem narrowed with allOf.
func problemCodes(t *testing.T, where string, schema *openapi3.SchemaRef) (statuses []int, codes []string) {
	t.Helper()
	if schema == nil {
		t.Errorf("%s: no schema", where)
		return nil, nil
	}
	if schema.Ref == problemRef {
		return nil, nil
	}
	all := schema.Value.AllOf
	if len(all) != 2 || all[0].Ref != problemRef {
		t.Errorf("%s: schema is neither %s nor allOf [%[2]s, narrowing]", where, problemRef)
		return nil, nil
	}
	narrowing := all[1].Value.Properties
	for _, s := range narrowing["status"].Value.Enum {
		statuses = append(statuses, int(s.(float64)))
	}
	for _, c := range narrowing["code"].Value.Enum {
		codes = append(codes, c.(string))
	}
	return statuses, codes
}

// TestResponses checks what every client relies on: each error is problem JSON under
// its own status, each success is JSON (the docs page aside), and every response
// carries the correlation id.
func TestResponses(t *testing.T) {
	for _, o := range allOperations(load(t)) {
		for key, ref := range o.op.Responses.Map() {
			where := o.String() + " " + key
			status, err := strconv.Atoi(key)
			if err != nil {
				t.Errorf("%s: response key is not a status", where)
				continue
			}
			resp := ref.Value
			if resp.Headers["X-Request-Id"] == nil {
				t.Errorf("%s: no X-Request-Id header", where)
			}
			var types []string
			for ct := range resp.Content {
				types = append(types, ct)
			}
			switch {
			case status >= 400:
				if ref.Ref == "" {
					t.Errorf("%s: not a shared response from components", where)
				}
				if !slices.Equal(types, []string{"application/problem+json"}) {
					t.Errorf("%s: content types %v, want only application/problem+json", where, types)
					continue
				}
				statuses, _ := problemCodes(t, where, resp.Content["application/problem+json"].Schema)
				if statuses != nil && !slices.Equal(statuses, []int{status}) {
					t.Errorf("%s: problem status narrowed to %v", where, statuses)
				}
				if (status == 429 || status == 503) && resp.Headers["Retry-After"] == nil {
					t.Errorf("%s: no Retry-After header", where)
				}
			case status == 204 || status == 307:
				if len(types) != 0 {
					t.Errorf("%s: content types %v, want none", where, types)
				}
			case o.op.OperationID == "docs":
				if !slices.Equal(types, []string{"text/html"}) {
					t.Errorf("%s: content types %v, want text/html", where, types)
				}
			default:
				if !slices.Equal(types, []string{"application/json"}) {
					t.Errorf("%s: content types %v, want application/json", where, types)
				}
			}
		}
	}
}

// TestEveryCodeIsAnswered checks that the shared responses between them answer every
// code of the Problem schema, and no other, so the contract's table of codes cannot lose a row.
func TestEveryCodeIsAnswered(t *testing.T) {
	doc := load(t)
	var answered []string
	for name, ref := range doc.Components.Responses {
		if media := ref.Value.Content["application/problem+json"]; media != nil {
			_, codes := problemCodes(t, name, media.Schema)
			answered = append(answered, codes...)
		}
	}
	var declared []string
	for _, c := range doc.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum {
		declared = append(declared, c.(string))
	}
	slices.Sort(answered)
	answered = slices.Compact(answered)
	slices.Sort(declared)
	if !slices.Equal(answered, declared) {
		t.Errorf("codes answered by shared responses = %v, Problem.code = %v", answered, declared)
	}
}

// TestLoginRequired checks that exactly the endpoints that need a session declare the
// cookie and answer 401 unauthenticated.
func TestLoginRequired(t *testing.T) {
	want := []string{
		"logout", "getMe", "changeOwnPassword", "createUser", "listUsers", "getUser",
		"setUserPassword", "grantAdmin", "revokeAdmin", "reactivateUser", "inactivateUser",
	}
	for _, o := range allOperations(load(t)) {
		needs := slices.Contains(want, o.op.OperationID)
		declares := o.op.Security != nil && slices.ContainsFunc(*o.op.Security, func(r openapi3.SecurityRequirement) bool {
			_, ok := r["cookieAuth"]
			return ok
		})
		if declares != needs {
			t.Errorf("%s: declares cookieAuth = %v, want %v", o, declares, needs)
		}
		// A public operation says so with an empty list, rather than by saying nothing,
		// which linters (and readers) cannot tell from a forgotten requirement.
		if !needs && (o.op.Security == nil || len(*o.op.Security) != 0) {
			t.Errorf("%s: security is not declared empty (security: [])", o)
		}
		answers401 := false
		if resp := o.op.Responses.Status(401); resp != nil {
			_, codes := problemCodes(t, o.String()+" 401", resp.Value.Content["application/problem+json"].Schema)
			answers401 = slices.Contains(codes, "unauthenticated")
		}
		if answers401 != needs {
			t.Errorf("%s: answers 401 unauthenticated = %v, want %v", o, answers401, needs)
		}
	}
}

// TestRequestIDIsNoParameter: X-Request-Id is optional and the same everywhere, so it
// is described once, in the document's description, and not declared as a parameter:
// a declared header parameter makes Swagger UI send its example with every request
// (so every try would share one correlation id), and makes generated clients take
// a parameters argument on every call. Every response still documents the header
// (TestResponses).
func TestRequestIDIsNoParameter(t *testing.T) {
	doc := load(t)
	check := func(where string, params openapi3.Parameters) {
		for _, p := range params {
			if strings.EqualFold(p.Value.Name, "X-Request-Id") {
				t.Errorf("%s declares the parameter %s", where, p.Value.Name)
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		check(path, item.Parameters)
		for method, op := range item.Operations() {
			check(method+" "+path, op.Parameters)
		}
	}
	for name, p := range doc.Components.Parameters {
		if strings.EqualFold(p.Value.Name, "X-Request-Id") {
			t.Errorf("components.parameters.%s is X-Request-Id", name)
		}
	}
	if !strings.Contains(doc.Info.Description, "## Correlation id") || !strings.Contains(doc.Info.Description, "send the header yourself") {
		t.Error("the description does not say how to send X-Request-Id")
	}
}

func TestOperationsMatchDocument(t *testing.T) {
	got, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var want []openapi.Operation
	for _, o := range allOperations(load(t)) {
		want = append(want, openapi.Operation{Method: o.method, Path: o.path, OperationID: o.op.OperationID})
	}
	if len(got) != len(want) {
		t.Fatalf("Operations() has %d entries, the document %d", len(got), len(want))
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Operations() lacks %+v", w)
		}
	}
	if !slices.IsSortedFunc(got, func(a, b openapi.Operation) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	}) {
		t.Errorf("Operations() is not sorted by path and method: %v", got)
	}
	if !slices.Contains(got, openapi.Operation{Method: http.MethodGet, Path: "/api/v1/users/{id}", OperationID: "getUser"}) {
		t.Errorf("Operations() lacks GET /api/v1/users/{id} in template form: %v", got)
	}
}

func TestDocumentReturnsACopy(t *testing.T) {
	openapi.Document()[0] = 'x'
	if openapi.Document()[0] != '{' {
		t.Error("changing what Document returned changed the document")
	}
}

func serve(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestSpecHandler(t *testing.T) {
	w := serve(openapi.SpecHandler(), http.MethodGet, "/openapi.json", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !json.Valid(w.Body.Bytes()) || w.Body.String() != string(openapi.Document()) {
		t.Error("body is not the document")
	}

	again := serve(openapi.SpecHandler(), http.MethodGet, "/openapi.json",
		http.Header{"If-None-Match": {w.Header().Get("ETag")}})
	if again.Code != http.StatusNotModified {
		t.Errorf("revalidation with the ETag: status = %d, want 304", again.Code)
	}
}

func TestUIPage(t *testing.T) {
	for _, target := range []string{"/docs", "/docs/"} {
		w := serve(openapi.UIHandler(), http.MethodGet, target, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: status = %d", target, w.Code)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type = %q", target, ct)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy = %q", target, csp)
		}
		body := w.Body.String()
		if !strings.Contains(body, "swagger-ui") {
			t.Errorf("GET %s: the page does not mention swagger-ui", target)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("GET %s: the page has an inline script, which its CSP refuses", target)
		}
	}
}

// TestUIWorksOffline fetches everything the page refers to from the handler itself,
// and checks that neither the page nor its script names another host.
func TestUIWorksOffline(t *testing.T) {
	h := openapi.UIHandler()
	page := serve(h, http.MethodGet, "/docs", nil).Body.String()
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) == 0 {
		t.Fatal("the page refers to nothing")
	}
	for _, ref := range refs {
		w := serve(h, http.MethodGet, ref[1], nil)
		if w.Code != http.StatusOK || w.Body.Len() == 0 {
			t.Errorf("GET %s: status %d, %d bytes", ref[1], w.Code, w.Body.Len())
		}
	}
	initJS := serve(h, http.MethodGet, "/docs/init.js", nil).Body.String()
	for name, text := range map[string]string{"page": page, "init.js": initJS} {
		if strings.Contains(text, "http://") || strings.Contains(text, "https://") {
			t.Errorf("the %s names another host", name)
		}
	}
}

func TestUIAssets(t *testing.T) {
	h := openapi.UIHandler()
	tests := []struct {
		path, contentType, contains string
	}{
		{"/docs/swagger-ui-bundle.js", "javascript", "SwaggerUIBundle"},
		{"/docs/swagger-ui-standalone-preset.js", "javascript", "SwaggerUIStandalonePreset"},
		{"/docs/swagger-ui.css", "text/css", ".swagger-ui"},
		{"/docs/init.js", "javascript", `"/openapi.json"`},
	}
	for _, tt := range tests {
		w := serve(h, http.MethodGet, tt.path, nil)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status = %d", tt.path, w.Code)
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, tt.contentType) {
			t.Errorf("GET %s: Content-Type = %q, want %s", tt.path, ct, tt.contentType)
		}
		if !strings.Contains(w.Body.String(), tt.contains) {
			t.Errorf("GET %s: body does not contain %s", tt.path, tt.contains)
		}
	}
}

func TestUIRefusals(t *testing.T) {
	h := openapi.UIHandler()
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/docs/nope.js", http.StatusNotFound, "not_found"},
		// Swagger UI's own page would load the Petstore example.
		{http.MethodGet, "/docs/swagger-initializer.js", http.StatusNotFound, "not_found"},
		{http.MethodGet, "/docs/index.html", http.StatusNotFound, "not_found"},
		{http.MethodGet, "/docsx", http.StatusNotFound, "not_found"},
		{http.MethodPost, "/docs", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		w := serve(h, tt.method, tt.path, nil)
		if w.Code != tt.status {
			t.Errorf("%s %s: status = %d, want %d", tt.method, tt.path, w.Code, tt.status)
			continue
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: Content-Type = %q", tt.method, tt.path, ct)
		}
		var p struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != tt.status || p.Code != tt.code {
			t.Errorf("%s %s: body %s, want status %d and code %s", tt.method, tt.path, w.Body, tt.status, tt.code)
		}
		if tt.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow = %q", tt.method, tt.path, w.Header().Get("Allow"))
		}
	}
}
