package openapi

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	swaggerFiles "github.com/swaggo/files/v2"
)

//go:embed openapi.json
var document []byte

// ui holds the page and the script that start Swagger UI; the rest of Swagger UI comes
// from swaggerFiles.FS. The page is ours rather than the one shipped with Swagger UI,
// which loads the Petstore example and runs an inline script.
//
//go:embed ui/index.html ui/init.js
var ui embed.FS

// Document returns the OpenAPI document, as served at /openapi.json. It is a copy, so
// a caller that changes it cannot change what is served.
func Document() []byte {
	return bytes.Clone(document)
}

// SpecHandler serves the OpenAPI document as application/json, whatever the path it
// is mounted on (the router mounts it at /openapi.json).
func SpecHandler() http.Handler {
	return specFile()
}

var specFile = sync.OnceValue(func() *file {
	return newFile("openapi.json", document)
})

// UIHandler serves Swagger UI for the document: the page at /docs (and /docs/), and
// the files it loads under /docs/. It expects the full request path, so mount it with
// PathPrefix("/docs") and no StripPrefix. Only the files the page needs are served;
// any other path answers 404, so nothing else from the Swagger UI distribution (such
// as its Petstore page) is reachable.
func UIHandler() http.Handler {
	return uiFiles()
}

// uiFiles is built once: the assets are large enough (about 1.8 MB) that hashing them
// for every handler would be wasteful, and they never change while the process runs.
var uiFiles = sync.OnceValue(func() files {
	page := newFile("index.html", mustRead(ui, "ui/index.html"))
	// Swagger UI needs inline styles and data: images; its scripts are all files
	// served from here, init.js included, so no inline or foreign script may run.
	page.header.Set("Content-Security-Policy",
		"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	fsys := files{
		"/docs":         page,
		"/docs/":        page,
		"/docs/init.js": newFile("init.js", mustRead(ui, "ui/init.js")),
	}
	for _, name := range []string{
		"swagger-ui.css",
		"swagger-ui-bundle.js",
		"swagger-ui-standalone-preset.js",
		"index.css",
		"favicon-32x32.png",
		"favicon-16x16.png",
	} {
		fsys["/docs/"+name] = newFile(name, mustRead(swaggerFiles.FS, name))
	}
	return fsys
})

// mustRead reads an embedded file. A missing one is a build defect (say, a Swagger UI
// release that renamed a file), which the package's tests catch, so it panics rather
// than making every caller handle an error that cannot happen in a tested build.
func mustRead(fsys fs.FS, name string) []byte {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		panic(fmt.Sprintf("openapi: embedded file %s: %v", name, err))
	}
	return body
}

// files serves a fixed set of files by exact request path.
type files map[string]*file

func (fsys files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := fsys[r.URL.Path]
	if !ok {
		writeProblem(w, http.StatusNotFound, "not_found", "There is nothing at this path.")
		return
	}
	f.ServeHTTP(w, r)
}

// file is one document served from memory. Its ETag lets a browser revalidate it with
// a 304 instead of downloading it again; "no-cache" makes it revalidate every time, so
// a new release of the service is seen at once.
type file struct {
	name   string
	header http.Header
	body   []byte
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	return &file{
		name: name,
		header: http.Header{
			"Content-Type":           {contentTypes[path.Ext(name)]},
			"Cache-Control":          {"no-cache"},
			"Etag":                   {`"` + hex.EncodeToString(sum[:16]) + `"`},
			"X-Content-Type-Options": {"nosniff"},
		},
		body: body,
	}
}

// contentTypes is fixed here rather than taken from package mime, whose answers
// depend on the host's /etc/mime.types.
var contentTypes = map[string]string{
	".json": "application/json",
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".png":  "image/png",
}

func (f *file) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed, "method_not_allowed", "This path takes only GET and HEAD.")
		return
	}
	h := w.Header()
	for k, v := range f.header {
		h[k] = slices.Clone(v) // so that no one downstream can change f's copy
	}
	// ServeContent answers conditional and range requests from the ETag; the zero
	// time leaves out Last-Modified, which embedded files do not have.
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// problem is the RFC 9457 document every error of the service is answered with
// (the OpenAPI document's "Errors"). This package writes its own because the HTTP port, which maps all
// other errors, imports this package and so cannot be imported by it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	body, err := json.Marshal(problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
	})
	if err != nil {
		panic(err) // a struct of strings and an int always encodes
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// A failed write means the client has gone; there is nobody left to tell.
	_, _ = w.Write(body)
}

// Operation is one method on one path of the document.
type Operation struct {
	Method      string // upper case, as in net/http: "GET"
	Path        string // in OpenAPI template form: "/api/v1/users/{id}"
	OperationID string
}

// Operations lists every operation in the document, sorted by path and then method,
// so that the router's tests can check that it serves exactly what the document
// promises. The error is for a document that does not parse, which the package's own
// tests rule out.
func Operations() ([]Operation, error) {
	ops, err := operations()
	return slices.Clone(ops), err
}

var operations = sync.OnceValues(func() ([]Operation, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(document, &doc); err != nil {
		return nil, fmt.Errorf("openapi: parse document: %w", err)
	}
	var ops []Operation
	for p, item := range doc.Paths {
		// A path item also holds members that are not methods, such as "parameters".
		for member, raw := range item {
			method := strings.ToUpper(member)
			if !slices.Contains(methods, method) {
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi: parse %s %s: %w", method, p, err)
			}
			ops = append(ops, Operation{Method: method, Path: p, OperationID: op.OperationID})
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method))
	})
	return ops, nil
})

// methods are the members of an OpenAPI 3.0 path item that are operations.
var methods = []string{
	http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace,
}
