-- The bin is kept on folders (DECISIONS "The bin is kept on folders"):
-- binning a folder marks its folders only, and a file in a binned folder is
-- in the bin while its own row stays live (is_deleted = 0, trashed_with
-- NULL). Rows written by the older code, which also marked every file of
-- the group (is_deleted = 1, trashed_with = the group), are brought to the
-- new form, and the owners' bin bytes to what the new rule counts:
--   * a carried file whose folder is binned: its row becomes live again; it
--     was in the bin and stays there (bin bytes unchanged);
--   * a carried file whose folder is live (a restore cut short between its
--     folders and its last batch of files): live, out of the bin (the
--     folder sizes came back whole with the folders);
--   * a live file in a binned folder (a binning cut short between its
--     batches): now in the bin with its folder, so counted there.
-- Files binned on their own (trashed_with NULL) are untouched.

UPDATE users SET bin_bytes = bin_bytes
  + COALESCE((SELECT SUM(f.size) FROM files f JOIN folders g ON g.id = f.folder_id
              WHERE f.owner_id = users.id AND f.is_deleted = 0 AND g.is_deleted = 1), 0)
  - COALESCE((SELECT SUM(f.size) FROM files f
              WHERE f.owner_id = users.id AND f.is_deleted = 1 AND f.trashed_with IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM folders g
                                WHERE g.id = f.folder_id AND g.is_deleted = 1)), 0)
  WHERE id IN (SELECT owner_id FROM folders WHERE is_deleted = 1
               UNION SELECT owner_id FROM files WHERE trashed_with IS NOT NULL);

UPDATE files SET is_deleted = 0, deleted_at = NULL, trashed_with = NULL
  WHERE trashed_with IS NOT NULL;

-- Nothing looks files up by trashed_with any more (migration 014 made this
-- index for the restore's batches): one index fewer to write per file.
DROP INDEX IF EXISTS files_trashed_folder;
