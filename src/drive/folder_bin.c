/* folder_bin: a folder into the bin with everything below it, and back
 * (API §4, DECISIONS "Folders and items", "The bin is kept on folders",
 * "Bin in batches"): one transaction changes the sizes up the tree and the
 * owner's bin bytes once, whatever the files below, marks or unmarks the
 * folder itself and a first batch of its folders; a big subtree's other
 * folders follow in batches of their own (drive/folder_ops.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/content.h"
#include "drive/folder_key.h"
#include "drive/folder_ops.h"
#include "drive/folder_sql.h"
#include "drive/folders.h"
#include "util/log.h"
#include "util/names.h"
#include "util/timefmt.h"

/* How many "name (n)" candidates a restore tries before giving up. */
#define FOLDER_RENAME_TRIES 100000

/* Starts a write transaction on this thread's connection and loads the
 * owner's folder in it. On DRIVE_OK the caller ends it with drive_tx_end; on
 * a failure none is left open. */
static int folder_tx_load(db_t **db, const char *owner_id, const char *folder_id,
                          struct folder *f)
{
  *db = db_get();
  if(!*db)
    return DRIVE_UNAVAILABLE;
  if(!id_valid(folder_id))
    return DRIVE_NOT_FOUND;
  int rc = folder_ops_tx_begin(*db, owner_id);
  if(rc)
    return rc;
  rc = folder_get(owner_id, folder_id, f);
  return rc ? drive_tx_end(*db, rc) : DRIVE_OK;
}

static void folder_op_init(struct folder_op *op, int kind, const char *owner_id,
                           const char *folder_id, const char *group, int64_t at)
{
  op->op = kind;
  op->at = at;
  op->old_key[0] = op->new_key[0] = 0;
  folder_copy_text(op->owner_id, sizeof(op->owner_id), owner_id);
  folder_copy_text(op->folder_id, sizeof(op->folder_id), folder_id);
  folder_copy_text(op->group_id, sizeof(op->group_id), group);
}

int folder_bin(const char *owner_id, const char *folder_id)
{
  db_t *db;
  struct folder f;
  struct folder_op op;
  bool more = false;
  int rc = folder_tx_load(&db, owner_id, folder_id, &f);
  if(rc)
    return rc;
  if(f.is_deleted)
    return drive_tx_end(db, DRIVE_OK); /* already in the bin: nothing to do */

  /* The live ancestors no longer hold what goes to the bin ... */
  folder_op_init(&op, FOLDER_OP_BIN, owner_id, folder_id, folder_id, time_now_ms());
  rc = folder_add_size(db, folder_nullable(f.parent_id), -f.size);
  /* ... the folder itself is the group's top (trashed_with NULL), and the
   * live folders below it join the group (trashed_with = it), top down, a
   * batch at a time. Their files are not touched: a file in a binned
   * folder is in the bin (files.h), and the folder's size is what they
   * hold, all of it now in the bin. */
  if(!rc)
    rc = drive_db(db_exec(db,
                          "UPDATE folders SET is_deleted = 1, deleted_at = $2, "
                          "trashed_with = NULL WHERE id = $1",
                          "ti", folder_id, op.at));
  if(!rc && f.size)
    rc = usage_add(db, owner_id, 0, 0, f.size, 0);
  if(!rc)
    rc = folder_ops_start(db, &op, &more);
  return folder_ops_after(drive_tx_end(db, rc), more, &op);
}

/* "name (n)" for candidate n (n = 0: the name itself), the base cut at a
 * character boundary so the result stays within NAME_MAX_BYTES. */
static void folder_candidate(const char *name, long n, char out[NAME_MAX_BYTES + 1])
{
  if(n == 0) {
    folder_copy_text(out, NAME_MAX_BYTES + 1, name);
    return;
  }
  char suffix[24];
  int slen = snprintf(suffix, sizeof(suffix), " (%ld)", n);
  size_t base = strlen(name);
  if(base + (size_t)slen > NAME_MAX_BYTES) {
    base = NAME_MAX_BYTES - (size_t)slen;
    while(base > 0 && ((unsigned char)name[base] & 0xC0) == 0x80)
      base--;
  }
  snprintf(out, NAME_MAX_BYTES + 1, "%.*s%s", (int)base, name, suffix);
}

/* Reads the number n of a sibling key "<prefix> (n)"; 0 when it is not one. */
static long folder_suffix_number(const char *key)
{
  size_t len = strlen(key);
  if(len < 4 || key[len - 1] != ')')
    return 0;
  size_t i = len - 1;
  while(i > 0 && key[i - 1] >= '0' && key[i - 1] <= '9')
    i--;
  if(i == len - 1 || i < 2 || key[i - 1] != '(' || key[i - 2] != ' ' || key[i] == '0' ||
     len - 1 - i > 6)
    return 0;
  return strtol(key + i, NULL, 10);
}

/* Finds a name for `name` that is free under `parent`: the name itself, or
 * the first free "name (1)", "name (2)", ... One read of the siblings whose
 * key starts like the candidates marks the numbers taken (a restore next to
 * 100,000 copies made 100,000 queries before; a filter on every sibling
 * instead of a range held the write lock 20-30 ms among 18,000 of them); a
 * last check of the pick guards what folding could blur. */
