-- Two additions of one round (both issue 15 / issue 11 follow-ups): app
-- passwords, and the saved progress of URL jobs for a ranged resume.

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

-- Uploads from a URL that resume after a restart with a byte range (issue
-- 11): the stored prefix of a running job, written about once a second by
-- drive/urljob_resume.c. The chunks' pending_deletes records are `held`
-- meanwhile, so the start-up sweep of staged chunks leaves them alone.
CREATE TABLE url_job_resume (
  job_id TEXT PRIMARY KEY REFERENCES url_jobs(id) ON DELETE CASCADE,
  chunk_size BIGINT NOT NULL,
  bytes BIGINT NOT NULL,                 -- where the resumed request starts
  chunk_count BIGINT NOT NULL,           -- chunks [0, chunk_count) of url_job_chunks
  hash_state TEXT NOT NULL,              -- SHA-256 state after those bytes
  head TEXT NOT NULL                     -- hex of the file's first bytes (MIME sniffing)
);
CREATE TABLE url_job_chunks (
  job_id TEXT NOT NULL REFERENCES url_jobs(id) ON DELETE CASCADE,
  idx BIGINT NOT NULL,
  size BIGINT NOT NULL,
  checksum TEXT NOT NULL,
  locator TEXT NOT NULL,
  staged_id TEXT NOT NULL,               -- its pending_deletes record
  PRIMARY KEY (job_id, idx)
);
