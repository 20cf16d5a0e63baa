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

/* The tree as one walk (drive/folder_tree.c): a recursive query that steps
 * from one row to the next in depth-first order, one row in, one row out,
 * so a page of $6 steps costs one statement whatever the tree's shape.
 * A row is an "open" (kind 0: the folder, its children follow) or a
 * "close" (kind 1: its subtree is done). After an open: its first live
 * child, else its close. After a close: its next live sibling, else its
 * parent's close, else the end (parent "" = a root; id "" = before the
 * first root). Siblings in name_key byte order (COLLATE "C" on PostgreSQL),
 * each step an index probe of folders_by_name / folders_tree_walk (plans
 * in test_listing_plan.c). The walk resumes after the row $2..$5 (kind,
 * id, parent, name_key) of the page before; $1 the owner. */
#define TREE_NEXT_CHILD(C, OVER)                                                      \
  "(SELECT c.id FROM folders c WHERE c.owner_id = $1 AND c.is_deleted = 0 AND "   \
  C " ORDER BY c.name_key" OVER " LIMIT 1)"
#define TREE_WALK(COLL)                                                                \
  "WITH RECURSIVE w(n, kind, id, parent, k) AS (SELECT 0, CAST($2 AS INTEGER), "      \
  "CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT) UNION ALL "                    \
  "SELECT w.n + 1, CASE WHEN f.id = w.id OR f.id = w.parent THEN 1 ELSE 0 END, "       \
  "f.id, COALESCE(f.parent_id, ''), f.name_key FROM w CROSS JOIN folders f "           \
  "WHERE w.n < $6 AND f.id = CASE WHEN w.kind = 0 THEN COALESCE(CASE WHEN w.id = '' " \
  "THEN " TREE_NEXT_CHILD("c.parent_id IS NULL", COLL) " ELSE "                        \
  TREE_NEXT_CHILD("c.parent_id = w.id", COLL) " END, w.id) "                           \
  "ELSE COALESCE(CASE WHEN w.parent = '' THEN "                                        \
  TREE_NEXT_CHILD("c.parent_id IS NULL AND c.name_key" COLL " > w.k", COLL) " ELSE "   \
  TREE_NEXT_CHILD("c.parent_id = w.parent AND c.name_key" COLL " > w.k", COLL)         \
  " END, w.parent) END) "                                                              \
  "SELECT " FOLDER_COLS_X ", w.kind, w.parent, w.k FROM w CROSS JOIN folders x "       \
  "WHERE w.n > 0 AND x.id = w.id ORDER BY w.n"
#define TREE_SQLITE_WALK TREE_WALK("")
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
