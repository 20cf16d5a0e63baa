-- Live direct children per folder, so the X-Total-Count of a folder's
-- listing is one row read instead of a walk over every child (issue 14:
-- 20-27 ms at 50,000 children). One row per (owner, folder) that ever held
-- a live child; folder_id '' is the owner's drive root. A child is live
-- when its own row has is_deleted = 0, whatever its ancestors' state, which
-- is exactly what the listing's COUNT counted. Kept exact by triggers on
-- files and folders, so every write path (routes, WebDAV, the janitor,
-- bench-seed, migrate --from) is covered without code at each site
-- (DECISIONS "Child counters"). Derived data: migrate --from does not copy
-- it; the target's triggers rebuild it as the rows arrive.
CREATE TABLE child_counts (
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  folder_id TEXT NOT NULL,
  live_files BIGINT NOT NULL DEFAULT 0,
  live_folders BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_id, folder_id)
);

-- @sqlite
-- Row triggers: a counter row is created by the first live child and
-- updated in place after; a decrement never creates one (an account's
-- delete cascades to child_counts before or after its files).
CREATE TRIGGER counts_files_ai AFTER INSERT ON files WHEN new.is_deleted = 0 BEGIN
  INSERT INTO child_counts(owner_id, folder_id, live_files)
    VALUES (new.owner_id, COALESCE(new.folder_id, ''), 1)
    ON CONFLICT(owner_id, folder_id) DO UPDATE SET live_files = live_files + 1;
END;
CREATE TRIGGER counts_files_ad AFTER DELETE ON files WHEN old.is_deleted = 0 BEGIN
  UPDATE child_counts SET live_files = live_files - 1
    WHERE owner_id = old.owner_id AND folder_id = COALESCE(old.folder_id, '');
END;
CREATE TRIGGER counts_files_au AFTER UPDATE OF is_deleted, folder_id, owner_id ON files
  WHEN old.is_deleted IS NOT new.is_deleted OR old.folder_id IS NOT new.folder_id
    OR old.owner_id IS NOT new.owner_id BEGIN
  UPDATE child_counts SET live_files = live_files - 1
    WHERE old.is_deleted = 0 AND owner_id = old.owner_id
      AND folder_id = COALESCE(old.folder_id, '');
  INSERT INTO child_counts(owner_id, folder_id, live_files)
    SELECT new.owner_id, COALESCE(new.folder_id, ''), 1 WHERE new.is_deleted = 0
    ON CONFLICT(owner_id, folder_id) DO UPDATE SET live_files = live_files + 1;
END;
CREATE TRIGGER counts_folders_ai AFTER INSERT ON folders WHEN new.is_deleted = 0 BEGIN
  INSERT INTO child_counts(owner_id, folder_id, live_folders)
    VALUES (new.owner_id, COALESCE(new.parent_id, ''), 1)
    ON CONFLICT(owner_id, folder_id) DO UPDATE SET live_folders = live_folders + 1;
END;
-- A folder deleted for good takes its own counter row along.
CREATE TRIGGER counts_folders_ad AFTER DELETE ON folders BEGIN
  UPDATE child_counts SET live_folders = live_folders - 1
    WHERE old.is_deleted = 0 AND owner_id = old.owner_id
      AND folder_id = COALESCE(old.parent_id, '');
  DELETE FROM child_counts WHERE owner_id = old.owner_id AND folder_id = old.id;
END;
CREATE TRIGGER counts_folders_au AFTER UPDATE OF is_deleted, parent_id, owner_id ON folders
  WHEN old.is_deleted IS NOT new.is_deleted OR old.parent_id IS NOT new.parent_id
    OR old.owner_id IS NOT new.owner_id BEGIN
  UPDATE child_counts SET live_folders = live_folders - 1
    WHERE old.is_deleted = 0 AND owner_id = old.owner_id
      AND folder_id = COALESCE(old.parent_id, '');
  INSERT INTO child_counts(owner_id, folder_id, live_folders)
    SELECT new.owner_id, COALESCE(new.parent_id, ''), 1 WHERE new.is_deleted = 0
    ON CONFLICT(owner_id, folder_id) DO UPDATE SET live_folders = live_folders + 1;
END;
-- @end

