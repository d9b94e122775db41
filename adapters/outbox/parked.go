package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MetadataReplayFor names the one consumer group a replayed event is for: the group
// that parked it. The others handled it the first time and pass it over.
const MetadataReplayFor = "replay_for"

// Parked is an event a consumer group gave up on, as an operator sees it.
type Parked struct {
	EventID       string    `json:"event_id"`
	Type          string    `json:"type"`
	UserID        string    `json:"user_id"`
	Sequence      int64     `json:"sequence"`
	Group         string    `json:"consumer_group"`
	Reason        string    `json:"reason"`
	CorrelationID string    `json:"correlation_id"`
	ParkedAt      time.Time `json:"parked_at"`
}

// ListParked returns every parked event, oldest first.
func ListParked(ctx context.Context, db *sql.DB) ([]Parked, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT uuid, coalesce(payload->>'type', ''), coalesce(payload->>'user_id', ''),
		       coalesce((payload->>'sequence')::bigint, 0),
		       coalesce(metadata->>'handler_poisoned', ''), coalesce(metadata->>'reason_poisoned', ''),
		       coalesce(metadata->>'correlation_id', ''), created_at
		FROM watermill_user_events_poison
		ORDER BY transaction_id, "offset"`)
	if err != nil {
		return nil, fmt.Errorf("outbox: list parked events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var parked []Parked
	for rows.Next() {
		var p Parked
		if err := rows.Scan(&p.EventID, &p.Type, &p.UserID, &p.Sequence, &p.Group, &p.Reason, &p.CorrelationID, &p.ParkedAt); err != nil {
			return nil, fmt.Errorf("outbox: list parked events: %w", err)
		}
		p.ParkedAt = p.ParkedAt.UTC()
		parked = append(parked, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: list parked events: %w", err)
	}
	return parked, nil
}

// CountParked returns how many events each consumer group has parked and that
// wait in the poison table still (until replayed); groups with none are absent.
func CountParked(ctx context.Context, db *sql.DB) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT coalesce(metadata->>'handler_poisoned', ''), count(*)
		FROM watermill_user_events_poison
		GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("outbox: count parked events: %w", err)
	}
	defer func() { _ = rows.Close() }()
	counts := map[string]int{}
	for rows.Next() {
		var group string
		var n int
		if err := rows.Scan(&group, &n); err != nil {
			return nil, fmt.Errorf("outbox: count parked events: %w", err)
		}
		counts[group] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox: count parked events: %w", err)
	}
	return counts, nil
}

// Replay moves parked events back into the outbox, for the group that parked each
// of them only, and returns how many it moved: all of them when ids is empty, else
// those with these event ids. An event keeps its id, so consumers that see it twice
// know it. Moving is one transaction: an event is parked or queued, never both.
func Replay(ctx context.Context, db *sql.DB, ids []string) (int, error) {
	var filter any // NULL: every parked event
	if len(ids) > 0 {
		filter = ids
	}
	res, err := db.ExecContext(ctx, `
		WITH moved AS (
			DELETE FROM watermill_user_events_poison
			WHERE $1::text[] IS NULL OR uuid = ANY($1::text[])
			RETURNING "offset", uuid, payload, metadata)
		INSERT INTO watermill_user_events (uuid, payload, metadata, transaction_id)
		SELECT uuid, payload,
		       (metadata::jsonb - 'reason_poisoned' - 'topic_poisoned' - 'handler_poisoned' - 'subscriber_poisoned'
		        || jsonb_build_object($2::text, metadata->>'handler_poisoned'))::json,
		       pg_current_xact_id()
		FROM moved
		ORDER BY "offset"`,
		filter, MetadataReplayFor)
	if err != nil {
		return 0, fmt.Errorf("outbox: replay: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("outbox: replay: %w", err)
	}
	return int(n), nil
}
