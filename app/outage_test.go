package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"

	"github.com/example/accounts/adapters/bus"
	"github.com/example/accounts/adapters/postgres/pgtest"
)

// TestReadinessFollowsTheBus: with the bus stopped no request can be answered, so
// the service is not ready, though the process is alive.
func TestReadinessFollowsTheBus(t *testing.T) {
	t.Parallel()
	var b *bus.Bus
	s, app := startServiceApp(t, nil, fx.Populate(&b))
	t.Cleanup(app.RequireStop)
	c := s.client()
	assertStatus(t, c.do("GET", "/readyz", nil), http.StatusOK, "")

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	r := c.do("GET", "/readyz", nil)
	assertStatus(t, r, http.StatusServiceUnavailable, "unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	assertStatus(t, c.do("GET", "/livez", nil), http.StatusOK, "")
}

// TestDatabaseOutage: the database goes away under the running service (the network
// to it is cut), then comes back. Meanwhile requests get 503 with Retry-After and no
// driver text, and readiness says so; afterwards the service recovers by itself.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	dbURL, err := url.Parse(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, dbURL.Host)
	dbURL.Host = proxy.addr
	s := startService(t, map[string]string{"APP_DATABASE_URL": dbURL.String()})

	id := s.superAdmin("root0")
	c := s.loggedIn("root0")
	assertStatus(t, c.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")

	proxy.stop()
	r := waitForStatus(t, c, "/readyz", http.StatusServiceUnavailable)
	assertStatus(t, r, http.StatusServiceUnavailable, "unavailable")

	// An outage is no reason to log anybody out: no cookie removal.
	me := c.do("GET", "/api/v1/account/me", nil)
	login := s.client().login("root0", testPassword)
	for name, r := range map[string]response{"me": me, "login": login} {
		if r.Status != http.StatusServiceUnavailable || r.Code() != "unavailable" {
			t.Errorf("%s: got %d %q, want 503 unavailable; body %s", name, r.Status, r.Code(), r.Body)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", name)
		}
		if len(r.Cookies) != 0 {
			t.Errorf("%s: cookies set during the outage: %v", name, r.Header.Values("Set-Cookie"))
		}
		for _, driverText := range []string{"postgres", "sql", "dial", "connect", "refused", "EOF", proxy.addr} {
			if strings.Contains(string(r.Body), driverText) {
				t.Errorf("%s: body reveals %q: %s", name, driverText, r.Body)
			}
		}
	}
	// What the client is not told, the log says.
	var causes int
	for _, e := range s.Logs.FilterMessage("bus handler failed").FilterLevelExact(zapcore.WarnLevel).All() {
		if text, _ := e.ContextMap()["error"].(string); strings.Contains(text, "postgres: ") {
			causes++
		}
	}
	if causes == 0 {
		t.Error("no log line gives the cause of the 503s")
	}

	proxy.start()
	waitForStatus(t, c, "/readyz", http.StatusOK)
	assertStatus(t, c.do("GET", "/api/v1/account/me", nil), http.StatusOK, "")
	assertStatus(t, s.client().login("root0", testPassword), http.StatusNoContent, "")
	if n := s.sessionCount(id); n != 2 {
		t.Errorf("%d sessions after recovery, want the first and the new one", n)
	}
}

// waitForStatus polls path until it answers status, and fails the test if it does
// not within a generous deadline: a state change that takes a moment to be seen is
// not asserted on its timing.
func waitForStatus(t *testing.T, c *client, path string, status int) response {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := c.do("GET", path, nil)
		if r.Status == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers %d %s, want %d", path, r.Status, r.Body, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tcpProxy forwards connections from a local port to target. Stopping it closes the
// port and cuts every connection, as a network failure would; starting it again
// listens on the same port.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.start()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start() {
	p.t.Helper()
	// The port was just released; retry in case the system takes a moment.
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ln, err = net.Listen("tcp", p.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		p.t.Fatalf("proxy: listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(ln)
}

func (p *tcpProxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		if !p.track(client, server) {
			return
		}
		p.wg.Add(2)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// track registers a connection pair, unless the proxy has stopped meanwhile.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies one direction; when it ends, the other direction is cut too.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	// Its error is of no interest: cutting connections is what the proxy is for.
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// stop closes the port and every connection through it, and waits until nothing of
// the proxy runs. Stopping a stopped proxy does nothing.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
