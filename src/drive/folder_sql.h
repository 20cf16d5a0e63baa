/* folder_sql: what folders.c and folder_bin.c share: the SQL of the
 * folders table (owned by these two files, and folder_ops.c for the bin
 * marks of a batched bin or restore) and the small helpers around it.
 * Private to drive/folder*.c. */
#ifndef NETRA_FOLDER_SQL_H
#define NETRA_FOLDER_SQL_H
#include <stdbool.h>
#include <stddef.h>
#include "drive/drive.h"

/* Every folder from $1 (of owner $2) down, whatever its state. */
#define SUBTREE_ALL                                                              \
  "WITH RECURSIVE sub(id) AS (SELECT id FROM folders WHERE id = $1 AND owner_id = $2 " \
  "UNION SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id) SELECT id FROM sub"

/* The live folders under a parent (NULL: the root) whose name_key starts
 * with a prefix: keys from $2, the prefix, up to $3, the prefix + U+10FFFF
 * (bytewise), one range of folders_tree (SQLite) or folders_tree_walk
 * (PostgreSQL, "C"); $1 the owner, $4 the parent. A restore's name search
 * (folder_bin.c); its plan in test_listing_plan.c. */
#define FOLDER_PREFIX_SQL(parent, c)                                                    \
  "SELECT name_key FROM folders WHERE owner_id = $1 AND " parent " AND is_deleted = 0 " \
  "AND name_key" c " >= $2 AND name_key" c " < $3"
#define FOLDER_PREFIX_ROOT_SQLITE FOLDER_PREFIX_SQL("parent_id IS NULL", "")
#define FOLDER_PREFIX_IN_SQLITE FOLDER_PREFIX_SQL("parent_id = $4", "")
#define FOLDER_PREFIX_ROOT_PG FOLDER_PREFIX_SQL("parent_id IS NULL", " COLLATE \"C\"")
#define FOLDER_PREFIX_IN_PG FOLDER_PREFIX_SQL("parent_id = $4", " COLLATE \"C\"")

/* The columns of a folder the tree shows and cannot know: a tree's folders
 * are live and its owner's (folder_tree.c fills in the rest), so each row
 * carries 7 columns, not FOLDER_COLS' 11 (less to decode, and on
 * PostgreSQL less to carry through the recursion and the sort). */
#define TREE_COLS "id, parent_id, name, size, is_starred, created_at, updated_at"
#define TREE_COLS_F "f.id, f.parent_id, f.name, f.size, f.is_starred, f.created_at, f.updated_at"

/* SQLite's tree walk (drive/folder_tree.c) reads folders_tree (migration
 * 017: every column shown, in walk order; the table is not read) a batch
 * at a time. The roots: a page of them after the last key ($1 owner, $2
 * last key, "" first, $3 page). The children of a window of up to a page of
 * folders of the level above, in one statement: $2 a JSON array of their
 * ids, in walk order; the children of the first after the key $3; $4 rows
 * at most. The plan is pinned (CROSS JOIN: the array is the outer loop;
 * the index is named), so rows come grouped by their parent's place in the
 * array, each group in name_key order, and LIMIT stops the read: no sort,
 * and a leaf costs no query and no probe of its own (one seek of the index
 * per folder, in the batch of its parent's level). The walk checks that
 * order on every row. Columns: TREE_COLS, name_key, the parent's place in
 * the array (0 for the roots). Plans in test_listing_plan.c. */
#define TREE_SQLITE_ROOTS                                                               \
  "SELECT " TREE_COLS ", name_key, 0 FROM folders INDEXED BY folders_tree "           \
  "WHERE owner_id = $1 AND is_deleted = 0 AND parent_id IS NULL AND name_key > $2 "     \
  "ORDER BY name_key LIMIT $3"
#define TREE_SQLITE_CHILDREN                                                            \
  "SELECT " TREE_COLS_F ", f.name_key, p.key FROM json_each($2) p CROSS JOIN "        \
  "folders f INDEXED BY folders_tree WHERE f.owner_id = $1 AND f.parent_id = p.value "  \
  "AND f.is_deleted = 0 AND f.name_key > CASE WHEN p.key = 0 THEN $3 ELSE '' END "      \
  "LIMIT $4"

/* The keyed walk (drive/folder_tree.c, both engines): a page of the
 * owner's live folders in tree_key order after the key $2 ("" first), $3
 * rows. SQLite reads folders_keyed alone (it holds every column shown);
 * PostgreSQL too (the index INCLUDEs them). Columns: TREE_COLS, and on
 * SQLite tree_key; PostgreSQL leaves the keys out (on the wire they were
 * more than half the bytes) and reads the page's last key apart, in the
 * same snapshot. Plans in test_listing_plan.c. */
#define TREE_KEYED_SQLITE                                                                 \
  "SELECT " TREE_COLS ", tree_key FROM folders INDEXED BY folders_keyed WHERE "            \
  "owner_id = $1 AND tree_key > $2 AND is_deleted = 0 ORDER BY tree_key LIMIT $3"
#define TREE_KEYED_PG                                                                     \
  "SELECT " TREE_COLS " FROM folders WHERE owner_id = $1 AND tree_key > $2 "               \
  "AND is_deleted = 0 ORDER BY tree_key LIMIT $3"

