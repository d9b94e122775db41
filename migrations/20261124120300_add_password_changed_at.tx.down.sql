alter table users drop column password_changed_at;
