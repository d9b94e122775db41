package token

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/example/accounts/commands"
	"github.com/example/accounts/domain"
)

var _ commands.Tokens = (*JWT)(nil)

// MinSecretLength is the shortest signing secret accepted: HS256 is only as strong as
// a key of at least its 256-bit output.
const MinSecretLength = 32

// maxTokenLength bounds what is decoded at all. The tokens issued here are about 150
// bytes; anything past a cookie's usual 4 KiB limit is not ours and not worth the
// base64 and JSON work.
const maxTokenLength = 4 << 10

// claims is the token's payload. The embedded registered claims carry iat and exp and
// are omitted when empty, so an issued token holds exactly sid, iat and exp.
type claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// maxSessionIDLength bounds sid; the ids issued are 43 characters.
const maxSessionIDLength = 128

// Validate is called by the parser after the signature and exp checks. A token that
// names no session is useless however well it is signed, and one whose sid is not
// base64url names no session this service made: it must not reach a query, where a
// NUL byte, for one, is an SQL error rather than "no such session".
func (c claims) Validate() error {
	if c.SessionID == "" || len(c.SessionID) > maxSessionIDLength {
		return errors.New("token names no session")
	}
	for _, r := range c.SessionID {
		if !isBase64URL(r) {
			return errors.New("token's session id is not base64url")
		}
	}
	return nil
}

// isTokenText reports whether token is made of the three base64url segments' letters
// and their dots only. Go's base64 decoder skips line breaks, so a token with one
// inserted would otherwise verify as the token without it: a second spelling of the
// same token, which the service never issued.
func isTokenText(token string) bool {
	for _, c := range []byte(token) {
		if c != '.' && !isBase64URL(rune(c)) {
			return false
		}
	}
	return true
}

func isBase64URL(r rune) bool {
	return 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_'
}

// JWT implements commands.Tokens. It is safe for concurrent use.
type JWT struct {
	secret []byte
	parser *jwt.Parser
	// verified remembers the tokens already verified, until they expire. A
	// browser sends its cookie with every request, and parsing a token (its JSON,
	// through reflection) and checking its signature cost more than the rest of a
	// cheap request's own work. Only tokens that verified are kept, so no client
	// can fill it with its own garbage, and least recently used ones go first. A
	// token says nothing about its session, whose row every request still reads.
	verified *lru.Cache[string, verifiedToken]
}

// verifiedToken is what SessionID found in a token, and when the token expires.
type verifiedToken struct {
	sessionID string
	expiresAt time.Time
}

// verifiedTokens bounds the tokens remembered: a few megabytes at the most.
const verifiedTokens = 16384

// NewJWT returns a JWT that signs and verifies with secret.
func NewJWT(secret []byte) (*JWT, error) {
	if len(secret) < MinSecretLength {
		return nil, fmt.Errorf("jwt secret must be at least %d bytes, got %d", MinSecretLength, len(secret))
	}
	verified, err := lru.New[string, verifiedToken](verifiedTokens)
	if err != nil {
		return nil, fmt.Errorf("token: cache: %w", err)
	}
	return &JWT{
		secret:   bytes.Clone(secret),
		verified: verified,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			// One token, one spelling: reject base64 with non-zero padding bits.
			jwt.WithStrictDecoding(),
		),
	}, nil
}

// Issue signs a token for the session. Times are kept to whole seconds, as JWT
// numeric dates usually are, so exp may fall up to a second before the session's own
// expiry, never after it.
func (j *JWT) Issue(sessionID string, issuedAt, expiresAt time.Time) (string, error) {
	c := claims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(issuedAt),
			ExpiresAt: jwt.NewNumericDate(expiresAt),
		},
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(j.secret)
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return token, nil
}

// SessionID returns the session a valid token names, and domain.ErrUnauthenticated
// for anything else.
func (j *JWT) SessionID(token string) (string, error) {
	if token == "" || len(token) > maxTokenLength || !isTokenText(token) {
		return "", domain.ErrUnauthenticated
	}
	if v, ok := j.verified.Get(token); ok {
		if time.Now().Before(v.expiresAt) {
			return v.sessionID, nil
		}
		j.verified.Remove(token)
	}
	var c claims
	if _, err := j.parser.ParseWithClaims(token, &c, j.key); err != nil {
		return "", domain.ErrUnauthenticated
	}
	j.verified.Add(token, verifiedToken{sessionID: c.SessionID, expiresAt: c.ExpiresAt.Time})
	return c.SessionID, nil
}

func (j *JWT) key(*jwt.Token) (any, error) {
	return j.secret, nil
}