/* PostgreSQL's tree walk (drive/folder_tree.c): one query yields the owner's
 * live folders in depth-first order, read through a cursor WITH HOLD (the
 * server materialises it at COMMIT; the walk FETCHes a page per pull and
 * holds one page). A recursive CTE carries each folder's path of name_keys,
 * joined by chr(1) (below any byte a name may hold: control characters are
 * refused), and the rows are sorted by it bytewise (COLLATE "C"): siblings
 * in name_key byte order, each followed by its subtree. The children of a
 * folder are one parameterised index probe (the OFFSET 0 fence keeps the
 * planner from a merge join that would scan the owner's folders once per
 * level; in the last column it keeps EXISTS a probe of the rows that ask
 * rather than a hash of the owner's every folder), so the plan does not
 * depend on statistics. A cursor goes TREE_PG_LEVELS levels down; a folder
 * at the last level that has live children (last column 1) gets a cursor
 * of its own for its subtree, so a path stays short and a 10,000-deep chain
 * costs 10,000 / TREE_PG_LEVELS cursors, not a sort of quadratic size. %s is the cursor's name; $1 the
 * owner; $2 (sub) the folder whose subtree it walks. Columns: TREE_COLS,
 * the depth (1: the roots of this cursor), deeper. */
#define TREE_PG_LEVELS 32
/* A PostgreSQL probe for the children (folders c) of one folder: their
 * owner test is kept out of every index (an expression no index has), so
 * the probe is driven by parent_id. With statistics from before the owner
 * had folders (a new user, then a burst of 20,000), the owner looked like
 * one row and PostgreSQL probed through an owner-only index
 * (folders_starred), reading all 20,000 folders for each: minutes. A child
 * is its parent's owner's anyway; the test only double-checks. P: the
 * owner's parameter. Used by the tree and by folder_ops' walks (which skip
 * the children already done through folders_children's is_deleted, 019). */
#define PG_CHILD_OWNER(P) "(c.owner_id || '') = " P
/* The probe's test for live children, written so that no partial index
 * (WHERE is_deleted = 0: folders_tree_walk, folders_owner_name) can serve
 * it, while folders_children (parent_id, is_deleted) still seeks it (a
 * range on its second column; is_deleted is 0 or 1). Statistics taken
 * just after a big bin say hardly any folder is live: a partial index of
 * live folders then looked a few rows long, and the restore's walk read
 * all of it for each folder it probed (10,000 siblings: 35 s). */
#define PG_CHILD_LIVE "c.is_deleted < 1"
/* The settings of a transaction that walks down the tree on PostgreSQL, in
 * one round trip: no JIT (the recursion's estimate is large: 250-500 ms of
 * compiling for a walk of a few), no sequential scans (a probe must use the
 * parent_id index even when the statistics predate the folders). */
#define PG_WALK_SETTINGS                                                                  \
  "SELECT set_config('jit', 'off', true), set_config('enable_seqscan', 'off', true)"
#define TREE_PG_LEVELS_S "32"
#define TREE_PG_DECLARE(ANCHOR)                                                           \
  "DECLARE %s CURSOR WITH HOLD FOR WITH RECURSIVE t AS (SELECT " TREE_COLS                \
  ", 1 AS depth, name_key AS path FROM folders WHERE owner_id = $1 AND is_deleted = 0 "   \
  "AND " ANCHOR " UNION ALL SELECT " TREE_COLS_F ", t.depth + 1, "                         \
  "t.path || chr(1) || f.name_key FROM t CROSS JOIN LATERAL (SELECT " TREE_COLS           \
  ", name_key FROM folders c WHERE c.parent_id = t.id AND " PG_CHILD_LIVE " AND "      \
  PG_CHILD_OWNER("$1") " OFFSET 0) f WHERE t.depth < " TREE_PG_LEVELS_S ") SELECT " TREE_COLS     \
  ", depth, CASE WHEN depth = " TREE_PG_LEVELS_S " AND EXISTS (SELECT 1 FROM folders c "   \
  "WHERE c.parent_id = t.id AND " PG_CHILD_LIVE " AND " PG_CHILD_OWNER("$1") " OFFSET 0) THEN 1 " \
  "ELSE 0 END FROM t ORDER BY path COLLATE \"C\""
#define TREE_PG_TOP TREE_PG_DECLARE("parent_id IS NULL")
#define TREE_PG_SUB TREE_PG_DECLARE("parent_id = $2")

struct folder;
/** A row of TREE_COLS into f: a folder of the tree is live and the
 *  owner's, which fills in the columns the row does not carry. */
void folder_tree_row(db_stmt_t *st, const char *owner, struct folder *f);
/** Copies a column text (NULL reads as "") into dst. */
void folder_copy_text(char *dst, size_t n, const char *src);
/** NULL for "", else s: optional ids travel as "" in structs. */
const char *folder_nullable(const char *s);
/** DRIVE_CONFLICT when a live sibling of `parent` other than folder `self`
 *  already has the folded name `key`; DRIVE_OK when it is free; a fault. */
int folder_name_taken(db_t *db, const char *owner_id, const char *parent, const char *key,
                      const char *self);

#endif
