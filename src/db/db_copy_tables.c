/* db_copy_tables: see db_copy_tables.h. Generated once by hand from the
 * migrations; db_copy.c checks at run time that the target's schema has
 * exactly these tables with these column counts, so a migration that adds
 * a table or a column and forgets this list makes migrate refuse, not
 * silently drop data. Integer columns are read as text and bound as text
 * through CAST(... AS BIGINT), which both engines read the same way. */
#include "db/db_copy_tables.h"

/* Each batch is LIMIT 500 rows (one target transaction); folders are read
 * parents first, by depth from a root, the walk stopped at depth 10000 so a
 * folder cycle (corruption) cannot loop (its folders then fail the count). */

const struct copy_table copy_tables[] = {
  {"users", 15, 1, {0},
   "SELECT COUNT(*) FROM users",
   "SELECT id, username, username_key, email, email_key, password_hash, is_verified, "
   "created_at, updated_at, total_usage_bytes, file_count, bin_bytes, stored_bytes, "
   "sessions_after, reset_jti FROM users ORDER BY id LIMIT 500",
   "SELECT id, username, username_key, email, email_key, password_hash, is_verified, "
   "created_at, updated_at, total_usage_bytes, file_count, bin_bytes, stored_bytes, "
   "sessions_after, reset_jti FROM users WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO users (id, username, username_key, email, email_key, password_hash, "
   "is_verified, created_at, updated_at, total_usage_bytes, file_count, bin_bytes, "
   "stored_bytes, sessions_after, reset_jti) VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS "
   "BIGINT), CAST($8 AS BIGINT), CAST($9 AS BIGINT), CAST($10 AS BIGINT), CAST($11 AS "
   "BIGINT), CAST($12 AS BIGINT), CAST($13 AS BIGINT), CAST($14 AS BIGINT), $15) ON CONFLICT "
   "DO NOTHING"},
  {"used_tokens", 2, 1, {0},
   "SELECT COUNT(*) FROM used_tokens",
   "SELECT jti, expires_at FROM used_tokens ORDER BY jti LIMIT 500",
   "SELECT jti, expires_at FROM used_tokens WHERE jti > $1 ORDER BY jti LIMIT 500",
   "INSERT INTO used_tokens (jti, expires_at) VALUES ($1, CAST($2 AS BIGINT)) ON CONFLICT DO "
   "NOTHING"},
  {"refresh_tokens", 6, 1, {0},
   "SELECT COUNT(*) FROM refresh_tokens",
   "SELECT jti, user_id, family_id, revoked, created_at, expires_at FROM refresh_tokens "
   "ORDER BY jti LIMIT 500",
   "SELECT jti, user_id, family_id, revoked, created_at, expires_at FROM refresh_tokens "
   "WHERE jti > $1 ORDER BY jti LIMIT 500",
   "INSERT INTO refresh_tokens (jti, user_id, family_id, revoked, created_at, expires_at) "
   "VALUES ($1, $2, $3, CAST($4 AS BIGINT), CAST($5 AS BIGINT), CAST($6 AS BIGINT)) ON "
   "CONFLICT DO NOTHING"},
  {"folders", 13, 2, {13, 0},
   "SELECT COUNT(*) FROM folders",
   "WITH RECURSIVE tree(fid, depth) AS (SELECT id, 0 FROM folders WHERE parent_id IS NULL "
   "UNION ALL SELECT f.id, t.depth + 1 FROM folders f JOIN tree t ON f.parent_id = t.fid "
   "WHERE t.depth < 10000) SELECT f.id, f.owner_id, f.parent_id, f.name, f.name_key, f.size, "
   "f.is_deleted, f.is_starred, f.deleted_at, f.trashed_with, f.created_at, f.updated_at, "
   "f.tree_key, t.depth FROM folders f JOIN tree t ON t.fid = f.id ORDER BY t.depth, f.id LIMIT 500",
   "WITH RECURSIVE tree(fid, depth) AS (SELECT id, 0 FROM folders WHERE parent_id IS NULL "
   "UNION ALL SELECT f.id, t.depth + 1 FROM folders f JOIN tree t ON f.parent_id = t.fid "
   "WHERE t.depth < 10000) SELECT f.id, f.owner_id, f.parent_id, f.name, f.name_key, f.size, "
   "f.is_deleted, f.is_starred, f.deleted_at, f.trashed_with, f.created_at, f.updated_at, "
   "f.tree_key, t.depth FROM folders f JOIN tree t ON t.fid = f.id WHERE (t.depth, f.id) > (CAST($1 AS "
   "BIGINT), $2) ORDER BY t.depth, f.id LIMIT 500",
   "INSERT INTO folders (id, owner_id, parent_id, name, name_key, size, is_deleted, "
   "is_starred, deleted_at, trashed_with, created_at, updated_at, tree_key) VALUES ($1, $2, $3, $4, "
   "$5, CAST($6 AS BIGINT), CAST($7 AS BIGINT), CAST($8 AS BIGINT), CAST($9 AS BIGINT), $10, "
   "CAST($11 AS BIGINT), CAST($12 AS BIGINT), $13) ON CONFLICT DO NOTHING"},
  {"contents", 9, 1, {0},
   "SELECT COUNT(*) FROM contents",
   "SELECT id, owner_id, sha256, size, chunk_size, chunk_count, backend, refcount, "
   "created_at FROM contents ORDER BY id LIMIT 500",
   "SELECT id, owner_id, sha256, size, chunk_size, chunk_count, backend, refcount, "
   "created_at FROM contents WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO contents (id, owner_id, sha256, size, chunk_size, chunk_count, backend, "
   "refcount, created_at) VALUES ($1, $2, $3, CAST($4 AS BIGINT), CAST($5 AS BIGINT), "
   "CAST($6 AS BIGINT), $7, CAST($8 AS BIGINT), CAST($9 AS BIGINT)) ON CONFLICT DO NOTHING"},
  {"chunks", 5, 2, {0, 1},
   "SELECT COUNT(*) FROM chunks",
   "SELECT content_id, idx, size, checksum, locator FROM chunks ORDER BY content_id, idx "
   "LIMIT 500",
   "SELECT content_id, idx, size, checksum, locator FROM chunks WHERE (content_id, idx) > "
   "($1, CAST($2 AS BIGINT)) ORDER BY content_id, idx LIMIT 500",
   "INSERT INTO chunks (content_id, idx, size, checksum, locator) VALUES ($1, CAST($2 AS "
   "BIGINT), CAST($3 AS BIGINT), $4, $5) ON CONFLICT DO NOTHING"},
  {"files", 15, 1, {0},
   "SELECT COUNT(*) FROM files",
   "SELECT id, owner_id, folder_id, content_id, name, name_key, mime_type, size, sha256, "
   "is_deleted, is_starred, deleted_at, trashed_with, created_at, updated_at FROM files "
   "ORDER BY id LIMIT 500",
   "SELECT id, owner_id, folder_id, content_id, name, name_key, mime_type, size, sha256, "
   "is_deleted, is_starred, deleted_at, trashed_with, created_at, updated_at FROM files "
   "WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO files (id, owner_id, folder_id, content_id, name, name_key, mime_type, size, "
   "sha256, is_deleted, is_starred, deleted_at, trashed_with, created_at, updated_at) VALUES "
   "($1, $2, $3, $4, $5, $6, $7, CAST($8 AS BIGINT), $9, CAST($10 AS BIGINT), CAST($11 AS "
   "BIGINT), CAST($12 AS BIGINT), $13, CAST($14 AS BIGINT), CAST($15 AS BIGINT)) ON CONFLICT "
   "DO NOTHING"},
  {"shares", 8, 1, {0},
   "SELECT COUNT(*) FROM shares",
   "SELECT id, file_id, owner_id, is_active, views, password_hash, expires_at, created_at "
   "FROM shares ORDER BY id LIMIT 500",
   "SELECT id, file_id, owner_id, is_active, views, password_hash, expires_at, created_at "
   "FROM shares WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO shares (id, file_id, owner_id, is_active, views, password_hash, expires_at, "
   "created_at) VALUES ($1, $2, $3, CAST($4 AS BIGINT), CAST($5 AS BIGINT), $6, CAST($7 AS "
   "BIGINT), CAST($8 AS BIGINT)) ON CONFLICT DO NOTHING"},
  {"tasks", 14, 1, {0},
   "SELECT COUNT(*) FROM tasks",
   "SELECT id, user_id, type, status, file_name, url, folder_id, file_id, transferred, "
   "total, error, created_at, updated_at, node_id FROM tasks ORDER BY id LIMIT 500",
   "SELECT id, user_id, type, status, file_name, url, folder_id, file_id, transferred, "
   "total, error, created_at, updated_at, node_id FROM tasks WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO tasks (id, user_id, type, status, file_name, url, folder_id, file_id, "
   "transferred, total, error, created_at, updated_at, node_id) VALUES ($1, $2, $3, $4, $5, "
   "$6, $7, $8, CAST($9 AS BIGINT), CAST($10 AS BIGINT), $11, CAST($12 AS BIGINT), CAST($13 "
   "AS BIGINT), $14) ON CONFLICT DO NOTHING"},
  {"url_jobs", 16, 1, {0},
   "SELECT COUNT(*) FROM url_jobs",
   "SELECT id, user_id, url, name, folder_id, status, file_id, error, transferred, total, "
   "etag, last_modified, ranges, created_at, updated_at, node_id FROM url_jobs ORDER BY id LIMIT 500",
   "SELECT id, user_id, url, name, folder_id, status, file_id, error, transferred, total, "
   "etag, last_modified, ranges, created_at, updated_at, node_id FROM url_jobs WHERE id > $1 ORDER BY "
   "id LIMIT 500",
   "INSERT INTO url_jobs (id, user_id, url, name, folder_id, status, file_id, error, "
   "transferred, total, etag, last_modified, ranges, created_at, updated_at, node_id) VALUES "
   "($1, $2, $3, $4, $5, $6, $7, $8, CAST($9 AS BIGINT), CAST($10 AS BIGINT), $11, $12, "
   "CAST($13 AS BIGINT), CAST($14 AS BIGINT), CAST($15 AS BIGINT), $16) ON CONFLICT DO "
   "NOTHING"},
  {"url_job_resume", 6, 1, {0},
   "SELECT COUNT(*) FROM url_job_resume",
   "SELECT job_id, chunk_size, bytes, chunk_count, hash_state, head FROM url_job_resume "
   "ORDER BY job_id LIMIT 500",
   "SELECT job_id, chunk_size, bytes, chunk_count, hash_state, head FROM url_job_resume "
   "WHERE job_id > $1 ORDER BY job_id LIMIT 500",
   "INSERT INTO url_job_resume (job_id, chunk_size, bytes, chunk_count, hash_state, head) "
   "VALUES ($1, CAST($2 AS BIGINT), CAST($3 AS BIGINT), CAST($4 AS BIGINT), $5, $6) ON "
   "CONFLICT DO NOTHING"},
  {"url_job_chunks", 6, 2, {0, 1},
   "SELECT COUNT(*) FROM url_job_chunks",
   "SELECT job_id, idx, size, checksum, locator, staged_id FROM url_job_chunks ORDER BY "
   "job_id, idx LIMIT 500",
   "SELECT job_id, idx, size, checksum, locator, staged_id FROM url_job_chunks WHERE (job_id, "
   "idx) > ($1, CAST($2 AS BIGINT)) ORDER BY job_id, idx LIMIT 500",
   "INSERT INTO url_job_chunks (job_id, idx, size, checksum, locator, staged_id) VALUES ($1, "
   "CAST($2 AS BIGINT), CAST($3 AS BIGINT), $4, $5, $6) ON CONFLICT DO NOTHING"},
  {"app_passwords", 6, 1, {0},
   "SELECT COUNT(*) FROM app_passwords",
   "SELECT id, user_id, name, secret_hash, created_at, last_used_at FROM app_passwords "
   "ORDER BY id LIMIT 500",
   "SELECT id, user_id, name, secret_hash, created_at, last_used_at FROM app_passwords "
   "WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO app_passwords (id, user_id, name, secret_hash, created_at, last_used_at) "
   "VALUES ($1, $2, $3, $4, CAST($5 AS BIGINT), CAST($6 AS BIGINT)) ON CONFLICT DO NOTHING"},
  {"pending_deletes", 9, 1, {0},
   "SELECT COUNT(*) FROM pending_deletes",
   "SELECT id, backend, locator, state, attempts, next_attempt_at, last_error, created_at, "
   "node_id FROM pending_deletes ORDER BY id LIMIT 500",
   "SELECT id, backend, locator, state, attempts, next_attempt_at, last_error, created_at, "
   "node_id FROM pending_deletes WHERE id > $1 ORDER BY id LIMIT 500",
   "INSERT INTO pending_deletes (id, backend, locator, state, attempts, next_attempt_at, "
   "last_error, created_at, node_id) VALUES ($1, $2, $3, $4, CAST($5 AS BIGINT), CAST($6 AS "
   "BIGINT), $7, CAST($8 AS BIGINT), $9) ON CONFLICT DO NOTHING"},
  {"orphan_marks", 5, 2, {0, 1},
   "SELECT COUNT(*) FROM orphan_marks",
   "SELECT backend, series, mark, ceiling, ceiling_at FROM orphan_marks ORDER BY backend, "
   "series LIMIT 500",
   "SELECT backend, series, mark, ceiling, ceiling_at FROM orphan_marks WHERE (backend, "
   "series) > ($1, $2) ORDER BY backend, series LIMIT 500",
   "INSERT INTO orphan_marks (backend, series, mark, ceiling, ceiling_at) VALUES ($1, $2, "
   "CAST($3 AS BIGINT), CAST($4 AS BIGINT), CAST($5 AS BIGINT)) ON CONFLICT DO NOTHING"},
  {"dav_props", 5, 4, {0, 1, 2, 3},
   "SELECT COUNT(*) FROM dav_props",
   "SELECT owner_id, item_id, ns, name, value FROM dav_props ORDER BY owner_id, item_id, ns, "
   "name LIMIT 500",
   "SELECT owner_id, item_id, ns, name, value FROM dav_props WHERE (owner_id, item_id, ns, "
   "name) > ($1, $2, $3, $4) ORDER BY owner_id, item_id, ns, name LIMIT 500",
   "INSERT INTO dav_props (owner_id, item_id, ns, name, value) VALUES ($1, $2, $3, $4, $5) ON "
   "CONFLICT DO NOTHING"},
  {"dav_locks", 9, 1, {0},
   "SELECT COUNT(*) FROM dav_locks",
   "SELECT token, owner_id, path, depth_infinity, exclusive, owner_xml, timeout_s, expires_at, "
   "created_at FROM dav_locks ORDER BY token LIMIT 500",
   "SELECT token, owner_id, path, depth_infinity, exclusive, owner_xml, timeout_s, expires_at, "
   "created_at FROM dav_locks WHERE token > $1 ORDER BY token LIMIT 500",
   "INSERT INTO dav_locks (token, owner_id, path, depth_infinity, exclusive, owner_xml, "
   "timeout_s, expires_at, created_at) VALUES ($1, $2, $3, CAST($4 AS INTEGER), CAST($5 AS "
   "INTEGER), $6, CAST($7 AS BIGINT), CAST($8 AS BIGINT), CAST($9 AS BIGINT)) ON CONFLICT DO "
   "NOTHING"},
  /* A bin, restore or rekey whose batches were not all done: the target's
   * janitor completes it (DECISIONS "Bin in batches"). */
  {"folder_ops", 7, 1, {0},
   "SELECT COUNT(*) FROM folder_ops",
   "SELECT folder_id, owner_id, op, group_id, at, old_key, new_key FROM folder_ops ORDER BY "
   "folder_id LIMIT 500",
   "SELECT folder_id, owner_id, op, group_id, at, old_key, new_key FROM folder_ops WHERE "
   "folder_id > $1 ORDER BY folder_id LIMIT 500",
   "INSERT INTO folder_ops (folder_id, owner_id, op, group_id, at, old_key, new_key) VALUES "
   "($1, $2, CAST($3 AS INTEGER), $4, CAST($5 AS BIGINT), $6, $7) ON CONFLICT DO NOTHING"},
};
const int copy_table_count = (int)(sizeof(copy_tables) / sizeof(copy_tables[0]));
