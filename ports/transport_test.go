package ports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// serve runs the harness's router behind a real net/http server with srv's timeouts
// and returns its address. The server is closed when the test ends.
func (h *harness) serve(srv *http.Server) string {
	h.t.Helper()
	srv.Handler = h.router()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	h.t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// onlyLine waits for the access log's line of the one request served and returns it.
func (h *harness) onlyLine() (zapcore.Level, map[string]any) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.logs.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	entries := h.logs.All()
	if len(entries) != 1 {
		h.t.Fatalf("%d log lines, want exactly one: %v", len(entries), entries)
	}
	return entries[0].Level, entries[0].ContextMap()
}

// A client that sends its body slower than the server's read timeout allows is told
// 408 and the connection is closed. Without this, net/http, which cancels the
// request's context when the read times out, would have the request taken for one
// whose client hung up, and answer an empty 200 to a signup that never happened.
func TestSlowBodyIsAnswered408(t *testing.T) {
	h := newHarness(t)
	addr := h.serve(&http.Server{ReadTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_, err = fmt.Fprint(conn, "POST /api/v1/account/signup HTTP/1.1\r\nHost: accounts\r\n"+
		"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n"+`{"username":"alice`)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusRequestTimeout ||
		p.Status != http.StatusRequestTimeout || p.Code != "request_timeout" {
		t.Fatalf("got %d %s, want 408 request_timeout", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Error("the connection stays open after a body that was cut off")
	}
	if h.signup.calls != 0 {
		t.Error("a signup was sent with half a body")
	}
	level, fields := h.onlyLine()
	if level != zapcore.InfoLevel || fields["status"] != int64(http.StatusRequestTimeout) {
		t.Errorf("logged status %v at %v, want 408 at info", fields["status"], level)
	}
}

// A response that does not go out before the write timeout is not logged as served:
// its line carries the write error, at error level.
func TestUndeliveredResponseIsLogged(t *testing.T) {
	h := newHarness(t)
	h.me.delay = 400 * time.Millisecond
	addr := h.serve(&http.Server{WriteTimeout: 200 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/account/me", nil)
	req.AddCookie(&http.Cookie{Name: "auth_token", Value: sessionToken})
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("got %d past the write timeout", resp.StatusCode)
	}
	level, fields := h.onlyLine()
	if level != zapcore.ErrorLevel || fields["status"] != int64(http.StatusOK) {
		t.Errorf("logged status %v at %v, want the 200 being sent, at error", fields["status"], level)
	}
	if fields["write_error"] == nil {
		t.Errorf("no write_error in %v", fields)
	}
}

// The line of a response that did go out carries no write error.
func TestDeliveredResponseHasNoWriteError(t *testing.T) {
	h := newHarness(t)
	addr := h.serve(&http.Server{WriteTimeout: 5 * time.Second})
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/account/me", nil)
	req.AddCookie(&http.Cookie{Name: "auth_token", Value: sessionToken})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != aUserJSON {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	level, fields := h.onlyLine()
	if level != zapcore.InfoLevel || fields["write_error"] != nil || fields["bytes"] != int64(len(aUserJSON)) {
		t.Errorf("logged %v at %v", fields, level)
	}
}