static int folder_free_name(db_t *db, const char *owner_id, const char *parent,
                            const char *self, const char *name,
                            char out[NAME_MAX_BYTES + 1], char key[NAME_MAX_BYTES + 1])
{
  char cand[NAME_MAX_BYTES + 1], ckey[NAME_MAX_BYTES + 1], prefix[NAME_MAX_BYTES + 1];
  char upper[NAME_MAX_BYTES + 5];
  folder_copy_text(out, NAME_MAX_BYTES + 1, name);
  if(utf8_fold(out, key, NAME_MAX_BYTES + 1) != 0)
    return DRIVE_DB;
  int rc = folder_name_taken(db, owner_id, parent, key, self);
  if(rc != DRIVE_CONFLICT)
    return rc;
  unsigned char *taken = calloc(FOLDER_RENAME_TRIES + 1, 1);
  if(!taken)
    return DRIVE_INTERNAL;
  /* The longest suffix cuts the base the most: every candidate's key starts
   * with that cut base's key. */
  folder_candidate(name, FOLDER_RENAME_TRIES, cand);
  size_t cut = strlen(cand) - (size_t)snprintf(NULL, 0, " (%d)", FOLDER_RENAME_TRIES);
  cand[cut] = 0;
  if(utf8_fold(cand, prefix, sizeof(prefix)) != 0) {
    free(taken);
    return DRIVE_DB;
  }
  snprintf(upper, sizeof(upper), "%s" UTF8_TOP, prefix);
  db_stmt_t *st =
    parent ? db_query(db, db_sql(FOLDER_PREFIX_IN_SQLITE, FOLDER_PREFIX_IN_PG), "tttt", owner_id,
                      prefix, upper, parent)
           : db_query(db, db_sql(FOLDER_PREFIX_ROOT_SQLITE, FOLDER_PREFIX_ROOT_PG), "ttt",
                      owner_id, prefix, upper);
  if(!st) {
    free(taken);
    return DRIVE_DB;
  }
  int step;
  while((step = db_step(st)) == DB_ROW) {
    long n = folder_suffix_number(db_col_text(st, 0));
    if(n < 1 || n > FOLDER_RENAME_TRIES)
      continue;
    folder_candidate(name, n, cand);
    if(utf8_fold(cand, ckey, sizeof(ckey)) == 0 && !strcmp(ckey, db_col_text(st, 0)))
      taken[n] = 1;
  }
  rc = drive_stmt_end(st, step);
  bool found = false;
  for(long n = 1; rc == DRIVE_OK && !found && n <= FOLDER_RENAME_TRIES; n++) {
    if(taken[n])
      continue;
    folder_candidate(name, n, out);
    if(utf8_fold(out, key, NAME_MAX_BYTES + 1) != 0)
      rc = DRIVE_DB;
    else if((rc = folder_name_taken(db, owner_id, parent, key, self)) == DRIVE_OK)
      found = true;
    else if(rc == DRIVE_CONFLICT)
      rc = DRIVE_OK; /* taken after all (folding): try the next */
  }
  free(taken);
  if(rc == DRIVE_OK && !found)
    rc = DRIVE_CONFLICT;
  return rc;
}

int folder_restore(const char *owner_id, const char *folder_id)
{
  db_t *db;
  struct folder f;
  struct folder_op op = {0}, rekey = {0};
  bool more = false, rekey_more = false;
  char name[NAME_MAX_BYTES + 1], key[NAME_MAX_BYTES + 1], group[ID_LEN + 1];
  int rc = folder_tx_load(&db, owner_id, folder_id, &f);
  if(rc)
    return rc;
  if(!f.is_deleted)
    goto out; /* not in the bin: nothing to do */

  /* The bin group: this folder when binned directly, else the folder whose
   * binning carried it (then it leaves that group's sizes). */
  folder_copy_text(group, sizeof(group), f.trashed_with[0] ? f.trashed_with : f.id);
  if(f.trashed_with[0]) {
    rc = folder_add_size(db, folder_nullable(f.parent_id), -f.size);
    if(rc)
      goto out;
  }
  const char *parent = folder_nullable(f.parent_id);
  if(parent) {
    rc = folder_check_live(owner_id, parent);
    if(rc == DRIVE_NOT_FOUND)
      parent = NULL; /* binned or gone: back to the root */
    else if(rc)
      goto out;
  }
  rc = folder_free_name(db, owner_id, parent, folder_id, f.name, name, key);
  if(rc)
    goto out;
  /* Settle place and name while still binned (outside the unique index);
   * its subtree's tree keys follow. */
  if(strcmp(name, f.name) || !parent != !folder_nullable(f.parent_id)) {
    struct folder_key old;
    rc = folder_key_read(db, folder_id, &old);
    if(!rc)
      rc = drive_db(db_exec(db,
                            "UPDATE folders SET parent_id = $1, name = $2, name_key = $3, "
                            "updated_at = $4 WHERE id = $5",
                            "tttit", parent, name, key, time_now_ms(), folder_id));
    if(!rc)
      rc = folder_key_moved(db, owner_id, folder_id, parent, key, &old, 0, &rekey, &rekey_more);
    if(rc)
      goto out;
  }
  /* It comes back, then the folders of its group below it, top down, a
   * batch at a time. Its size is what came back with it: the files of the
   * group below it. */
  rc = drive_db(db_exec(db,
                        "UPDATE folders SET is_deleted = 0, deleted_at = NULL, "
                        "trashed_with = NULL WHERE id = $1",
                        "t", folder_id));
  if(!rc)
    rc = folder_add_size(db, parent, f.size);
  if(!rc && f.size)
    rc = usage_add(db, owner_id, 0, 0, -f.size, 0);
  folder_op_init(&op, FOLDER_OP_RESTORE, owner_id, folder_id, group, 0);
  if(!rc)
    rc = folder_ops_start(db, &op, &more);
out:
  /* The folders come back first, then their keys follow (none rewritten
   * in the first transaction, which holds the name search and the first
   * batch already): a rekey leaves each folder row a dead old version on
   * PostgreSQL, which the restore's walk by parent would step over. */
  rc = folder_ops_after(drive_tx_end(db, rc), more, &op);
  return folder_ops_after(rc, rekey_more, &rekey);
}
