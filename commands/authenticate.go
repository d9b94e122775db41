package commands

import (
	"context"
	"errors"
	"time"

	"github.com/example/accounts/domain"
)

// Authenticate resolves a session cookie's token to the caller. It is a command, not
// a query, because it may slide the session's expiry forward.
type Authenticate struct {
	Token string
}

// Authenticated is the caller, and a re-signed token when the session was extended
// (empty otherwise): the port sends it as a fresh cookie.
type Authenticated struct {
	Actor          domain.Actor
	RefreshedToken string
	ExpiresAt      time.Time
}

// AuthenticateHandler runs Authenticate.
type AuthenticateHandler struct {
	store  Store
	tokens Tokens
	clock  Clock
	policy domain.SessionPolicy
}

// NewAuthenticateHandler returns an AuthenticateHandler.
func NewAuthenticateHandler(store Store, tokens Tokens, clock Clock, policy domain.SessionPolicy) AuthenticateHandler {
	return AuthenticateHandler{store: store, tokens: tokens, clock: clock, policy: policy}
}

// Handle lets the session row decide: it must exist, not be expired, and belong to an
// active user, whose role is read here on every request so that grants, revokes and
// inactivation act at once. Every refusal is the same 401 unauthenticated.
func (h AuthenticateHandler) Handle(ctx context.Context, cmd Authenticate) (Authenticated, error) {
	sid, err := h.tokens.SessionID(cmd.Token)
	if err != nil {
		return Authenticated{}, domain.ErrUnauthenticated
	}
	s, u, err := h.store.Sessions().GetWithUser(ctx, sid)
	if errors.Is(err, domain.ErrNotFound) {
		return Authenticated{}, domain.ErrUnauthenticated
	}
	if err != nil {
		return Authenticated{}, err
	}
	now := h.clock.Now()
	if s.Expired(now) {
		if _, err := h.store.Sessions().DeleteIfExpired(ctx, s.ID, now); err != nil {
			return Authenticated{}, err
		}
		return Authenticated{}, domain.ErrUnauthenticated
	}
	if !u.Accepts(s) {
		return Authenticated{}, domain.ErrUnauthenticated
	}

	res := Authenticated{Actor: domain.Actor{
		ID: u.ID(), Role: u.Role(), SessionID: s.ID,
		Username: u.Username(), CreatedAt: u.CreatedAt(), UpdatedAt: u.UpdatedAt(),
	}, ExpiresAt: s.ExpiresAt}
	if h.policy.Refresh(s, now) {
		if err := h.store.Sessions().Extend(ctx, s.ID, s.ExpiresAt); err != nil {
			return Authenticated{}, err
		}
		if res.RefreshedToken, err = h.tokens.Issue(s.ID, now, s.ExpiresAt); err != nil {
			return Authenticated{}, err
		}
		res.ExpiresAt = s.ExpiresAt
	}
	return res, nil
}
