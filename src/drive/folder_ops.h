/* folder_ops: a big folder's bin or restore, and the tree keys of a big
 * renamed or moved subtree (folder_key.h), in batches (issue 14, DECISIONS
 * "Bin in batches", "The tree's stored order"). The first transaction (folder_bin.c) changes
 * the sizes and bin bytes and marks or unmarks the folder itself, then its
 * folders below, a batch at a time, top down, each batch a short write
 * transaction of its own, so another user's write waits for one batch at
 * most. While batches remain, a row of folder_ops (migration 018, owned
 * here) says so, and every write of that owner completes them before it
 * runs (folder_ops_tx_begin, folder_ops_settle): the owner waits for his
 * own operation, nobody else does. The janitor completes what a crash left. */
#ifndef NETRA_FOLDER_OPS_H
#define NETRA_FOLDER_OPS_H
#include <stdbool.h>
#include <stdint.h>
#include "drive/drive.h"
#include "util/id.h"

enum folder_op_kind { FOLDER_OP_BIN = 1, FOLDER_OP_RESTORE = 2, FOLDER_OP_REKEY = 3 };

/* The longest tree key (folder_key.h); its SQL spelling. */
#define FOLDER_KEY_MAX 2000
#define FOLDER_KEY_MAX_S "2000"

/** One operation: bin group `group_id` grows below its top (bin: group_id
 *  is folder_id, `at` the group's deleted_at), or the part of it below a
 *  restored folder comes back (restore), or the tree keys that start with
 *  `old_key` start with `new_key` instead ("": none) (rekey; folder_id is
 *  the operation's own id then). */
struct folder_op {
  char folder_id[ID_LEN + 1];
  char owner_id[ID_LEN + 1];
  char group_id[ID_LEN + 1];
  int op;
  int64_t at;
  char old_key[FOLDER_KEY_MAX + 1];
  char new_key[FOLDER_KEY_MAX + 1];
};

/** A batch ends once it changed `batch_folders` folder rows
 *  (BIN_BATCH_FOLDERS) or spent `batch_ms` (BIN_BATCH_MS), whichever comes
 *  first; `pause_ms` between two batches (BIN_BATCH_PAUSE_MS, for tests: a
 *  crash between batches). 0: the defaults (1000 rows; 2 ms on SQLite, 5 on
 *  PostgreSQL; no pause). */
void folder_ops_configure(int batch_folders, int batch_ms, int pause_ms);

/** In the caller's write transaction, after the folder itself was marked
 *  or unmarked: changes the first batch of folders below it; when more
 *  remain, records the operation and sets *more. */
int folder_ops_start(db_t *db, const struct folder_op *op, bool *more);
/** `most`, or BIN_BATCH_FOLDERS when smaller: the rows a caller's own
 *  first step may change. */
int64_t folder_ops_first_rows(int64_t most);
/** Records `op` as pending, in the caller's write transaction (a caller
 *  that ran its own first step). */
int folder_ops_record(db_t *db, const struct folder_op *op);
/** Runs the remaining batches of a recorded operation, each in its own
 *  write transaction (no transaction open on entry). Safe beside another
 *  thread or node doing the same. */
int folder_ops_finish(const struct folder_op *op);

/** After the transaction that started `op` ended with `rc`: when it
 *  committed and batches remain (`more`), runs them. The change is made
 *  and visible; a fault here leaves the operation recorded, and the
 *  owner's next write or the janitor completes it: still DRIVE_OK. */
int folder_ops_after(int rc, bool more, const struct folder_op *op);
/** Starts a write transaction for a change to `owner_id`'s drive: when the
 *  owner has an operation pending, it is completed first (the folders of a
 *  half-marked subtree must not be written). On DRIVE_OK the caller ends
 *  it with drive_tx_end; on a failure none is left open. */
int folder_ops_tx_begin(db_t *db, const char *owner_id);
/** Completes `owner_id`'s pending operations (NULL: every owner's), for a
 *  write of one statement outside folder_ops_tx_begin, and the janitor. */
int folder_ops_settle(const char *owner_id);
/** Sets *pending when `owner_id` has an operation to complete: one indexed
 *  probe, for a caller that would rather settle off its thread. */
int folder_ops_pending(const char *owner_id, bool *pending);

#endif
