package brokertest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a broker, so that a test can take the broker
// away and bring it back. Cut closes every connection and stops listening;
// Restore listens again on the same port: a broker that goes away and comes back,
// seen from its client. Freeze drops all the traffic but keeps the connections: a
// broker that no longer answers.
type Proxy struct {
	t      testing.TB
	target string
	addr   string
	frozen atomic.Bool

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns []net.Conn
	wg    sync.WaitGroup
}

// ViaProxy returns a proxy to the broker of rawURL, whose port is defaultPort if
// rawURL names none, and the URL that goes through it. The proxy is cut when the
// test ends.
func ViaProxy(t testing.TB, rawURL, defaultPort string) (*Proxy, string) {
	t.Helper()
	u := parseURL(t, rawURL)
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), defaultPort)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("brokertest: proxy: listen: %v", err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String()}
	p.serve(ln)
	t.Cleanup(p.Cut)
	u.Host = p.addr
	return p, u.String()
}

// Freeze drops all the traffic from now on, both ways, but keeps the connections.
// Restore ends it.
func (p *Proxy) Freeze() { p.frozen.Store(true) }

// Restore forwards the traffic again: after Cut it listens again on the same
// port, for new connections; after Freeze the connections carry traffic again.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.frozen.Store(false)
	p.mu.Lock()
	listening := p.ln != nil
	p.mu.Unlock()
	if listening {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("brokertest: proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// Cut closes every connection through the proxy and stops listening, until
// Restore. It returns once nothing of the proxy runs any more.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.forward(ln, client)
		}
	}()
}

func (p *Proxy) forward(ln net.Listener, client net.Conn) {
	upstream, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != ln { // cut meanwhile
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	p.conns = append(p.conns, client, upstream)
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		defer dst.Close()
		defer src.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 && !p.frozen.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	p.wg.Add(2)
	go pipe(upstream, client)
	go pipe(client, upstream)
}

// ClosedURL is rawURL pointed at a port nobody listens on: a broker that is down.
func ClosedURL(t testing.TB, rawURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("brokertest: find a free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	u := parseURL(t, rawURL)
	u.Host = addr
	return u.String()
}
