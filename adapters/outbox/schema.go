package outbox

import (
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// The topics of the outbox. Their tables are made by the migrations, in
// watermill-sql's layout: watermill_<topic> for messages and
// watermill_offsets_<topic> for the consumer groups' positions.
const (
	// Topic holds every user event, in commit order.
	Topic = "user_events"
	// PoisonTopic holds the events a consumer group parked after its retries.
	PoisonTopic = "user_events_poison"
)

// schema is watermill-sql's PostgreSQL schema for the outbox tables. Its batch size
// is the number of events one consumer group reads per round trip.
func schema(batchSize int) wsql.SchemaAdapter {
	return stringArgs{wsql.DefaultPostgreSQLSchema{SubscribeBatchSize: batchSize}}
}

// stringArgs passes the payload and metadata of inserted messages as text rather
// than bytes. The service runs pgx in its exec mode, where a []byte argument is
// sent as bytea, and PostgreSQL refuses bytea for a json column.
type stringArgs struct {
	wsql.DefaultPostgreSQLSchema
}

func (s stringArgs) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	q, err := s.DefaultPostgreSQLSchema.InsertQuery(params)
	for i, arg := range q.Args {
		if b, ok := arg.([]byte); ok {
			q.Args[i] = string(b)
		}
	}
	return q, err
}
