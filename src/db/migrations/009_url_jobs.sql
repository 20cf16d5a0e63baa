-- Uploads from a URL (API §9): one row per job, written at every status
-- change (and about once a second with the bytes so far), so a job's status
-- outlives the process and a restart can resume it. The job is also a task
-- (same id) in tasks.
CREATE TABLE url_jobs (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  name TEXT,                              -- the name asked for; NULL = from the source
  folder_id TEXT,
  status TEXT NOT NULL,                   -- pending | downloading | processing | completed | failed | cancelled
  file_id TEXT,
  error TEXT,
  transferred BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT -1,       -- -1 = not announced
  etag TEXT,                              -- the source's validators, for a resume
  last_modified TEXT,
  ranges INTEGER NOT NULL DEFAULT 0,      -- the source said Accept-Ranges: bytes
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX url_jobs_status ON url_jobs(status);
