package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// purgeBatch bounds one DELETE, so that purging a backlog never holds many row
// locks, nor one long transaction that would hold back every consumer group.
const purgeBatch = 1000

// Purge deletes the events written more than retention ago that every consumer
// group has passed, batch by batch, and returns how many it deleted (including the
// batches deleted before an error). An event some group has yet to handle is kept
// however old it is: retention never loses an event. Rows are skipped while
// another instance purges them, so that replicas split the work.
func Purge(ctx context.Context, db *sql.DB, retention time.Duration) (int, error) {
	total := 0
	for {
		res, err := db.ExecContext(ctx, `
			DELETE FROM watermill_user_events
			WHERE (transaction_id, "offset") IN (
				SELECT e.transaction_id, e."offset"
				FROM watermill_user_events e
				WHERE e.created_at < localtimestamp - make_interval(secs => $1)
				  AND NOT EXISTS (
					SELECT 1 FROM watermill_offsets_user_events o
					WHERE e.transaction_id > o.last_processed_transaction_id
					   OR (e.transaction_id = o.last_processed_transaction_id AND e."offset" > o.offset_acked))
				ORDER BY e.transaction_id, e."offset"
				LIMIT $2
				FOR UPDATE SKIP LOCKED)`,
			retention.Seconds(), purgeBatch)
		if err != nil {
			return total, fmt.Errorf("outbox: purge: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("outbox: purge: %w", err)
		}
		total += int(n)
		if n < purgeBatch {
			return total, nil
		}
	}
}
