drop trigger users_counted_on_truncate on users;
drop trigger users_counted_on_delete on users;
drop trigger users_counted_on_insert on users;
drop function count_users();
drop table user_count;
