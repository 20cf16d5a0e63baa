-- The janitor's purge of old bin items (drive/bin.h BIN_PURGE_PICK) asks,
-- every minute, for the items binned directly (not carried along with a
-- folder) before the retention cutoff. No index served it: SQLite scanned
-- every file (a million rows, most of a core for a second, each minute) and
-- read every folder's trashed_with entry. These partial indexes hold the
-- directly binned items alone, by age: the question is a short range read.
CREATE INDEX files_bin_age ON files(deleted_at) WHERE is_deleted = 1 AND trashed_with IS NULL;
CREATE INDEX folders_bin_age ON folders(deleted_at) WHERE is_deleted = 1 AND trashed_with IS NULL;
