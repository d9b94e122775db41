drop index sessions_expires_at_idx;
