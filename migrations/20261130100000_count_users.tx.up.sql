-- The number of users, which the user list reports with every page: counting the
-- table would cost time in proportion to its size, this costs the same at any size.
-- The count is spread over sixteen slots, summed on read, because a slot stays
-- locked from its update until the transaction commits: with a single row, every
-- signup would wait for the one before it to commit. A slot's own value means
-- nothing; deletes may take one below zero.
create table user_count (
    slot smallint primary key,
    n    bigint not null
);

-- Triggers keep the count, rather than the code that adds users, because it must stay
-- exact whoever writes the table: the service, an operator removing a user by hand,
-- a script loading users in bulk. They fire once per statement and count the rows it
-- inserted or deleted, so a bulk insert updates one slot once. A transaction updates
-- only the slot its transaction id picks, never two, so that no two transactions can
-- wait for each other's slots in opposite orders: the count cannot deadlock.
create function count_users() returns trigger language plpgsql as $$
begin
    if tg_op = 'TRUNCATE' then
        update user_count set n = 0;
    elsif tg_op = 'INSERT' then
        update user_count set n = n + (select count(*) from changed)
        where slot = pg_current_xact_id()::text::bigint % 16;
    else
        update user_count set n = n - (select count(*) from changed)
        where slot = pg_current_xact_id()::text::bigint % 16;
    end if;
    return null;
end
$$;

-- Writers to users wait until this migration commits: the count below then misses no
-- user committed before it, and the triggers count every user committed after it.
lock table users in share row exclusive mode;

create trigger users_counted_on_insert after insert on users
    referencing new table as changed
    for each statement execute function count_users();
create trigger users_counted_on_delete after delete on users
    referencing old table as changed
    for each statement execute function count_users();
create trigger users_counted_on_truncate after truncate on users
    for each statement execute function count_users();

insert into user_count (slot, n) select slot, 0 from generate_series(0, 15) as slot;
update user_count set n = (select count(*) from users) where slot = 0;
