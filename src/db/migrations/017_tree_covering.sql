-- The folder tree on SQLite (drive/folder_tree.c) reads a page of live
-- siblings in name_key order per folder that has children, and probes every
-- folder for live children. From folders_by_name each row also cost a seek
-- into the table (its columns) and the rows of one page lay wherever their
-- folders were created: at 100,000 folders the walk missed the page cache
-- on most rows. This index holds every column the tree shows, in walk
-- order, for live folders only: a page is one range of it and the table is
-- not read. Its price: one more index entry written with each folder row
-- (its size and times change as files come and go below it).
-- PostgreSQL's walk is one sorted query (folders_tree_walk serves its
-- probes) and needs nothing new.

-- @sqlite
CREATE INDEX folders_tree ON folders(owner_id, parent_id, name_key, id, name, size, is_deleted,
  is_starred, deleted_at, trashed_with, created_at, updated_at) WHERE is_deleted = 0;
-- @end
