package ports

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

var errAlreadyAuthenticated = domain.NewError(codeAlreadyAuthenticated, "You are already logged in.")

// sessionCookie is the contract's session cookie, holding value. It has no Max-Age or
// Expires, so it lives as long as the browser session; the session row decides how
// long it works. Path=/ and no Domain are also what a __Host- name requires.
func (s *server) sessionCookie(value string) *http.Cookie {
	return &http.Cookie{
		Name:     s.cfg.CookieName,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   s.cfg.CookieSecure || needsSecure(s.cfg.CookieName),
		SameSite: http.SameSiteLaxMode,
	}
}

// needsSecure reports whether a cookie of this name must be Secure: browsers drop a
// __Host- or __Secure- cookie without it (RFC 6265bis §4.1.3, the prefixes matched
// in any letter case), so sending it insecure would only make every login set a
// cookie nobody keeps, whatever cookie.secure says.
func needsSecure(name string) bool {
	for _, prefix := range []string{"__Host-", "__Secure-"} {
		if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

func (s *server) setSessionCookie(w http.ResponseWriter, token string) {
	writeSessionCookie(w, s.sessionCookie(token))
}

// removeSessionCookie tells the browser to drop the cookie (Max-Age=0), with the same
// attributes so that it replaces the one the browser holds.
func (s *server) removeSessionCookie(w http.ResponseWriter) {
	c := s.sessionCookie("")
	c.MaxAge = -1
	writeSessionCookie(w, c)
}

// writeSessionCookie sets c, replacing any earlier word on the session cookie in the
// same response (the removal of a stale cookie before a login, a refreshed cookie
// before a logout's removal): RFC 6265 §4.1.1 asks for one Set-Cookie per cookie
// name, since clients need not apply several in order. It is the only cookie the API
// sets, so every Set-Cookie goes.
func writeSessionCookie(w http.ResponseWriter, c *http.Cookie) {
	w.Header().Del("Set-Cookie")
	http.SetCookie(w, c)
}

// maxSessionCookies bounds the session cookies one request has checked, each a bus
// round trip (and a database read, if its token verifies): a browser holds a stray
// one or two, and a client sending dozens must not buy a lookup for each.
const maxSessionCookies = 4

// sessionTokens are the tokens of the session cookies, in the order the client sent
// them, empty ones (no session) and repeats left out, at most maxSessionCookies. A
// browser sends every cookie of the name it holds, those of longer paths first: one
// set for a sub-path, or for the parent domain by a sibling subdomain, comes before
// ours, so the first is not necessarily the session.
func (s *server) sessionTokens(r *http.Request) []string {
	var tokens []string
	for _, c := range r.CookiesNamed(s.cfg.CookieName) {
		if c.Value == "" || slices.Contains(tokens, c.Value) {
			continue
		}
		tokens = append(tokens, c.Value)
		if len(tokens) == maxSessionCookies {
			break
		}
	}
	return tokens
}

// authenticate resolves the session cookies into the caller, the first one whose
// session works winning. Only when the store refuses them all is the cookie removed:
// the removal can only name this service's own cookie (the same name, Path=/, no
// Domain), the very one a valid session may be in. A session the store extended
// comes back as a fresh cookie, since the old token's exp is the old expiry. Any
// other failure ends the tries and removes nothing: a cookie that could not be
// checked is not invalid.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (domain.Actor, error) {
	var err error = domain.ErrUnauthenticated
	tokens := s.sessionTokens(r)
	for _, token := range tokens {
		var res commands.Authenticated
		res, err = s.send.Authenticate.Send(r.Context(), commands.Authenticate{Token: token})
		if errors.Is(err, domain.ErrUnauthenticated) {
			continue
		}
		if err != nil {
			return domain.Actor{}, err
		}
		if res.RefreshedToken != "" {
			s.setSessionCookie(w, res.RefreshedToken)
		}
		notesFrom(r.Context()).userID = res.Actor.ID
		return res.Actor, nil
	}
	if len(tokens) > 0 {
		s.removeSessionCookie(w)
	}
	return domain.Actor{}, err
}

// refuseSession is the authentication step of signup and login: a caller with a valid
// session is refused (403), and invalid cookies are ignored but removed with
// whatever response follows.
func (s *server) refuseSession(w http.ResponseWriter, r *http.Request) error {
	_, err := s.authenticate(w, r)
	switch {
	case err == nil:
		return errAlreadyAuthenticated
	case errors.Is(err, domain.ErrUnauthenticated):
		return nil
	}
	return err
}

// target is the shared start of the endpoints under /api/v1/users/{id}: the path id
// (400) before authentication (401), as the order of checks wants. It returns the
// caller and the id of the user the path names.
func (s *server) target(w http.ResponseWriter, r *http.Request) (domain.Actor, string, error) {
	id, err := pathID(r)
	if err != nil {
		return domain.Actor{}, "", err
	}
	actor, err := s.authenticate(w, r)
	return actor, id, err
}

// clientAddr is the client's address, the key of the login throttle and of the
// password-hashing budget: the TCP
// peer's, unless the peer is a trusted proxy. Then X-Forwarded-For is read from the
// right, where each trusted proxy appended the address it was reached from, and the
// first address that is not a trusted proxy is the client. Anything left of it, or
// the whole header from an untrusted peer, is whatever the client chose to send:
// trusting it would let an attacker pick a fresh throttle key for every attempt.
func (s *server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trustedProxy(peer) {
		return host
	}
	client := peer
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := parseHop(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop ends what can be believed
		}
		client = hop.Unmap()
		if !s.trustedProxy(client) {
			break
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with a port
// as some proxies write it ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(hop string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(hop); err == nil {
		return a, nil
	}
	ap, err := netip.ParseAddrPort(hop)
	return ap.Addr(), err
}

func (s *server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
