drop table watermill_user_events_poison;
drop table watermill_offsets_user_events;
drop table watermill_user_events;
