-- A folder's listing walks an index in the order asked (drive/listing.h):
-- the page is read in order and stops at LIMIT, with no sort of every
-- child first. One index per sort key; each starts with the old
-- (owner, parent, is_deleted) prefix, which therefore goes.
DROP INDEX files_folder;
CREATE INDEX files_by_name ON files(owner_id, folder_id, is_deleted, name_key, id);
CREATE INDEX files_by_size ON files(owner_id, folder_id, is_deleted, size, name_key, id);
CREATE INDEX files_by_created ON files(owner_id, folder_id, is_deleted, created_at, name_key, id);
CREATE INDEX files_by_updated ON files(owner_id, folder_id, is_deleted, updated_at, name_key, id);
DROP INDEX folders_parent;
CREATE INDEX folders_by_name ON folders(owner_id, parent_id, is_deleted, name_key, id);
CREATE INDEX folders_by_size ON folders(owner_id, parent_id, is_deleted, size, name_key, id);
CREATE INDEX folders_by_created ON folders(owner_id, parent_id, is_deleted, created_at, name_key, id);
CREATE INDEX folders_by_updated ON folders(owner_id, parent_id, is_deleted, updated_at, name_key, id);
