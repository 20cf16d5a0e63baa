-- NetraDrive schema, version 1. Portable SQL: SQLite and PostgreSQL both run it.
-- Ids are opaque TEXT, times BIGINT milliseconds since the epoch, flags INTEGER 0/1.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL UNIQUE,      -- case-folded, for uniqueness and login
  email TEXT NOT NULL,
  email_key TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  is_verified INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  -- storage usage, kept up to date in the same transactions as the files
  total_usage_bytes BIGINT NOT NULL DEFAULT 0,
  file_count BIGINT NOT NULL DEFAULT 0,
  bin_bytes BIGINT NOT NULL DEFAULT 0,
  stored_bytes BIGINT NOT NULL DEFAULT 0
);

-- Refresh tokens: one row per issued token; rotation chains share family_id.
CREATE TABLE refresh_tokens (
  jti TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  family_id TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Single-use tokens (verify, reset) that have been spent.
CREATE TABLE used_tokens (
  jti TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);

CREATE TABLE folders (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  parent_id TEXT REFERENCES folders(id),
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,                 -- case-folded name
  size BIGINT NOT NULL DEFAULT 0,         -- non-deleted file bytes anywhere below
  is_deleted INTEGER NOT NULL DEFAULT 0,
  is_starred INTEGER NOT NULL DEFAULT 0,
  deleted_at BIGINT,
  trashed_with TEXT,                      -- the folder whose binning carried this one; NULL = binned directly
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX folders_parent ON folders(owner_id, parent_id, is_deleted);
CREATE INDEX folders_children ON folders(parent_id);
CREATE INDEX folders_trashed ON folders(trashed_with);
CREATE INDEX folders_starred ON folders(owner_id, is_starred);
CREATE UNIQUE INDEX folders_sibling_name ON folders(owner_id, COALESCE(parent_id, ''), name_key)
  WHERE is_deleted = 0;

-- Stored content, deduplicated per user: one row per (owner, sha256).
CREATE TABLE contents (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  size BIGINT NOT NULL,
  chunk_size BIGINT NOT NULL,
  chunk_count INTEGER NOT NULL,
  backend TEXT NOT NULL,
  refcount BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contents_owner_hash ON contents(owner_id, sha256);

-- The ordered chunks of a content; locator is backend-specific and private.
CREATE TABLE chunks (
  content_id TEXT NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  locator TEXT NOT NULL,
  PRIMARY KEY (content_id, idx)
);

CREATE TABLE files (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  folder_id TEXT REFERENCES folders(id),
  content_id TEXT NOT NULL REFERENCES contents(id),
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  is_deleted INTEGER NOT NULL DEFAULT 0,
  is_starred INTEGER NOT NULL DEFAULT 0,
  deleted_at BIGINT,
  trashed_with TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX files_folder ON files(owner_id, folder_id, is_deleted);
CREATE INDEX files_parent ON files(folder_id);
CREATE INDEX files_content ON files(content_id);
CREATE INDEX files_trashed ON files(trashed_with);
CREATE INDEX files_starred ON files(owner_id, is_starred);

CREATE TABLE shares (
  id TEXT PRIMARY KEY,
  file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  is_active INTEGER NOT NULL DEFAULT 1,
  views BIGINT NOT NULL DEFAULT 0,
  password_hash TEXT,
  expires_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX shares_file ON shares(file_id);
CREATE INDEX shares_owner ON shares(owner_id);

-- Background operations the user can watch (uploads to remote storage, URL uploads).
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  file_name TEXT NOT NULL,
  url TEXT,
  folder_id TEXT,
  file_id TEXT,
  transferred BIGINT NOT NULL DEFAULT 0,
  total BIGINT NOT NULL DEFAULT 0,
  error TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX tasks_user ON tasks(user_id, updated_at);

-- Storage garbage: chunks to remove from a backend, retried until done.
-- A row is written before a chunk is stored (state 'staged') and removed when
-- the chunk is committed to a file, so a crash never leaks stored bytes.
CREATE TABLE pending_deletes (
  id TEXT PRIMARY KEY,
  backend TEXT NOT NULL,
  locator TEXT NOT NULL,
  state TEXT NOT NULL,                    -- staged | delete
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  created_at BIGINT NOT NULL
);
CREATE INDEX pending_deletes_due ON pending_deletes(state, next_attempt_at);
