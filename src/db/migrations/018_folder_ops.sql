-- A big folder's bin or restore runs in batches, each its own short write
-- transaction, so that no other user's write waits behind one long one
-- (issue 14; DECISIONS "Bin in batches"). The first transaction changes
-- the sizes and the owner's bin bytes and marks (or unmarks) the folder
-- itself; while the batches below it are not all done, this row says so.
-- Every write of that owner completes the owner's rows first, and so do
-- the janitor and a server's start (after a crash between batches).
-- Owned by drive/folder_ops.c. At most one row per owner at a time.
--   op 1 (bin): mark the live folders whose parent is marked in group
--     group_id (= folder_id), deleted_at = at;
--   op 2 (restore): unmark the folders of group group_id whose parent is
--     live (the restored folder_id's part of the group).
CREATE TABLE folder_ops (
  folder_id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  op INTEGER NOT NULL,
  group_id TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX folder_ops_owner ON folder_ops(owner_id);
