package commands

import (
	"context"

	"github.com/example/accounts/domain"
)

// changeUser is the shared shape of every admin operation on one user: inside one
// transaction it loads and locks the target (404), checks that the actor manages it
// (403), and lets change mutate it; the user is saved only when change reports that
// something changed, so a repeated request writes nothing.
func changeUser(
	ctx context.Context,
	store Store,
	actor domain.Actor,
	userID string,
	change func(ctx context.Context, tx Repositories, u *domain.User) (bool, error),
) error {
	return store.InTx(ctx, func(ctx context.Context, tx Repositories) error {
		u, err := tx.Users().Get(ctx, userID)
		if err != nil {
			return err
		}
		if err := actor.MayManage(u); err != nil {
			return err
		}
		changed, err := change(ctx, tx, u)
		if err != nil || !changed {
			return err
		}
		return tx.Users().Update(ctx, u)
	})
}

// checkTarget runs checks 6 and 7 outside a transaction, so that a request bound to
// fail is refused before the slow password hash.
func checkTarget(ctx context.Context, store Store, actor domain.Actor, userID string) error {
	u, err := store.Users().Get(ctx, userID)
	if err != nil {
		return err
	}
	return actor.MayManage(u)
}
