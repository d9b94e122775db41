-- The table keeps the SHA-256 of each session id (hex), never the id itself: the id
-- is the session's bearer secret, and a read of this table must not hand out working
-- sessions. Existing rows are hashed in place, the same way the service hashes the
-- id a cookie names, so nobody is logged out by this migration. The ids the service
-- issued are 43 characters and a hash is 64, so no hashed row collides with one not
-- yet hashed; the primary key and the indexes stay as they are.
update sessions set id = encode(sha256(convert_to(id, 'UTF8')), 'hex');
