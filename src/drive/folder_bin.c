/* folder_bin: a folder into the bin with everything below it, and back
 * (API §4, DECISIONS "Folders and items"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "drive/content.h"
#include "drive/folder_sql.h"
#include "drive/folders.h"
#include "util/timefmt.h"

/* Files binned or restored per transaction: the write lock is let go
 * between batches, so another user's write never waits for a whole
 * 100,000-file folder, only for one batch. The batch size adapts so a
 * batch takes about FOLDER_BATCH_MS: small ones cost more in all (every
 * commit writes the pages of eight indexes), large ones hold the lock. */
#define FOLDER_BATCH_MIN 25
#define FOLDER_BATCH_FIRST 100
#define FOLDER_BATCH_MAX 4000
#define FOLDER_BATCH_MS 20

/* The clock batches are sized by, in ms. SQLite does a batch's work on
 * this thread: its CPU time, not the wall clock, which on a busy machine
 * counts the time other processes had the CPU and shrank batches to the
 * minimum (many more commits, each writing the same index pages again: 117 s
 * for 100,000 files at load 16). PostgreSQL does it in the server process,
 * which this thread's CPU time does not see (batches grew to the maximum and
 * held the lock for seconds): the wall clock. */
static int64_t folder_cpu_ms(void)
{
  struct timespec t;
  clock_gettime(db_dialect() == DB_SQLITE ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The next batch size after one of `n` rows took `ms`. */
static int64_t folder_batch_next(int64_t n, int64_t ms)
{
  if(ms < FOLDER_BATCH_MS / 2 && n < FOLDER_BATCH_MAX)
    return n * 2;
  if(ms > FOLDER_BATCH_MS * 2 && n > FOLDER_BATCH_MIN)
    return n / 2;
  return n;
}

/* How many "name (n)" candidates a restore tries before giving up. */
#define FOLDER_RENAME_TRIES 100000

/* Steps an UPDATE ... RETURNING size to its end, adding up the sizes. */
static int folder_sum_rows(db_stmt_t *st, int64_t *sum)
{
  if(!st)
    return DRIVE_DB;
  int rc;
  while((rc = db_step(st)) == DB_ROW)
    *sum += db_col_int(st, 0);
  return drive_stmt_end(st, rc);
}

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

static int folder_bin_files(db_t *db, const char *owner_id, const char *folder_id, int64_t when);
static int folder_unbin_files(db_t *db, const char *owner_id, const char *group);

int folder_bin(const char *owner_id, const char *folder_id)
{
  db_t *db;
  struct folder f;
  int64_t now = time_now_ms();
  int rc = folder_tx_load(&db, owner_id, folder_id, &f);
  if(rc)
    return rc;
  if(f.is_deleted)
    return drive_tx_end(db, DRIVE_OK); /* already in the bin: nothing to do */

  /* The live ancestors no longer hold what goes to the bin. */
  rc = folder_add_size(db, folder_nullable(f.parent_id), -f.size);
  /* One walk marks the group: the folder itself (trashed_with NULL) and the
   * live folders below it (trashed_with = it) ... */
  if(!rc)
    rc = drive_db(db_exec(db,
                        "UPDATE folders SET is_deleted = 1, deleted_at = $3, "
                        "trashed_with = CASE WHEN id = $1 THEN NULL ELSE $1 END "
                        "WHERE id IN (" SUBTREE_LIVE ")",
                        "tti", folder_id, owner_id, now));
  /* ... and their files follow in batches, each its own transaction. */
  rc = drive_tx_end(db, rc);
  return rc ? rc : folder_bin_files(db, owner_id, folder_id, now);
}

/* Brings back at most `n` files of the bin group `group` in one
 * transaction, while the group's top is live (binning it again stops it),
 * the owner's bin bytes shrinking by what moved; *moved says how many. */
static int folder_unbin_batch(db_t *db, const char *owner_id, const char *group, int64_t n,
                              int64_t *moved)
{
  int64_t bytes = 0;
  *moved = 0;
  int rc = drive_tx_begin(db);
  if(rc)
    return rc;
  db_stmt_t *st = db_query(db,
                           "UPDATE files SET is_deleted = 0, deleted_at = NULL, "
                           "trashed_with = NULL WHERE id IN (SELECT id FROM files WHERE "
                           "trashed_with = $1 AND owner_id = $2 AND is_deleted = 1 "
                           "AND EXISTS (SELECT 1 FROM folders g WHERE g.id = $1 AND "
                           "g.is_deleted = 0) ORDER BY folder_id LIMIT $3) RETURNING size",
                           "tti", group, owner_id, n);
  int step = DB_ERROR;
  if(st)
    while((step = db_step(st)) == DB_ROW) {
      bytes += db_col_int(st, 0);
      (*moved)++;
    }
  rc = st ? drive_stmt_end(st, step) : DRIVE_DB;
  if(!rc && *moved)
    rc = usage_add(db, owner_id, 0, 0, -bytes, 0);
  return drive_tx_end(db, rc);
}

#define FOLDER_HAS_LIVE_FILES                                                    \
  "EXISTS (SELECT 1 FROM files f WHERE f.owner_id = $2 AND f.folder_id = g.id AND " \
  "f.is_deleted = 0)"

/* The ids of bin group `group`'s folders (its top and those carried) that
 * hold live files, read once after they were marked: ID_LEN + 1 bytes a
 * folder. Folders without files cost one index probe here, not a statement
 * each later (a 10,000-deep or 10,000-wide group holds files in few). */
static int folder_group_ids(db_t *db, const char *owner_id, const char *group,
                            char (**ids)[ID_LEN + 1], size_t *count)
{
  size_t cap = 0;
  *ids = NULL;
  *count = 0;
  db_stmt_t *st = db_query(db,
                           "SELECT g.id FROM folders g WHERE g.id = $1 AND g.owner_id = $2 "
                           "AND " FOLDER_HAS_LIVE_FILES " UNION ALL SELECT g.id FROM folders g "
                           "WHERE g.trashed_with = $1 AND g.owner_id = $2 AND "
                           FOLDER_HAS_LIVE_FILES,
                           "tt", group, owner_id);
  if(!st)
    return DRIVE_DB;
  int rc;
  while((rc = db_step(st)) == DB_ROW) {
    if(*count == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char(*n)[ID_LEN + 1] = realloc(*ids, ncap * sizeof(*n));
      if(!n) {
        rc = DB_ERROR;
        break;
      }
      *ids = n;
      cap = ncap;
    }
    db_col_copy(st, 0, (*ids)[(*count)++], ID_LEN + 1);
  }
  return drive_stmt_end(st, rc);
}

/* One batch of folder_bin_files: up to `n` live files of the folders from
 * ids[*at] on, in one transaction, while the group is still in the bin
 * from this binning; *at moves past the folders emptied. */
static int folder_bin_batch(db_t *db, const char *owner_id, const char *group, int64_t when,
                            char (*ids)[ID_LEN + 1], size_t count, size_t *at, int64_t n,
                            int64_t *moved)
{
  int64_t bytes = 0, still = 0;
  *moved = 0;
  int rc = drive_tx_begin(db);
  if(rc)
    return rc;
  rc = drive_db(db_query_int(db, &still,
                             "SELECT COUNT(*) FROM folders WHERE id = $1 AND is_deleted = 1 "
                             "AND deleted_at = $2",
                             "ti", group, when) == DB_ROW ? DB_OK : DB_ERROR);
  if(!rc && !still)
    *at = count; /* restored or binned again meanwhile: this job stops */
  while(!rc && *at < count && *moved < n) {
    int64_t got = 0, ask = n - *moved;
    db_stmt_t *st = db_query(db,
                             "UPDATE files SET is_deleted = 1, deleted_at = $3, trashed_with = $1 "
                             "WHERE id IN (SELECT id FROM files WHERE owner_id = $2 AND "
                             "folder_id = $5 AND is_deleted = 0 LIMIT $4) RETURNING size",
                             "ttiit", group, owner_id, when, ask, ids[*at]);
    int step = DB_ERROR;
    if(st)
      while((step = db_step(st)) == DB_ROW) {
        bytes += db_col_int(st, 0);
        got++;
      }
    rc = st ? drive_stmt_end(st, step) : DRIVE_DB;
    if(got < ask)
      (*at)++; /* this folder has no live file left */
    *moved += got;
  }
  if(!rc && *moved)
    rc = usage_add(db, owner_id, 0, 0, bytes, 0);
  return drive_tx_end(db, rc);
}

/* The live files of the bin group `folder_id` (binned at `when`) follow
 * their folders into the bin, in batches (FOLDER_BATCH_*), folder by folder
 * from a list read once: a batch costs its rows, not a look at every
 * folder of the group (1,000 index seeks a batch for a 100,000-item
 * folder). Each batch first checks the group is still in the bin from that
 * binning (a restore in between stops it). The folders went in one
 * transaction before, so the files left live for a moment are in binned
 * folders: no listing of live folders shows them, and nothing new can be
 * put there. */
static int folder_bin_files(db_t *db, const char *owner_id, const char *folder_id, int64_t when)
{
  char(*ids)[ID_LEN + 1];
  size_t count, at = 0;
  int64_t n = FOLDER_BATCH_FIRST, moved, t0;
  int rc = folder_group_ids(db, owner_id, folder_id, &ids, &count);
  while(!rc && at < count) {
    t0 = folder_cpu_ms();
    rc = folder_bin_batch(db, owner_id, folder_id, when, ids, count, &at, n, &moved);
    n = folder_batch_next(n, folder_cpu_ms() - t0);
  }
  free(ids);
  return rc;
}

/* The files a restore of the bin group `group` brings back, in batches
 * (folder_unbin_batch) until one moves fewer rows than it may, each sized by
 * how long the last took. Folder by folder (files_trashed_folder, migration
 * 014): a batch's rows sit together in the listing indexes, so it dirties a
 * few pages, not a few per row. */
static int folder_unbin_files(db_t *db, const char *owner_id, const char *group)
{
  int64_t moved, n = FOLDER_BATCH_FIRST, t0;
  int rc;
  do {
    t0 = folder_cpu_ms();
    rc = folder_unbin_batch(db, owner_id, group, n, &moved);
  } while(!rc && moved == n && (n = folder_batch_next(n, folder_cpu_ms() - t0)) > 0);
  return rc;
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

/* Brings the files and then the folders of bin group `group` below
 * `folder_id` back to life, adding the files' bytes to *bytes. Restoring the
 * group's top, the whole group comes back through the trashed_with index;
 * restoring a folder carried inside it needs a walk down. */
static int folder_unbin_rows(db_t *db, const char *owner_id, const char *folder_id,
                             const char *group, int64_t *bytes)
{
  int rc;
  if(!strcmp(folder_id, group)) /* the files follow in batches (folder_unbin_files) */
    return drive_db(db_exec(db,
                            "UPDATE folders SET is_deleted = 0, deleted_at = NULL, "
                            "trashed_with = NULL WHERE (id = $1 OR trashed_with = $1) "
                            "AND owner_id = $2",
                            "tt", group, owner_id));
  /* Files first: the walk only passes through the group's binned folders. */
  rc = folder_sum_rows(db_query(db,
                                "UPDATE files SET is_deleted = 0, deleted_at = NULL, "
                                "trashed_with = NULL WHERE is_deleted = 1 AND trashed_with = $3 "
                                "AND folder_id IN (" SUBTREE_GROUP ") RETURNING size",
                                "ttt", folder_id, owner_id, group),
                       bytes);
  if(!rc)
    rc = drive_db(db_exec(db,
                          "UPDATE folders SET is_deleted = 0, deleted_at = NULL, "
                          "trashed_with = NULL WHERE id IN (" SUBTREE_GROUP ")",
                          "ttt", folder_id, owner_id, group));
  return rc;
}

int folder_restore(const char *owner_id, const char *folder_id)
{
  db_t *db;
  struct folder f;
  char name[NAME_MAX_BYTES + 1], key[NAME_MAX_BYTES + 1], group[ID_LEN + 1] = "";
  int64_t bytes = 0;
  int rc = folder_tx_load(&db, owner_id, folder_id, &f);
  if(rc)
    return rc;
  if(!f.is_deleted)
    goto out; /* not in the bin: only files a cut restore left (below) */

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
  rc = folder_unbin_rows(db, owner_id, folder_id, group, &bytes);
  if(!rc)
    rc = folder_add_size(db, parent, f.size);
  if(!rc && bytes)
    rc = usage_add(db, owner_id, 0, 0, -bytes, 0);
out:
  rc = drive_tx_end(db, rc);
  /* The group's files follow in batches. A live folder may still have files
   * of its group in the bin: a restore cut short (a crash) left them, and
   * restoring it again brings them back (one index probe when none). */
  if(!rc && (!f.is_deleted || !strcmp(group, folder_id)))
    rc = folder_unbin_files(db, owner_id, folder_id);
  return rc;
}

