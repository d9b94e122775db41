package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/accounts/adapters/broker/brokertest"
	"github.com/example/accounts/adapters/postgres/pgtest"
	"go.uber.org/zap"
)

// Clients that open connections and never finish their headers, each sending a
// megabyte of header, take no more than max_header_bytes each, and the service
// keeps answering others meanwhile. Without the bound, 300 of them took hundreds
// of megabytes.
func TestUnfinishedHeadersKeepMemoryBounded(t *testing.T) {
	t.Parallel()
	bin := buildService(t)
	env := []string{
		"APP_CONFIG=" + absPath(t, "../config.toml"),
		"APP_DATABASE_URL=" + pgtest.NewURL(t),
		"APP_LOG_LEVEL=error",
	}
	svc := startChild(t, bin, env)
	addr := strings.TrimPrefix(svc.url, "http://")
	before := childRSS(t, svc)

	const attackers = 300
	var wg sync.WaitGroup
	conns := make(chan net.Conn, attackers)
	for range attackers {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				return
			}
			conns <- c
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte("GET /livez HTTP/1.1\r\nHost: x\r\nX-Pad: "))
			pad := []byte(strings.Repeat("a", 64<<10))
			for range 16 { // a megabyte, never ending the header
				if _, err := c.Write(pad); err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	close(conns)
	defer func() {
		for c := range conns {
			_ = c.Close()
		}
	}()

	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(svc.url + "/livez")
	if err != nil {
		t.Fatalf("/livez while the headers pile up: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/livez: %d", resp.StatusCode)
	}
	// The bound: what the process held before, and a few dozen megabytes for
	// everything the connections can hold at 8 KiB of header each.
	if after := childRSS(t, svc); after > before+64 {
		t.Errorf("RSS went from %.0f MB to %.0f MB under %d unfinished megabyte headers", before, after, attackers)
	}
}

// childRSS is a child service's resident memory in MB.
func childRSS(t testing.TB, c *child) float64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// /readyz answers within its own short bound when the database hangs, rather than
// after the request timeout: a balancer's health check must not time out first.
func TestReadinessAnswersInTimeWhenTheDatabaseHangs(t *testing.T) {
	t.Parallel()
	proxy, dbURL := brokertest.ViaProxy(t, pgtest.NewURL(t), "5432") // a TCP proxy the test can freeze
	s := startService(t, map[string]string{"APP_DATABASE_URL": dbURL})
	c := s.client()
	assertStatus(t, c.do("GET", "/readyz", nil), http.StatusOK, "")

	proxy.Freeze()
	start := time.Now()
	assertStatus(t, c.do("GET", "/readyz", nil), http.StatusServiceUnavailable, "unavailable")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("/readyz took %v with the database hanging, want about a second", took)
	}
	proxy.Restore()
}

// On stop, /readyz turns 503 at once while the service goes on serving for
// shutdown_delay, so that a load balancer stops sending before it stops listening.
func TestShutdownDelayKeepsServingWhileNotReady(t *testing.T) {
	t.Parallel()
	s, app := startServiceApp(t, map[string]string{"APP_HTTP_SHUTDOWN_DELAY": "1s"})
	c := s.client()
	assertStatus(t, c.do("GET", "/readyz", nil), http.StatusOK, "")

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		app.RequireStop()
	}()
	waitForStatus(t, c, "/readyz", http.StatusServiceUnavailable)
	assertStatus(t, c.do("GET", "/livez", nil), http.StatusOK, "")
	assertStatus(t, c.do("GET", "/api/v1/", nil), http.StatusOK, "")
	select {
	case <-stopped:
		t.Fatal("stopped before the shutdown delay was over")
	default:
	}
	<-stopped
	if conn, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		_ = conn.Close()
		t.Error("still listening after the stop")
	}
}

// A client that sends its body slower than the request timeout allows is told 408
// and the connection is closed; nothing of it reaches a use case, and the access log
// says 408, not that the client hung up.
func TestSlowBodyIsAnswered408(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{"APP_HTTP_REQUEST_TIMEOUT": "1s"})
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := fmt.Fprint(conn, "POST /api/v1/account/signup HTTP/1.1\r\nHost: accounts\r\n"+
		"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n"+`{"username":"slow.client","pass`); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) || !resp.Close {
		t.Errorf("got %d %s (close %v), want 408 request_timeout and the connection closed", resp.StatusCode, body, resp.Close)
	}
	var users int
	if err := s.DB.QueryRowContext(t.Context(), "SELECT count(*) FROM users").Scan(&users); err != nil || users != 0 {
		t.Errorf("%d users (%v), want none", users, err)
	}
	waitFor(t, "the access log line", func() bool {
		return s.Logs.FilterMessage("http request").FilterField(zap.Int("status", http.StatusRequestTimeout)).Len() == 1
	})
}

// The service's own connections carry the statement and idle-transaction timeouts
// of its configuration.
func TestServiceConnectionsAreBoundedByTheServer(t *testing.T) {
	t.Parallel()
	s := startService(t, map[string]string{
		"APP_DATABASE_STATEMENT_TIMEOUT":           "7s",
		"APP_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": "25s",
	})
	var statement, idle string
	if err := s.DB.QueryRowContext(t.Context(),
		"SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')").
		Scan(&statement, &idle); err != nil {
		t.Fatal(err)
	}
	if statement != "7s" || idle != "25s" {
		t.Errorf("statement_timeout %s, idle_in_transaction_session_timeout %s; want 7s, 25s", statement, idle)
	}
}
