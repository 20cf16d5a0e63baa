#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "drive/nodes.h"
#include "drive/content.h"
#include "drive/drive.h"
#include "drive/garbage.h"
#include "drive/files.h"
#include "drive/folder_key.h"
#include "drive/maint.h"
#include "drive/orphans.h"
#include "drive/store.h"
#include "util/checksum.h"
#include "util/progress.h"
#include "util/timefmt.h"

/* An unreferenced chunk younger than this may be a live upload's, written
 * but not yet recorded: kept unless the command runs with no server. */
#define ORPHAN_MIN_AGE_MS (60 * 60 * 1000)
#define SPOOL_MIN_AGE_S (24 * 60 * 60)

/* True when a locator is known to the database (a chunk or queued garbage). */
static bool locator_known(db_t *db, const char *locator)
{
  return content_knows_locator(db, locator) || garbage_knows(db, locator);
}

struct orphan_walk {
  db_t *db;
  FILE *out;
  bool remove;
  int64_t now;
  int64_t min_age_ms;   /* ORPHAN_MIN_AGE_MS, or 0 when no server runs */
  struct maint_report *rep;
  struct progress *pg;  /* chunks looked at; NULL: none */
  int64_t seen;
};

static int orphan_visit(void *arg, const char *locator, int64_t mtime_ms)
{
  struct orphan_walk *w = arg;
  progress_set(w->pg, ++w->seen);
  if(w->now - mtime_ms < w->min_age_ms || locator_known(w->db, locator))
    return 0;
  w->rep->orphans_found++;
  progress_end(w->pg);
  if(w->remove && blob_delete(store_blob(), locator) == BLOB_OK) {
    w->rep->orphans_removed++;
    fprintf(w->out, "removed unreferenced chunk %s\n", locator);
  }
  else
    fprintf(w->out, "unreferenced chunk %s\n", locator);
  return 0;
}

/* Removes spool files left by a crash (uploads in flight are younger). */
static void sweep_spool(const char *data_dir, FILE *out)
{
  char dir[4096], path[4352];
  snprintf(dir, sizeof(dir), "%s/tmp", data_dir);
  DIR *d = opendir(dir);
  if(!d)
    return;
  time_t now = time(NULL);
  struct dirent *e;
  while((e = readdir(d)) != NULL) {
    struct stat st;
    if(e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if(stat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime > SPOOL_MIN_AGE_S &&
       unlink(path) == 0)
      fprintf(out, "removed stale spool file %s\n", e->d_name);
  }
  closedir(d);
}

int maint_gc(const char *data_dir, int64_t staged_age_ms, FILE *out, FILE *progress,
             struct maint_report *rep)
{
  memset(rep, 0, sizeof(*rep));
  db_t *db = db_get();
  if(!db)
    return -1;
  /* Nodes that stopped sending heartbeats are dead: their staged chunks
   * are garbage. --all-staged takes every node's (no server runs). */
  if(nodes_reap(db) < 0 || store_reclaim_staged(time_now_ms() - staged_age_ms,
                                                staged_age_ms == 0) != DRIVE_OK)
    return -1;
  /* Unrecorded chunks (remote stores that number theirs): with no server
   * running (--all-staged) every gap now, else only past the grace period. */
  if(orphans_sweep(time_now_ms(), staged_age_ms == 0 ? 0 : ORPHANS_GRACE_MS) < 0)
    return -1;
  rep->garbage_removed += store_sweep_all(db, NULL);
  /* --all-staged (staged_age_ms 0) is run only while no server runs. */
  struct progress pg;
  progress_start(&pg, progress, "gc", "stored chunks looked at", 0);
  struct orphan_walk w = {db, out, true, time_now_ms(), staged_age_ms == 0 ? 0 : ORPHAN_MIN_AGE_MS,
                          rep, &pg, 0};
  blob_list(store_blob(), orphan_visit, &w);   /* remote stores cannot list: skipped */
  progress_end(&pg);
  sweep_spool(data_dir, out);
  int64_t left = garbage_pending_count(db);
  fprintf(out, "gc: %ld chunks removed, %ld unreferenced chunks removed, %lld deletions still "
               "pending\n", rep->garbage_removed, rep->orphans_removed, (long long)left);
  return 0;
}

/* Blocking read for tools: waits when a remote store has no bytes yet. */
struct wait_state {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool woken;
};

static void wait_wake(void *arg)
{
  struct wait_state *w = arg;
  pthread_mutex_lock(&w->lock);
  w->woken = true;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

/* Reads a chunk back and compares its size and checksum (of the kind its
 * stored text names): 0 ok, 1 missing, 2 corrupt. */
static int check_chunk(const char *locator, int64_t size, const char *want_sum)
{
  enum checksum_kind kind;
  if(checksum_kind_of(want_sum, &kind) != 0)
    return 2;   /* a record we can't check is a record we can't trust */
  struct blob_reader *rd = NULL;
  int rc = blob_reader_open(store_blob(), locator, (uint64_t)size, &rd);
  if(rc == BLOB_NOTFOUND)
    return 1;
  if(rc != BLOB_OK)
    return 2;
  struct wait_state w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
  blob_reader_set_wake(rd, wait_wake, &w);
  struct checksum sum;
  if(checksum_init(&sum, kind) != 0) {
    blob_reader_close(rd);
    return 2;
  }
  static char buf[1 << 20];
  uint64_t off = 0;
  int result = 0;
  while(off < (uint64_t)size) {
    ssize_t got = blob_reader_pread(rd, buf, sizeof(buf), off);
    if(got == BLOB_AGAIN) {
      pthread_mutex_lock(&w.lock);
      if(!w.woken) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w.cond, &w.lock, &ts);
      }
      w.woken = false;
      pthread_mutex_unlock(&w.lock);
      continue;
    }
    if(got == BLOB_NOTFOUND) {
      result = 1;
      break;
    }
    if(got <= 0) {
      result = 2;
      break;
    }
    checksum_update(&sum, buf, (size_t)got);
    off += (uint64_t)got;
  }
  char have[CHECKSUM_TEXT_MAX];
  if(result == 0 && (checksum_final(&sum, have) != 0 || strcmp(have, want_sum) != 0))
    result = 2;
  checksum_free(&sum);
  blob_reader_close(rd);
  return result;
}

