-- App passwords (SPEC §13, issue 15): named, random secrets a user makes for
-- WebDAV clients, usable only there and revocable one by one. The secret is
-- stored as a keyed hash (BLAKE2b keyed with a key derived from the server
-- secret, drive/app_passwords.c), never in clear; it is shown once.
CREATE TABLE app_passwords (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,             -- hex of the keyed hash of the secret
  created_at BIGINT NOT NULL,
  last_used_at BIGINT                    -- NULL: never used; updated at most once a minute
);
-- A check looks a secret up by its user and hash; a listing by user.
CREATE UNIQUE INDEX app_passwords_user_hash ON app_passwords(user_id, secret_hash);
