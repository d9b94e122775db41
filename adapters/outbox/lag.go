package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Lag is how far a consumer group is behind the outbox.
type Lag struct {
	// Events is how many events the group has yet to handle.
	Events int
	// OldestAge is how long ago the oldest of them was written; zero when none.
	OldestAge time.Duration
}

// GroupLag measures how far consumer group is behind. It counts the rows past the
// group's position, which the outbox's primary key orders.
func GroupLag(ctx context.Context, db *sql.DB, group string) (Lag, error) {
	var lag Lag
	var ageSeconds sql.NullFloat64
	err := db.QueryRowContext(ctx, `
		SELECT count(*), extract(epoch FROM localtimestamp - min(e.created_at))
		FROM watermill_user_events e
		JOIN watermill_offsets_user_events o ON o.consumer_group = $1
		WHERE e.transaction_id > o.last_processed_transaction_id
		   OR (e.transaction_id = o.last_processed_transaction_id AND e."offset" > o.offset_acked)`,
		group).Scan(&lag.Events, &ageSeconds)
	if err != nil {
		return Lag{}, fmt.Errorf("outbox: lag of %s: %w", group, err)
	}
	lag.OldestAge = time.Duration(ageSeconds.Float64 * float64(time.Second))
	return lag, nil
}
