alter table sessions drop column user_version;
alter table users drop column sessions_valid_from;
alter table users drop column version;