/* Removes every file that uses a damaged content. */
static int repair_content(db_t *db, const char *content_id, FILE *out, struct maint_report *rep)
{
  struct file_rec f;
  for(;;) {
    db_stmt_t *st = db_query(db, "SELECT " FILE_COLUMNS " FROM files WHERE content_id = $1 LIMIT 1",
                             "t", content_id);
    if(!st)
      return -1;
    int rc = db_step(st);
    if(rc == DB_ROW)
      file_from_row(st, 0, &f);
    db_finalize(st);
    if(rc != DB_ROW)
      return rc == DB_DONE ? 0 : -1;
    if(db_begin(db) != DB_OK)
      return -1;
    if(file_purge(db, &f) != DRIVE_OK || db_commit(db) != DB_OK) {
      db_rollback(db);
      return -1;
    }
    rep->files_removed++;
    fprintf(out, "removed damaged file %s (%s) of user %s\n", f.id, f.name, f.owner_id);
  }
}

/* Live children per (owner, folder): kept minus counted, the keys where
 * they differ (a missing row counts as zero). */
#define MAINT_COUNT_DIFF                                                                      \
  "SELECT owner_id, folder_id, SUM(f), SUM(d) FROM ("                                         \
  "SELECT owner_id, folder_id, live_files AS f, live_folders AS d FROM child_counts "         \
  "UNION ALL SELECT owner_id, COALESCE(folder_id, ''), -1, 0 FROM files WHERE is_deleted = 0 " \
  "UNION ALL SELECT owner_id, COALESCE(parent_id, ''), 0, -1 FROM folders "                   \
  "WHERE is_deleted = 0) x GROUP BY owner_id, folder_id HAVING SUM(f) <> 0 OR SUM(d) <> 0 "    \
  "ORDER BY owner_id, folder_id"

/* Recounts the child counters (migration 016's triggers keep them); with
 * `repair` rebuilds the table from the rows, as the migration did. */
