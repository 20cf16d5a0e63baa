/* folder_sql: what folders.c and folder_bin.c share: the SQL of the
 * folders table (owned by these two files) and the small helpers around
 * it. Private to drive/folders*.c. */
#ifndef NETRA_FOLDER_SQL_H
#define NETRA_FOLDER_SQL_H
#include <stdbool.h>
#include <stddef.h>
#include "drive/drive.h"

/* Every folder from $1 (of owner $2) down, whatever its state. */
#define SUBTREE_ALL                                                              \
  "WITH RECURSIVE sub(id) AS (SELECT id FROM folders WHERE id = $1 AND owner_id = $2 " \
  "UNION SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id) SELECT id FROM sub"

/* Folder $1 (of owner $2) and the live folders below it, through live ones. */
#define SUBTREE_LIVE                                                             \
  "WITH RECURSIVE sub(id) AS (SELECT id FROM folders WHERE id = $1 AND owner_id = $2 " \
  "UNION SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id "                \
  "WHERE f.is_deleted = 0) SELECT id FROM sub"

/* Folder $1 (of owner $2) and the folders below it in bin group $3. */
#define SUBTREE_GROUP                                                            \
  "WITH RECURSIVE sub(id) AS (SELECT id FROM folders WHERE id = $1 AND owner_id = $2 " \
  "UNION SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id "                \
  "WHERE f.is_deleted = 1 AND f.trashed_with = $3) SELECT id FROM sub"

/* SQLite's tree walk (drive/folder_tree.c): siblings in name_key order
 * (bytewise), each page after the last key (live siblings' keys are unique:
 * folders_sibling_name), each row with whether it has live children (an
 * index probe) so a leaf costs no query; plans in test_listing_plan.c.
 * $1 owner, $2 last key ("" first), $3 page; children: $4 the parent. */
#define TREE_SELECT                                                                  \
  "SELECT " FOLDER_COLS ", name_key, EXISTS (SELECT 1 FROM folders c WHERE "          \
  "c.owner_id = $1 AND c.parent_id = folders.id AND c.is_deleted = 0) FROM folders "  \
  "WHERE owner_id = $1 AND is_deleted = 0 AND "
#define TREE_SQLITE_TAIL "name_key > $2 ORDER BY name_key LIMIT $3"
#define TREE_SQLITE_ROOTS TREE_SELECT "parent_id IS NULL AND " TREE_SQLITE_TAIL
#define TREE_SQLITE_CHILDREN TREE_SELECT "parent_id = $4 AND " TREE_SQLITE_TAIL

/* PostgreSQL's tree walk (drive/folder_tree.c): a recursive query that steps
 * from one folder to the next in depth-first order, one row in, one row
 * out, so a page of $7 steps costs one statement whatever the tree's shape.
 * After a folder: its first live child (depth + 1), else its next live
 * sibling, else a "climb" row for its parent (depth - 1; the walk then
 * looks for the parent's next sibling), else the end; id "" is the start,
 * before the first root. Siblings in name_key byte order (COLLATE "C"),
 * each step an index probe (folders_tree_walk, migration 014) and a primary
 * key lookup: about 25 us a step inside the server (EXPLAIN ANALYZE).
 * A row carries its folder's columns, so nothing is joined after. The walk
 * resumes after the last row of the page before: $2 its depth, $3 climb,
 * $4 id, $5 parent ("" for a root), $6 name_key; $1 the owner. */
#define TREE_FIRST(C, OVER)                                                            \
  "(SELECT c.id FROM folders c WHERE c.owner_id = $1 AND c.is_deleted = 0 AND "   \
  C " ORDER BY c.name_key" OVER " LIMIT 1)"
#define TREE_NEXT_SIBLING(COLL)                                                        \
  "CASE WHEN w.parent = '' THEN "                                                      \
  TREE_FIRST("c.parent_id IS NULL AND c.name_key" COLL " > w.k", COLL) " ELSE "        \
  TREE_FIRST("c.parent_id = w.parent AND c.name_key" COLL " > w.k", COLL) " END"
#define TREE_WALK(COLL)                                                                \
  "WITH RECURSIVE w(n, depth, climb, parent, k, " FOLDER_COLS ") AS ("                \
  "SELECT 0, CAST($2 AS INTEGER), CAST($3 AS INTEGER), CAST($5 AS TEXT), "             \
  "CAST($6 AS TEXT), CAST($4 AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), "       \
  "CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS INTEGER), "                  \
  "CAST(NULL AS INTEGER), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), "                  \
  "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT) UNION ALL "                              \
  "SELECT w.n + 1, CASE WHEN f.id = w.parent THEN w.depth - 1 "                        \
  "WHEN COALESCE(f.parent_id, '') = w.id THEN w.depth + 1 ELSE w.depth END, "          \
  "CASE WHEN f.id = w.parent THEN 1 ELSE 0 END, COALESCE(f.parent_id, ''), "           \
  "f.name_key, " FOLDER_COLS_F " FROM w CROSS JOIN folders f WHERE w.n < $7 AND "      \
  "f.id = CASE WHEN w.id = '' THEN " TREE_FIRST("c.parent_id IS NULL", COLL) " "       \
  "WHEN w.climb = 0 THEN COALESCE(" TREE_FIRST("c.parent_id = w.id", COLL) ", "        \
  TREE_NEXT_SIBLING(COLL) ", w.parent) "                                               \
  "ELSE COALESCE(" TREE_NEXT_SIBLING(COLL) ", w.parent) END) "                         \
  "SELECT " FOLDER_COLS ", depth, climb, parent, k FROM w WHERE n > 0 ORDER BY n"
#define FOLDER_COLS_F                                                                        \
  "f.id, f.parent_id, f.owner_id, f.name, f.size, f.is_deleted, f.is_starred, f.deleted_at, " \
  "f.trashed_with, f.created_at, f.updated_at"
#define TREE_PG_WALK TREE_WALK(" COLLATE \"C\"")

/** Copies a column text (NULL reads as "") into dst. */
void folder_copy_text(char *dst, size_t n, const char *src);
/** NULL for "", else s: optional ids travel as "" in structs. */
const char *folder_nullable(const char *s);
/** DRIVE_CONFLICT when a live sibling of `parent` other than folder `self`
 *  already has the folded name `key`; DRIVE_OK when it is free; a fault. */
int folder_name_taken(db_t *db, const char *owner_id, const char *parent, const char *key,
                      const char *self);

#endif
