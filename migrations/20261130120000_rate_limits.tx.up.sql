-- The login throttle and the password-hashing budget, kept where every instance of
-- the service sees them, so that N instances do not allow N times the limits.
--
-- Unlogged: these rows are counters a few minutes deep, written on every login. They
-- skip the write-ahead log, which makes them cheap; after a crash of PostgreSQL they
-- come back empty, and they are not copied to standbys, so a failover starts every
-- limit afresh. Losing at most a minute of counting on such a day is the trade.

-- One token bucket per kind of limit and key (a username, a client address), in
-- the form of the generic cell rate algorithm: the bucket is full from full_at on,
-- and each token taken moves full_at one refill step later. A row whose full_at has
-- passed behaves exactly like no row, and is purged.
create unlogged table rate_limits (
    kind    text        not null,
    key     text        not null,
    full_at timestamptz not null,
    primary key (kind, key)
);
create index rate_limits_full_at on rate_limits (full_at);

-- The login attempts in progress: each holds a place in its keys' limits while its
-- password is checked. A claim whose process died without settling it lapses at
-- expires_at.
create unlogged table rate_limit_claims (
    id         bigint      generated always as identity primary key,
    kind       text        not null,
    key        text        not null,
    expires_at timestamptz not null
);
create index rate_limit_claims_key on rate_limit_claims (kind, key);
create index rate_limit_claims_expires_at on rate_limit_claims (expires_at);
