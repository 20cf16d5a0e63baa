/* folder_bin: a folder into the bin with everything below it, and back
 * (API §4, DECISIONS "Folders and items", "The bin is kept on folders"):
 * each one transaction that changes the group's folder rows, the sizes up
 * the tree and the owner's bin bytes once, whatever the files below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drive/content.h"
#include "drive/folder_sql.h"
#include "drive/folders.h"
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
  int rc = drive_tx_begin(*db);
  if(rc)
    return rc;
  rc = folder_get(owner_id, folder_id, f);
  return rc ? drive_tx_end(*db, rc) : DRIVE_OK;
}

int folder_bin(const char *owner_id, const char *folder_id)
{
  db_t *db;
  struct folder f;
  int rc = folder_tx_load(&db, owner_id, folder_id, &f);
  if(rc)
    return rc;
  if(f.is_deleted)
    return drive_tx_end(db, DRIVE_OK); /* already in the bin: nothing to do */

  /* The live ancestors no longer hold what goes to the bin ... */
  rc = folder_add_size(db, folder_nullable(f.parent_id), -f.size);
  /* ... one statement marks the group: the folder itself (trashed_with NULL)
   * and the live folders below it (trashed_with = it). Their files are not
   * touched: a file in a binned folder is in the bin (files.h), and the
   * folder's size is what they hold, all of it now in the bin. */
  if(!rc)
    rc = drive_db(db_exec(db,
                          "UPDATE folders SET is_deleted = 1, deleted_at = $3, "
                          "trashed_with = CASE WHEN id = $1 THEN NULL ELSE $1 END "
                          "WHERE id IN (" SUBTREE_LIVE ")",
                          "tti", folder_id, owner_id, time_now_ms()));
  if(!rc && f.size)
    rc = usage_add(db, owner_id, 0, 0, f.size, 0);
  return drive_tx_end(db, rc);
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
 * 100,000 copies made 100,000 queries before); a last check of the pick
 * guards what folding could blur. */
static int folder_free_name(db_t *db, const char *owner_id, const char *parent,
                            const char *self, const char *name,
                            char out[NAME_MAX_BYTES + 1], char key[NAME_MAX_BYTES + 1])
{
  char cand[NAME_MAX_BYTES + 1], ckey[NAME_MAX_BYTES + 1], prefix[NAME_MAX_BYTES + 1];
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
  int64_t chars = 0;
  for(const char *p = prefix; *p; p++)
    chars += ((unsigned char)*p & 0xC0) != 0x80;
  db_stmt_t *st = db_query(db,
                           "SELECT name_key FROM folders WHERE owner_id = $1 AND "
                           "COALESCE(parent_id, '') = $2 AND is_deleted = 0 AND "
                           "substr(name_key, 1, CAST($3 AS INTEGER)) = $4",
                           "ttit", owner_id, parent ? parent : "", chars, prefix);
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

/* Brings the folders of bin group `group` below `folder_id` (itself
 * included) back to life; their files come back with them (files.h).
 * Restoring the group's top, the whole group comes back through the
 * trashed_with index; restoring a folder carried inside it needs a walk
 * down through the group. */
static int folder_unbin_rows(db_t *db, const char *owner_id, const char *folder_id,
                             const char *group)
{
  /* From the primary key and folders_trashed alone: the group's top was
   * loaded as the owner's, and its carried folders are the owner's too. An
   * owner test beside them made SQLite walk every folder of the owner (100 ms
   * at 100,000 folders). */
  if(!strcmp(folder_id, group))
    return drive_db(db_exec(db,
                            "UPDATE folders SET is_deleted = 0, deleted_at = NULL, "
                            "trashed_with = NULL WHERE id = $1 OR trashed_with = $1",
                            "t", group));
  return drive_db(db_exec(db,
                          "UPDATE folders SET is_deleted = 0, deleted_at = NULL, "
                          "trashed_with = NULL WHERE id IN (" SUBTREE_GROUP ")",
                          "ttt", folder_id, owner_id, group));
}

int folder_restore(const char *owner_id, const char *folder_id)
{
  db_t *db;
  struct folder f;
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
  /* Settle place and name while still binned (outside the unique index). */
  if(strcmp(name, f.name) || !parent != !folder_nullable(f.parent_id)) {
    rc = drive_db(db_exec(db,
                          "UPDATE folders SET parent_id = $1, name = $2, name_key = $3, "
                          "updated_at = $4 WHERE id = $5",
                          "tttit", parent, name, key, time_now_ms(), folder_id));
    if(rc)
      goto out;
  }
  /* Its size is what came back with it: the files of the group below it. */
  rc = folder_unbin_rows(db, owner_id, folder_id, group);
  if(!rc)
    rc = folder_add_size(db, parent, f.size);
  if(!rc && f.size)
    rc = usage_add(db, owner_id, 0, 0, -f.size, 0);
out:
  return drive_tx_end(db, rc);
}
