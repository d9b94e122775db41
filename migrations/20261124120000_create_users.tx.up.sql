-- Usernames compare byte by byte (collation "C"): uniqueness is exact and
-- case-sensitive, and the user list sorts them in byte order, whatever the
-- database's default collation.
create table users (
    id            uuid primary key,
    username      text collate "C" not null constraint users_username_key unique,
    password_hash text not null,
    role          text not null constraint users_role_check
                      check (role in ('super_admin', 'admin', 'user')),
    is_active     boolean not null default true,
    created_at    timestamptz not null,
    updated_at    timestamptz not null
);

-- The user list sorts by one column and breaks ties by id: each index serves one
-- sort order, read forwards or backwards. Username is served by its unique index.
create index users_updated_at_id_idx on users (updated_at, id);
create index users_created_at_id_idx on users (created_at, id);
create index users_role_id_idx on users (role, id);
create index users_is_active_id_idx on users (is_active, id);
