-- A session dies with its user. The index on user_id serves ending every session
-- of a user (password changes, inactivation) and the cascade itself.
create table sessions (
    id                  text primary key,
    user_id             uuid not null references users (id) on delete cascade,
    created_at          timestamptz not null,
    expires_at          timestamptz not null,
    absolute_expires_at timestamptz not null
);

create index sessions_user_id_idx on sessions (user_id);
