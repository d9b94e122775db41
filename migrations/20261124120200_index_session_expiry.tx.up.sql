-- The purge of expired sessions finds its rows by expiry instead of reading the
-- whole table.
create index sessions_expires_at_idx on sessions (expires_at);
