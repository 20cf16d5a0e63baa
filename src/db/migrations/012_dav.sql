-- WebDAV (SPEC §13): dead properties set with PROPPATCH, and locks, both in
-- the database so every node sees them. Files are found by name in a folder
-- (a WebDAV path), hence the index.
CREATE INDEX files_folder_name ON files(owner_id, folder_id, name);

-- One dead property of a file or folder ('' = the root collection). The
-- value is the property element's inner XML as the client sent it.
CREATE TABLE dav_props (
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  item_id TEXT NOT NULL,
  ns TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (owner_id, item_id, ns, name)
);

-- A write lock on a path of a user's tree (decoded, "/" = the root), depth
-- 0 or infinity, exclusive or shared; gone once expires_at (ms) passes.
CREATE TABLE dav_locks (
  token TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  depth_infinity INTEGER NOT NULL,
  exclusive INTEGER NOT NULL,
  owner_xml TEXT NOT NULL,
  timeout_s BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX dav_locks_owner ON dav_locks(owner_id, path);
