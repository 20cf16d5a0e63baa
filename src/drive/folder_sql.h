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

/* Siblings in name_key order, bytewise on both engines (as the tree always
 * was; PostgreSQL's index in migration 014; plans in test_listing_plan.c), each page after the last key
 * (live siblings' keys are unique: folders_sibling_name), each row with
 * whether it has live children (an index probe) so a leaf costs no query. */
#define TREE_SELECT                                                                  \
  "SELECT " FOLDER_COLS ", name_key, EXISTS (SELECT 1 FROM folders c WHERE "          \
  "c.owner_id = $1 AND c.parent_id = folders.id AND c.is_deleted = 0) FROM folders "  \
  "WHERE owner_id = $1 AND is_deleted = 0 AND "
#define TREE_SQLITE_TAIL "name_key > $2 ORDER BY name_key LIMIT $3"
#define TREE_PG_TAIL "name_key COLLATE \"C\" > $2 ORDER BY name_key COLLATE \"C\" LIMIT $3"

/* $1 owner, $2 last key ("" first), $3 page; children: $4 the parent. */
#define TREE_SQLITE_ROOTS TREE_SELECT "parent_id IS NULL AND " TREE_SQLITE_TAIL
#define TREE_SQLITE_CHILDREN TREE_SELECT "parent_id = $4 AND " TREE_SQLITE_TAIL
#define TREE_PG_ROOTS TREE_SELECT "parent_id IS NULL AND " TREE_PG_TAIL
#define TREE_PG_CHILDREN TREE_SELECT "parent_id = $4 AND " TREE_PG_TAIL

/** Copies a column text (NULL reads as "") into dst. */
void folder_copy_text(char *dst, size_t n, const char *src);
/** NULL for "", else s: optional ids travel as "" in structs. */
const char *folder_nullable(const char *s);
/** DRIVE_CONFLICT when a live sibling of `parent` other than folder `self`
 *  already has the folded name `key`; DRIVE_OK when it is free; a fault. */
int folder_name_taken(db_t *db, const char *owner_id, const char *parent, const char *key,
                      const char *self);

#endif
