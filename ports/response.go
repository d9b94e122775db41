package ports

import (
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json"
)

// writeJSON answers with v as an application/json body.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return writeBody(w, status, "application/json", v)
}

// writeBody encodes v before touching the response, so that a value that cannot be
// encoded still leaves room to answer with an error.
func writeBody(w http.ResponseWriter, status int, contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeRaw(w, status, contentType, body)
	return nil
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	apiHeaders(h)
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	// A failed write means the client has gone; there is nobody left to tell.
	_, _ = w.Write(body)
}

// writeStatus answers with a status and no body (204, 307).
func writeStatus(w http.ResponseWriter, status int) error {
	apiHeaders(w.Header())
	w.WriteHeader(status)
	return nil
}

// apiHeaders marks a response the service wrote itself, as opposed to the documents
// served under /docs and /openapi.json. It may be personal, so nothing caches it, and
// it is never meant to render as a page, so its content security policy allows
// nothing.
func apiHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}
