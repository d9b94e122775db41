package commands

import "context"

// purgeBatch bounds one DELETE, so that purging a large backlog never holds many row
// locks or one long transaction while logins and logouts go on.
const purgeBatch = 1000

// PurgeExpiredSessions deletes the rows of sessions that no longer work. An expired
// session is already refused when presented; without a purge, the rows of sessions
// nobody presents again (a closed browser) would stay forever.
type PurgeExpiredSessions struct{}

// PurgedSessions says how many session rows a purge deleted.
type PurgedSessions struct {
	Count int
}

// PurgeExpiredSessionsHandler runs PurgeExpiredSessions.
type PurgeExpiredSessionsHandler struct {
	store Store
	clock Clock
}

// NewPurgeExpiredSessionsHandler returns a PurgeExpiredSessionsHandler.
func NewPurgeExpiredSessionsHandler(store Store, clock Clock) PurgeExpiredSessionsHandler {
	return PurgeExpiredSessionsHandler{store: store, clock: clock}
}

// Handle deletes expired sessions batch by batch until a batch comes back short. The
// count includes batches deleted before an error.
func (h PurgeExpiredSessionsHandler) Handle(ctx context.Context, _ PurgeExpiredSessions) (PurgedSessions, error) {
	now := h.clock.Now()
	var purged PurgedSessions
	for {
		n, err := h.store.Sessions().DeleteExpired(ctx, now, purgeBatch)
		purged.Count += n
		if err != nil || n < purgeBatch {
			return purged, err
		}
	}
}
