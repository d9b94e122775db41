package commands

import "context"

// Logout ends the caller's session.
type Logout struct {
	SessionID string
}

// LogoutHandler runs Logout.
type LogoutHandler struct{ store Store }

// NewLogoutHandler returns a LogoutHandler.
func NewLogoutHandler(store Store) LogoutHandler { return LogoutHandler{store: store} }

// Handle deletes the session row, so the cookie stops working even if a copy of it
// survives in the client.
func (h LogoutHandler) Handle(ctx context.Context, cmd Logout) (NoResult, error) {
	_, err := h.store.Sessions().Delete(ctx, cmd.SessionID)
	return NoResult{}, err
}
