package commands

import (
	"context"
	"time"

	"github.com/example/accounts/domain"
)

// CreateUser is an admin creating an account of role user or admin.
type CreateUser struct {
	Actor    domain.Actor
	Username string
	Password string
	Role     domain.Role
	// ClientAddr is the caller's address, the key of its hashing budget.
	ClientAddr string
}

// CreateUserResult names the new account.
type CreateUserResult struct {
	ID        string
	CreatedAt time.Time
}

// CreateUserHandler runs CreateUser.
type CreateUserHandler struct{ registrar }

// NewCreateUserHandler returns a CreateUserHandler.
func NewCreateUserHandler(store Store, hasher PasswordHasher, budget HashBudget, ids IDs, clock Clock) CreateUserHandler {
	return CreateUserHandler{registrar{store: store, hasher: hasher, budget: budget, ids: ids, clock: clock}}
}

// Handle checks that the actor manages the requested role (403), then the rules
// (400), the caller's hashing budget (429) and the username (409). Admins draw on
// the budget like anyone: a stolen admin session must not be a way around it.
func (h CreateUserHandler) Handle(ctx context.Context, cmd CreateUser) (CreateUserResult, error) {
	if err := cmd.Actor.MayCreate(cmd.Role); err != nil {
		return CreateUserResult{}, err
	}
	u, err := h.registerFrom(ctx, domain.Registration{Username: cmd.Username, Role: cmd.Role, ActorID: cmd.Actor.ID}, cmd.Password, cmd.ClientAddr)
	if err != nil {
		return CreateUserResult{}, err
	}
	return CreateUserResult{ID: u.ID(), CreatedAt: u.CreatedAt()}, nil
}
