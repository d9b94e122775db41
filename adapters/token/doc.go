// Package token signs and checks the session cookie's token for commands.Tokens.
//
// The token is an HS256 JWT that names a session and nothing else (claims sid, iat,
// exp): no user id and no role, so that nothing a client holds can grant more than the
// session row in the database allows. Its exp is only a cheap first gate; the session
// row decides whether the session still works.
//
// golang-jwt accepts any algorithm and tokens without exp unless told otherwise, so
// the parser pins HS256 and requires exp. Every failure is the same
// domain.ErrUnauthenticated: a client learns nothing about why its token was refused.
package token
