-- The folder tree is walked depth first a page of siblings at a time
-- (drive/folder_tree.c): the live children of one parent in name_key byte
-- order, after the last key read. SQLite's folders_by_name (migration 008)
-- already serves that (its comparison is bytewise); PostgreSQL needs the
-- "C" collation in the index for the range and the order to come from it.
-- The same index answers "has live children" (owner, parent prefix).

-- @postgres
CREATE INDEX folders_tree_walk ON folders(owner_id, parent_id, name_key COLLATE "C")
  WHERE is_deleted = 0;
-- @end