-- @postgres
-- Statement triggers with transition tables: one aggregated upsert per
-- statement and counter. Row triggers would update one counter row once per
-- child inside a 50,000-row transaction (bench-seed, a bin batch), and each
-- update of a row its own transaction already updated lengthens the row's
-- version chain that the next one walks: quadratic. Counter rows are
-- written in key order, so two statements touching the same counters
-- cannot deadlock on them. A negative delta only changes an existing row,
-- never inserts one (an account's delete may cascade to child_counts
-- before its files' statements fire). PostgreSQL allows no column list on
-- an UPDATE trigger with transition tables: every UPDATE runs it (a star,
-- a rename, the folder sizes of every upload), so it first looks for a row
-- whose place or state changed (20-30 us instead of ~50 us for the whole
-- aggregation, EXPLAIN ANALYZE); where some did, the deltas of the others
-- sum to zero.
-- Adds per-folder deltas to the files' or the folders' counters, in key
-- order; a negative delta only changes an existing row. plpgsql plans a
-- statement when it first runs it, so each branch of the triggers below may
-- name the transition tables only its event has.
CREATE FUNCTION child_counts_add(owners TEXT[], folders TEXT[], deltas BIGINT[], of_files BOOLEAN)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO child_counts AS c (owner_id, folder_id, live_files, live_folders)
    SELECT d.o, d.f, CASE WHEN of_files THEN d.n ELSE 0 END, CASE WHEN of_files THEN 0 ELSE d.n END
    FROM unnest(owners, folders, deltas) AS d(o, f, n)
    WHERE d.n > 0 OR (d.n < 0 AND EXISTS (SELECT 1 FROM child_counts e
                                          WHERE e.owner_id = d.o AND e.folder_id = d.f))
    ORDER BY d.o, d.f
    ON CONFLICT (owner_id, folder_id) DO UPDATE
      SET live_files = c.live_files + EXCLUDED.live_files,
          live_folders = c.live_folders + EXCLUDED.live_folders;
END $$;
CREATE FUNCTION child_counts_files() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM child_counts_add(array_agg(owner_id), array_agg(folder_id), array_agg(n), true)
      FROM (SELECT owner_id, folder_id, SUM(n) AS n FROM (SELECT owner_id, COALESCE(folder_id, '') AS folder_id, 1 AS n FROM new_rows WHERE is_deleted = 0) x
            GROUP BY owner_id, folder_id) d;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM child_counts_add(array_agg(owner_id), array_agg(folder_id), array_agg(n), true)
      FROM (SELECT owner_id, folder_id, SUM(n) AS n FROM (SELECT owner_id, COALESCE(folder_id, '') AS folder_id, -1 AS n FROM old_rows WHERE is_deleted = 0) x
            GROUP BY owner_id, folder_id) d;
  ELSIF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE n.is_deleted IS DISTINCT FROM o.is_deleted OR n.owner_id <> o.owner_id
                   OR n.folder_id IS DISTINCT FROM o.folder_id) THEN
    PERFORM child_counts_add(array_agg(owner_id), array_agg(folder_id), array_agg(n), true)
      FROM (SELECT owner_id, folder_id, SUM(n) AS n FROM (SELECT owner_id, COALESCE(folder_id, '') AS folder_id, 1 AS n FROM new_rows WHERE is_deleted = 0
        UNION ALL SELECT owner_id, COALESCE(folder_id, '') AS folder_id, -1 AS n FROM old_rows WHERE is_deleted = 0) x
            GROUP BY owner_id, folder_id) d;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER child_counts_files_ins AFTER INSERT ON files REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_counts_files();
CREATE TRIGGER child_counts_files_del AFTER DELETE ON files REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_counts_files();
CREATE TRIGGER child_counts_files_upd AFTER UPDATE ON files
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_counts_files();
-- A folder deleted for good takes its own counter row along.
CREATE FUNCTION child_counts_folders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM child_counts_add(array_agg(owner_id), array_agg(folder_id), array_agg(n), false)
      FROM (SELECT owner_id, folder_id, SUM(n) AS n FROM (SELECT owner_id, COALESCE(parent_id, '') AS folder_id, 1 AS n FROM new_rows WHERE is_deleted = 0) x
            GROUP BY owner_id, folder_id) d;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM child_counts_add(array_agg(owner_id), array_agg(folder_id), array_agg(n), false)
      FROM (SELECT owner_id, folder_id, SUM(n) AS n FROM (SELECT owner_id, COALESCE(parent_id, '') AS folder_id, -1 AS n FROM old_rows WHERE is_deleted = 0) x
            GROUP BY owner_id, folder_id) d;
    DELETE FROM child_counts c USING old_rows o
      WHERE c.owner_id = o.owner_id AND c.folder_id = o.id;
  ELSIF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id
                WHERE n.is_deleted IS DISTINCT FROM o.is_deleted OR n.owner_id <> o.owner_id
                   OR n.parent_id IS DISTINCT FROM o.parent_id) THEN
    PERFORM child_counts_add(array_agg(owner_id), array_agg(folder_id), array_agg(n), false)
      FROM (SELECT owner_id, folder_id, SUM(n) AS n FROM (SELECT owner_id, COALESCE(parent_id, '') AS folder_id, 1 AS n FROM new_rows WHERE is_deleted = 0
        UNION ALL SELECT owner_id, COALESCE(parent_id, '') AS folder_id, -1 AS n FROM old_rows WHERE is_deleted = 0) x
            GROUP BY owner_id, folder_id) d;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER child_counts_folders_ins AFTER INSERT ON folders REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_counts_folders();
CREATE TRIGGER child_counts_folders_del AFTER DELETE ON folders REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_counts_folders();
CREATE TRIGGER child_counts_folders_upd AFTER UPDATE ON folders
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_counts_folders();
-- @end

-- The counters of an existing database.
INSERT INTO child_counts (owner_id, folder_id, live_files)
  SELECT owner_id, COALESCE(folder_id, ''), COUNT(*) FROM files WHERE is_deleted = 0
  GROUP BY owner_id, COALESCE(folder_id, '');
INSERT INTO child_counts (owner_id, folder_id, live_folders)
  SELECT owner_id, COALESCE(parent_id, ''), COUNT(*) FROM folders WHERE is_deleted = 0
  GROUP BY owner_id, COALESCE(parent_id, '')
  ON CONFLICT (owner_id, folder_id) DO UPDATE SET live_folders = excluded.live_folders;
