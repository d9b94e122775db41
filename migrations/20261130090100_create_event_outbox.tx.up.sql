-- The outbox of user events, in the layout of watermill-sql's PostgreSQL schema and
-- offsets adapters (topic "user_events"). Watermill would create these tables itself,
-- but not inside a transaction, and the service writes events inside the
-- transaction of the change they record: so they are made here, exactly as
-- watermill makes them.
--
-- transaction_id is the writing transaction's id (pg_current_xact_id()): consumers
-- read only rows of transactions older than every transaction still open, which is
-- how no committed event is ever skipped.
create table watermill_user_events (
    "offset"         bigserial,
    "uuid"           varchar(36) not null,
    "created_at"     timestamp not null default current_timestamp,
    "payload"        json default null,
    "metadata"       json default null,
    "transaction_id" xid8 not null,
    primary key ("transaction_id", "offset")
);

-- Where each consumer group has got to. A group's row is locked while it handles a
-- batch, so that several instances of the service hand each event to a group once.
create table watermill_offsets_user_events (
    consumer_group                varchar(255) not null,
    offset_acked                  bigint,
    last_processed_transaction_id xid8 not null,
    primary key (consumer_group)
);

-- Parked events: those a consumer group could not handle after its retries, with
-- the reason in their metadata. The group goes on without them; an operator looks
-- at them and replays them (see the README).
create table watermill_user_events_poison (
    "offset"         bigserial,
    "uuid"           varchar(36) not null,
    "created_at"     timestamp not null default current_timestamp,
    "payload"        json default null,
    "metadata"       json default null,
    "transaction_id" xid8 not null,
    primary key ("transaction_id", "offset")
);
