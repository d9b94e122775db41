package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// Signup registers a new account with role user.
type Signup struct {
	Username string
	Password string
	// ClientAddr is the client's address, the key of its hashing budget.
	ClientAddr string
}

// SignupResult names the new account.
type SignupResult struct {
	ID string
}

// SignupHandler runs Signup.
type SignupHandler struct{ registrar }

// NewSignupHandler returns a SignupHandler.
func NewSignupHandler(store Store, hasher PasswordHasher, budget HashBudget, ids IDs, clock Clock) SignupHandler {
	return SignupHandler{registrar{store: store, hasher: hasher, budget: budget, ids: ids, clock: clock}}
}

// Handle registers the user: 400 validation_failed, 429 rate_limited when the
// client address's hashing budget is spent, then 409 username_taken.
func (h SignupHandler) Handle(ctx context.Context, cmd Signup) (SignupResult, error) {
	u, err := h.registerFrom(ctx, domain.Registration{Username: cmd.Username, Role: domain.RoleUser, SignUp: true}, cmd.Password, cmd.ClientAddr)
	if err != nil {
		return SignupResult{}, err
	}
	return SignupResult{ID: u.ID()}, nil
}
