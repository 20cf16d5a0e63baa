-- Name search (API §5 GET /files/search): a trigram index over the case-folded
-- names (name_key) of live files and folders, kept in sync by triggers.
--
-- search_items holds one row per live (non-deleted) file or folder. It exists
-- to give the full-text index a stable INTEGER key: files and folders have text
-- ids, and the implicit rowid of such a table may change on VACUUM. The index
-- is an external-content FTS5 table over search_items (no second copy of the
-- names); deleted items are not indexed at all, so binning removes them.
-- Matching needs queries of at least 3 characters (trigrams); shorter ones
-- scan the owner's rows through search_items_owner with instr().
--
-- PostgreSQL (the @postgres block): search_items is a view of the live files
-- and folders, and pg_trgm GIN indexes over their name_key (partial, live rows
-- only) serve `name_key LIKE '%query%'`; no triggers, nothing to keep in sync.

-- @sqlite
CREATE TABLE search_items (
  sid INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,                     -- 'file' | 'folder'
  item_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  name_key TEXT NOT NULL
);
CREATE UNIQUE INDEX search_items_item ON search_items(kind, item_id);
CREATE INDEX search_items_owner ON search_items(owner_id, kind);

-- name_key is already folded, so the tokenizer compares exactly.
CREATE VIRTUAL TABLE search_fts USING fts5(
  name_key, content='search_items', content_rowid='sid', tokenize='trigram case_sensitive 1'
);

-- search_items -> search_fts (the usual external-content triggers).
CREATE TRIGGER search_items_ai AFTER INSERT ON search_items BEGIN
  INSERT INTO search_fts(rowid, name_key) VALUES (new.sid, new.name_key);
END;
CREATE TRIGGER search_items_ad AFTER DELETE ON search_items BEGIN
  INSERT INTO search_fts(search_fts, rowid, name_key) VALUES ('delete', old.sid, old.name_key);
END;
CREATE TRIGGER search_items_au AFTER UPDATE ON search_items BEGIN
  INSERT INTO search_fts(search_fts, rowid, name_key) VALUES ('delete', old.sid, old.name_key);
  INSERT INTO search_fts(rowid, name_key) VALUES (new.sid, new.name_key);
END;

-- files -> search_items
CREATE TRIGGER search_files_ai AFTER INSERT ON files WHEN new.is_deleted = 0 BEGIN
  INSERT INTO search_items(kind, item_id, owner_id, name_key)
    VALUES ('file', new.id, new.owner_id, new.name_key);
END;
CREATE TRIGGER search_files_au AFTER UPDATE OF name, name_key, is_deleted, owner_id ON files
  WHEN old.name_key IS NOT new.name_key OR old.is_deleted IS NOT new.is_deleted
    OR old.owner_id IS NOT new.owner_id BEGIN
  DELETE FROM search_items WHERE kind = 'file' AND item_id = old.id;
  INSERT INTO search_items(kind, item_id, owner_id, name_key)
    SELECT 'file', new.id, new.owner_id, new.name_key WHERE new.is_deleted = 0;
END;
CREATE TRIGGER search_files_ad AFTER DELETE ON files BEGIN
  DELETE FROM search_items WHERE kind = 'file' AND item_id = old.id;
END;

-- folders -> search_items
CREATE TRIGGER search_folders_ai AFTER INSERT ON folders WHEN new.is_deleted = 0 BEGIN
  INSERT INTO search_items(kind, item_id, owner_id, name_key)
    VALUES ('folder', new.id, new.owner_id, new.name_key);
END;
CREATE TRIGGER search_folders_au AFTER UPDATE OF name, name_key, is_deleted, owner_id ON folders
  WHEN old.name_key IS NOT new.name_key OR old.is_deleted IS NOT new.is_deleted
    OR old.owner_id IS NOT new.owner_id BEGIN
  DELETE FROM search_items WHERE kind = 'folder' AND item_id = old.id;
  INSERT INTO search_items(kind, item_id, owner_id, name_key)
    SELECT 'folder', new.id, new.owner_id, new.name_key WHERE new.is_deleted = 0;
END;
CREATE TRIGGER search_folders_ad AFTER DELETE ON folders BEGIN
  DELETE FROM search_items WHERE kind = 'folder' AND item_id = old.id;
END;

-- Items that existed before this migration.
INSERT INTO search_items(kind, item_id, owner_id, name_key)
  SELECT 'folder', id, owner_id, name_key FROM folders WHERE is_deleted = 0;
INSERT INTO search_items(kind, item_id, owner_id, name_key)
  SELECT 'file', id, owner_id, name_key FROM files WHERE is_deleted = 0;
-- @end

-- @postgres
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE VIEW search_items AS
  SELECT 'folder'::text AS kind, id AS item_id, owner_id, name_key FROM folders WHERE is_deleted = 0
  UNION ALL
  SELECT 'file'::text AS kind, id AS item_id, owner_id, name_key FROM files WHERE is_deleted = 0;
CREATE INDEX folders_name_trgm ON folders USING gin (name_key gin_trgm_ops) WHERE is_deleted = 0;
CREATE INDEX files_name_trgm ON files USING gin (name_key gin_trgm_ops) WHERE is_deleted = 0;
-- @end