static int check_counters(db_t *db, bool repair, FILE *out, struct maint_report *rep)
{
  db_stmt_t *st = db_query(db, MAINT_COUNT_DIFF, "");
  if(!st)
    return -1;
  int rc;
  while((rc = db_step(st)) == DB_ROW) {
    rep->counters_wrong++;
    const char *folder = db_col_text(st, 1);
    fprintf(out, "child counts of %s%s (owner %s) off by %lld files, %lld folders\n",
            *folder ? "folder " : "the root", folder, db_col_text(st, 0),
            (long long)db_col_int(st, 2), (long long)db_col_int(st, 3));
  }
  if(db_finalize(st) != DB_OK || rc != DB_DONE)
    return -1;
  if(!repair || rep->counters_wrong == 0)
    return 0;
  if(db_begin(db) ||
     db_exec(db, "DELETE FROM child_counts", "") ||
     db_exec(db, "INSERT INTO child_counts (owner_id, folder_id, live_files) "
                 "SELECT owner_id, COALESCE(folder_id, ''), COUNT(*) FROM files "
                 "WHERE is_deleted = 0 GROUP BY owner_id, COALESCE(folder_id, '')", "") ||
     db_exec(db, "INSERT INTO child_counts (owner_id, folder_id, live_folders) "
                 "SELECT owner_id, COALESCE(parent_id, ''), COUNT(*) FROM folders "
                 "WHERE is_deleted = 0 GROUP BY owner_id, COALESCE(parent_id, '') "
                 "ON CONFLICT (owner_id, folder_id) DO UPDATE "
                 "SET live_folders = excluded.live_folders", "") ||
     db_commit(db)) {
    db_rollback(db);
    return -1;
  }
  rep->counters_fixed = rep->counters_wrong;
  return 0;
}

/* Folders whose tree key (migration 022, drive/folder_key.h) is not the
 * one their parent's key and their own name_key and id make. A folder may
 * lack a key its place allows (one moved out of an unkeyed subtree with
 * folders below it: the owner's tree is walked), but a key present must be
 * right. An owner whose rekey is pending is skipped. */
#define MAINT_KEY_WANT(CHR)                                                                   \
  "CASE WHEN c.parent_id IS NOT NULL AND p.tree_key IS NULL THEN NULL ELSE "                  \
  "COALESCE(p.tree_key, '') || c.name_key || " CHR " || c.id || " CHR " END"
#define MAINT_KEY_WRONG(CHR, BYTES)                                                           \
  "SELECT c.id, c.owner_id FROM folders c LEFT JOIN folders p ON p.id = c.parent_id "         \
  "WHERE c.tree_key IS NOT NULL AND c.owner_id NOT IN (SELECT owner_id FROM folder_ops) "     \
  "AND c.tree_key IS DISTINCT FROM CASE WHEN " BYTES(MAINT_KEY_WANT(CHR)) " <= "              \
  FOLDER_KEY_MAX_S " THEN " MAINT_KEY_WANT(CHR) " END ORDER BY c.owner_id, c.id"
/* --repair: every key again, top down (the migration's own statement). */
#define MAINT_KEY_REBUILD(CHR, BYTES)                                                          \
  "WITH RECURSIVE k(id, key) AS (SELECT id, name_key || " CHR " || id || " CHR " FROM "        \
  "folders WHERE parent_id IS NULL UNION ALL SELECT f.id, k.key || f.name_key || " CHR         \
  " || f.id || " CHR " FROM folders f JOIN k ON f.parent_id = k.id WHERE " BYTES("k.key") " <= " \
  FOLDER_KEY_MAX_S ") UPDATE folders SET tree_key = k.key FROM k WHERE k.id = folders.id "     \
  "AND " BYTES("k.key") " <= " FOLDER_KEY_MAX_S

static int check_keys(db_t *db, bool repair, FILE *out, struct maint_report *rep)
{
  db_stmt_t *st = db_query(db, db_sql(MAINT_KEY_WRONG("char(1)", KEY_BYTES_SQLITE),
                                      MAINT_KEY_WRONG("chr(1)", KEY_BYTES_PG)), "");
  if(!st)
    return -1;
  int rc;
  while((rc = db_step(st)) == DB_ROW) {
    rep->keys_wrong++;
    fprintf(out, "tree key of folder %s (owner %s) is wrong\n", db_col_text(st, 0),
            db_col_text(st, 1));
  }
  if(db_finalize(st) != DB_OK || rc != DB_DONE)
    return -1;
  if(!repair || rep->keys_wrong == 0)
    return 0;
  if(db_begin(db) || db_exec(db, "UPDATE folders SET tree_key = NULL", "") ||
     db_exec(db, db_sql(MAINT_KEY_REBUILD("char(1)", KEY_BYTES_SQLITE),
                        MAINT_KEY_REBUILD("chr(1)", KEY_BYTES_PG)), "") ||
     db_commit(db)) {
    db_rollback(db);
    return -1;
  }
  rep->keys_fixed = rep->keys_wrong;
  return 0;
}

