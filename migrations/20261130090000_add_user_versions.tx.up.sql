-- Every change to a user moves its version on by one; its events carry the version
-- after the change as their sequence, so consumers can order one user's events.
-- Users created before versions existed start at 1: they have no creation event,
-- and their first event is sequence 2.
alter table users add column version bigint not null default 1;
alter table users alter column version drop default;

-- The version from which the user's sessions count: an inactivation moves it to the
-- inactivation's version, so sessions begun before it never work again, even once
-- the user is reactivated and before their rows are deleted.
alter table users add column sessions_valid_from bigint not null default 0;

-- The user's version when the session began. Existing sessions take 0, which every
-- user's sessions_valid_from (0) accepts: nobody is logged out by this migration.
alter table sessions add column user_version bigint not null default 0;
alter table sessions alter column user_version drop default;
