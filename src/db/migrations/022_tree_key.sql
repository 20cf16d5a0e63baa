-- The folder tree in one range read (issue 14; DECISIONS "The tree's
-- stored order"). Each folder carries tree_key: its parent's key, then its
-- own name_key, chr(1), its id, chr(1). Sorted bytewise, the owner's keys
-- are the tree depth first, siblings in name_key order (chr(1) is below
-- any byte a name or an id holds, and ends each part, so a folder's whole
-- subtree sorts before its next sibling), and a folder's subtree is the
-- range of keys that start with its own. drive/folder_key.c owns the
-- column: computed when a folder is made, rewritten for the subtree (a key
-- range, in batches: folder_ops' rekey) when it is renamed or moved. NULL
-- when the key would pass 2,000 bytes (PostgreSQL's btree takes ~2,700 an
-- entry, with the columns folders_keyed includes) or its parent's is NULL:
-- such an owner's tree is walked as before. folders_keyed serves the tree
-- with every column it shows, so the table is not read (PostgreSQL: an
-- index-only scan, 1.3 ms a page of 2,048 folders against 5.7 ms through
-- the table), and the rekey's range; folders_unkeyed tells at once whether
-- an owner has a folder without a key. Existing folders get their keys
-- here, top down.

-- @sqlite
ALTER TABLE folders ADD COLUMN tree_key TEXT;
WITH RECURSIVE k(id, key) AS (
  SELECT id, name_key || char(1) || id || char(1) FROM folders WHERE parent_id IS NULL
  UNION ALL
  SELECT f.id, k.key || f.name_key || char(1) || f.id || char(1) FROM folders f
    JOIN k ON f.parent_id = k.id WHERE length(CAST(k.key AS BLOB)) <= 2000)
UPDATE folders SET tree_key = k.key FROM k
  WHERE k.id = folders.id AND length(CAST(k.key AS BLOB)) <= 2000;
CREATE INDEX folders_keyed ON folders(owner_id, tree_key, is_deleted, id, parent_id, name,
  size, is_starred, created_at, updated_at);
-- @end

-- @postgres
ALTER TABLE folders ADD COLUMN tree_key TEXT COLLATE "C";
WITH RECURSIVE k(id, key) AS (
  SELECT id, name_key || chr(1) || id || chr(1) FROM folders WHERE parent_id IS NULL
  UNION ALL
  SELECT f.id, k.key || f.name_key || chr(1) || f.id || chr(1) FROM folders f
    JOIN k ON f.parent_id = k.id WHERE octet_length(k.key) <= 2000)
UPDATE folders SET tree_key = k.key FROM k
  WHERE k.id = folders.id AND octet_length(k.key) <= 2000;
CREATE INDEX folders_keyed ON folders(owner_id, tree_key) INCLUDE (is_deleted, id, parent_id,
  name, size, is_starred, created_at, updated_at);
-- @end

CREATE INDEX folders_unkeyed ON folders(owner_id) WHERE tree_key IS NULL;
-- A rekey (folder_ops op 3): the keys in [old_key, old_key's successor)
-- start with new_key instead.
ALTER TABLE folder_ops ADD COLUMN old_key TEXT;
ALTER TABLE folder_ops ADD COLUMN new_key TEXT;
