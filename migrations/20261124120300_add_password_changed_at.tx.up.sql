-- When the password last changed. A renewed hash of the same password (after a
-- bcrypt cost change) leaves it alone, so that a check "has the password changed
-- since I verified it?" does not mistake a renewal for a change. Existing rows
-- take updated_at: no later moment can be the password's.
alter table users add column password_changed_at timestamptz;
update users set password_changed_at = updated_at;
alter table users alter column password_changed_at set not null;
