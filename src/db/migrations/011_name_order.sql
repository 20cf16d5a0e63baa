-- Name search in name order (drive/search.c): the names starting with the
-- query are a range of an index on (owner, name_key), and a common query's
-- other matches are found by walking that index in order, a few hundred
-- rows for a page, instead of sorting every match. Byte order on both
-- engines (COLLATE "C" on PostgreSQL), live rows only.

-- The folder tree (folders_tree) reads the owner's live folders in name
-- order from folders_owner_name with no sort.

-- @sqlite
CREATE INDEX folders_owner_name ON folders(owner_id, name_key, id) WHERE is_deleted = 0;
CREATE INDEX search_items_name ON search_items(owner_id, kind, name_key, item_id);
DROP INDEX search_items_owner;
-- @end

-- @postgres
CREATE INDEX files_owner_name ON files(owner_id, name_key COLLATE "C", id) WHERE is_deleted = 0;
CREATE INDEX folders_owner_name ON folders(owner_id, name_key COLLATE "C", id) WHERE is_deleted = 0;
-- @end
