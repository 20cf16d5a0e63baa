/* folder_key: each folder's stored place in the tree's depth-first order
 * (migration 022, DECISIONS "The tree's stored order"): its parent's key,
 * then its own name_key, chr(1), its id, chr(1); NULL when longer than
 * FOLDER_KEY_MAX bytes or below a folder without one. Sorted bytewise, an
 * owner's keys are the tree, and a folder's subtree is the keys that start
 * with its own, so the tree is one range read (folder_tree.c) and a rename
 * or move rewrites one key range (folder_ops' rekey, in batches). Owns the
 * folders.tree_key column. Private to drive/folder*.c. */
#ifndef NETRA_FOLDER_KEY_H
#define NETRA_FOLDER_KEY_H
#include <stdbool.h>
#include <stddef.h>
#include "drive/drive.h"
#include "drive/folder_ops.h"

/* A key's length in bytes, per engine (length() counts characters). */
#define KEY_BYTES_SQLITE(X) "length(CAST(" X " AS BLOB))"
#define KEY_BYTES_PG(X) "octet_length(" X ")"

/* A rekey's statement (folder_key_step; plan in test_listing_plan.c): the
 * keys in [$2, $4) of owner $3 that start with $2 start with $1 instead
 * (NULL when $1 is, or past FOLDER_KEY_MAX), at most $5 of them; a key so
 * rewritten leaves the range, so each statement takes the next ones and a
 * crash loses nothing (the range is the state). SQLite rewrites an index
 * entry in place. PostgreSQL leaves the old one behind, dead, until a
 * vacuum: a statement that started at $2 again stepped over every key
 * rewritten so far, each a visit to the table (quadratic: a 10,000-folder
 * rekey's last statements took tens of milliseconds each), so there each
 * statement also starts after $6, the last old key the runner rewrote
 * ("" at first), and returns the old keys. */
#define REKEY_NEW(OLD) "CAST($1 AS TEXT) || substr(" OLD ", length(CAST($2 AS TEXT)) + 1)"
#define REKEY_SQLITE                                                                      \
  "UPDATE folders SET tree_key = CASE WHEN " KEY_BYTES_SQLITE(REKEY_NEW("tree_key"))       \
  " <= " FOLDER_KEY_MAX_S " THEN " REKEY_NEW("tree_key") " END WHERE id IN (SELECT id "    \
  "FROM folders WHERE owner_id = $3 AND tree_key >= $2 AND tree_key < $4 LIMIT $5) "       \
  "RETURNING ''"
#define REKEY_PG                                                                          \
  "WITH pick AS (SELECT id, tree_key AS old FROM folders WHERE owner_id = $3 AND "         \
  "tree_key >= $2 AND tree_key < $4 AND tree_key > $6 ORDER BY tree_key LIMIT $5) "        \
  "UPDATE folders SET tree_key = CASE WHEN " KEY_BYTES_PG(REKEY_NEW("pick.old")) " <= "    \
  FOLDER_KEY_MAX_S " THEN " REKEY_NEW("pick.old") " END FROM pick WHERE folders.id = "     \
  "pick.id RETURNING pick.old"

/** A folder's key, "" when it has none. */
struct folder_key {
  char s[FOLDER_KEY_MAX + 1];
};

/** Reads folder `id`'s key into k ("" when NULL); DRIVE_NOT_FOUND when
 *  there is no such folder. */
int folder_key_read(db_t *db, const char *id, struct folder_key *k);

/** The key of a folder named `name_key` with id `id` under `parent_id`
 *  (NULL: a root); "" when the parent has none or it would be too long. */
int folder_key_new(db_t *db, const char *parent_id, const char *name_key, const char *id,
                   struct folder_key *k);

/** In the caller's write transaction, after folder `id` of `owner_id`,
 *  whose key was `old`, took its new parent `parent_id` (NULL: the root)
 *  and name (folded: `name_key`): rewrites its key and
 *  its subtree's, at most `first` of them here (0: none); when more remain
 *  the operation is recorded in `op` and *more set (the caller runs
 *  folder_ops_after after its commit). */
int folder_key_moved(db_t *db, const char *owner_id, const char *id, const char *parent_id,
                     const char *name_key, const struct folder_key *old, int64_t first,
                     struct folder_op *op, bool *more);
/** What a rename or move rewrites in its own transaction, at most. */
#define FOLDER_KEY_FIRST 64

/** One statement of a rekey: up to `limit` keys of op's range rewritten;
 *  *changed: how many (fewer than `limit`: the range is empty now). `last`
 *  (FOLDER_KEY_MAX + 1 bytes, "" at first) is the runner's progress: the
 *  last old key rewritten, kept from one statement to the next. */
int folder_key_step(db_t *db, const struct folder_op *op, int64_t limit, char *last,
                    int64_t *changed);

/** Sets *keyed when every live folder of `owner_id` has its key and no
 *  operation of the owner is pending: the tree may be read by key. */
int folder_key_usable(db_t *db, const char *owner_id, bool *keyed);

#endif