int maint_fsck(bool repair, FILE *out, FILE *progress, struct maint_report *rep)
{
  memset(rep, 0, sizeof(*rep));
  db_t *db = db_get();
  if(!db)
    return -1;
  int64_t total = 0;
  db_query_int(db, &total, "SELECT COUNT(*) FROM chunks c JOIN contents t ON t.id = c.content_id "
                           "WHERE t.backend = $1", "t", store_backend_name());
  struct progress pg;
  progress_start(&pg, progress, "fsck", "chunks", total);
  char last_bad[64] = "";
  /* Contents are checked chunk by chunk, in order; one bad chunk marks the
   * whole content (and every file using it) damaged. */
  db_stmt_t *st = db_query(db, "SELECT c.content_id, c.idx, c.size, c.checksum, c.locator "
                               "FROM chunks c JOIN contents t ON t.id = c.content_id "
                               "WHERE t.backend = $1 ORDER BY c.content_id, c.idx",
                           "t", store_backend_name());
  if(!st)
    return -1;
  char (*bad)[64] = NULL;
  size_t nbad = 0;
  while(db_step(st) == DB_ROW) {
    const char *cid = db_col_text(st, 0);
    rep->chunks_checked++;
    progress_set(&pg, rep->chunks_checked);
    if(!strcmp(cid, last_bad))
      continue;
    int r = check_chunk(db_col_text(st, 4), db_col_int(st, 2), db_col_text(st, 3));
    if(r == 0)
      continue;
    if(r == 1)
      rep->chunks_missing++;
    else
      rep->chunks_corrupt++;
    progress_end(&pg);
    fprintf(out, "content %s chunk %lld is %s\n", cid, (long long)db_col_int(st, 1),
            r == 1 ? "missing" : "corrupt");
    snprintf(last_bad, sizeof(last_bad), "%s", cid);
    char (*grown)[64] = realloc(bad, (nbad + 1) * sizeof(*bad));
    if(grown) {
      bad = grown;
      snprintf(bad[nbad++], 64, "%s", cid);
    }
  }
  db_finalize(st);
  progress_end(&pg);
  for(size_t i = 0; i < nbad; i++) {
    int64_t nfiles = 0;
    db_query_int(db, &nfiles, "SELECT COUNT(*) FROM files WHERE content_id = $1", "t", bad[i]);
    rep->files_damaged += nfiles;
    if(repair && repair_content(db, bad[i], out, rep) != 0)
      fprintf(out, "could not repair content %s\n", bad[i]);
  }
  free(bad);
  /* --repair is run only while no server runs. */
  struct orphan_walk w = {db, out, repair, time_now_ms(), repair ? 0 : ORPHAN_MIN_AGE_MS, rep,
                          NULL, 0};
  blob_list(store_blob(), orphan_visit, &w);
  if(check_counters(db, repair, out, rep) != 0)
    fprintf(out, "could not check the child counters\n");
  if(check_keys(db, repair, out, rep) != 0)
    fprintf(out, "could not check the tree keys\n");
  char counters[64] = "", keys[64] = "";
  if(rep->counters_wrong)
    snprintf(counters, sizeof(counters), ", %ld child counters wrong", rep->counters_wrong);
  if(rep->keys_wrong)
    snprintf(keys, sizeof(keys), ", %ld tree keys wrong", rep->keys_wrong);
  fprintf(out, "fsck: %ld chunks checked, %ld missing, %ld corrupt, %ld files damaged, "
               "%ld unreferenced chunks%s%s%s\n", rep->chunks_checked, rep->chunks_missing,
          rep->chunks_corrupt, rep->files_damaged, rep->orphans_found, counters, keys,
          repair ? " (repaired)" : "");
  return 0;
}
