/* bench-seed: fills one account from a plan file for bench/metadata,
 * through the drive/ functions the API routes call (folder_create, and
 * file_copies: the upload's dedup path in bulk), never hand-written SQL.
 *
 * usage: bench-seed DATABASE_URL USER_ID PLAN OUT SRC_FILE_ID...
 * PLAN lines (tab-separated, folders before what they hold):
 *   D <idx> <parent idx, -1 = root> <name>
 *   F <folder idx, -1 = root> <source k> <name>   a copy of SRC_FILE_ID k
 * OUT gets "<idx>\t<folder id>" per folder. Prints the rates on stdout. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db/db.h"
#include "drive/files.h"
#include "drive/folders.h"

#define SEED_BATCH 2000 /* file copies per transaction */
#define SEED_LINE 2048
#define SEED_FOLDER_BATCH 500 /* folder_create calls per transaction */
#define SEED_TX_FILES 50000   /* file copies per transaction (file_copies batches folded) */
/* PostgreSQL: file_copies calls per transaction. Each call
 * updates the same few rows (the owner's usage, the sizes up the tree, the
 * source's refcount), and every update inside one transaction leaves a row
 * version the next lookup steps over: 5,000 calls a transaction made the
 * seeding quadratic (heap_hot_search_buffer topped the profile). SQLite
 * updates in place, so there the file limit above decides (folder_create
 * calls touch fewer shared rows: 500 or 32 a transaction measured the same). */
#define SEED_PG_TX_CALLS 32

struct seed_batch {
  long folder;
  long src;
  size_t n;
  char *names[SEED_BATCH];
};

static double seed_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char (*seed_ids)[ID_LEN + 1];
static long seed_nids;

static const char *seed_folder_id(long idx)
{
  return idx < 0 || idx >= seed_nids || !seed_ids[idx][0] ? NULL : seed_ids[idx];
}

/* Calls per transaction: SEED_PG_TX_CALLS on PostgreSQL, else unbounded. */
static long seed_tx_calls = 1L << 40;
static long seed_calls; /* file_copies calls in the open transaction */

static int seed_flush(const char *owner, char **srcs, struct seed_batch *b, long *in_tx)
{
  const char *why = NULL;
  int rc = 0;
  if(b->n && *in_tx == 0 && db_batch_begin(db_get()) != DB_OK)
    rc = DRIVE_DB;
  if(b->n && !rc) {
    rc = file_copies(owner, srcs[b->src], seed_folder_id(b->folder),
                     (const char *const *)b->names, b->n, &why);
    *in_tx += (long)b->n;
    seed_calls++;
  }
  if(*in_tx >= SEED_TX_FILES || seed_calls >= seed_tx_calls || (rc && *in_tx)) {
    *in_tx = 0;
    seed_calls = 0;
    if(db_batch_end(db_get()) != DB_OK && !rc)
      rc = DRIVE_DB;
  }
  if(rc)
    fprintf(stderr, "bench-seed: file_copies: %s %s\n", drive_status_name(rc), why ? why : "");
  for(size_t i = 0; i < b->n; i++)
    free(b->names[i]);
  b->n = 0;
  return rc;
}

int main(int argc, char **argv)
{
  char err[512], line[SEED_LINE];
  if(argc < 6) {
    fputs("usage: bench-seed DATABASE_URL USER_ID PLAN OUT SRC_FILE_ID...\n", stderr);
    return 2;
  }
  const char *owner = argv[2];
  char **srcs = argv + 5;
  long nsrcs = argc - 5;
  FILE *plan = fopen(argv[3], "r"), *out = fopen(argv[4], "w");
  if(!plan || !out) {
    perror("bench-seed: plan/out");
    return 1;
  }
  if(db_init(argv[1], err, sizeof(err)) != 0) {
    fprintf(stderr, "bench-seed: %s\n", err);
    return 1;
  }
  /* A bulk load's session settings, not the server's: the load is re-run
   * from scratch if the machine dies, so no sync; a cache big enough that
   * the random-keyed index pages a transaction dirties stay in memory until
   * its commit, and few commits (each writes every page it dirtied: with
   * 2,000 rows a commit, a page per row and index). */
  if(db_dialect() == DB_SQLITE)
    db_exec(db_get(), "PRAGMA cache_size=-1048576", "");   /* 1 GiB */
  db_exec(db_get(), db_sql("PRAGMA synchronous=OFF", "SET synchronous_commit = off"), "");
  if(db_dialect() == DB_POSTGRES)
    seed_tx_calls = SEED_PG_TX_CALLS;
  static struct seed_batch b;
  long in_tx = 0; /* file copies in the open db_batch, 0: none open */
  long folders = 0, files = 0;
  bool in_batch = false; /* folder creations commit SEED_FOLDER_BATCH at a time */
  double t0 = seed_now(), tf = 0;
  int rc = 0;
  while(!rc && fgets(line, sizeof(line), plan)) {
    line[strcspn(line, "\n")] = 0;
    char *kind = strtok(line, "\t"), *a = strtok(NULL, "\t"), *c = strtok(NULL, "\t"),
         *name = strtok(NULL, "");
    if(!kind || !a || !c || !name) {
      fprintf(stderr, "bench-seed: bad plan line\n");
      rc = 1;
      break;
    }
    if(kind[0] == 'D') {
      long idx = atol(a);
      if(idx >= seed_nids) {
        long n = seed_nids ? seed_nids * 2 : 1024;
        while(n <= idx)
          n *= 2;
        seed_ids = realloc(seed_ids, (size_t)n * sizeof(*seed_ids));
        if(!seed_ids)
          return 1;
        memset(seed_ids + seed_nids, 0, (size_t)(n - seed_nids) * sizeof(*seed_ids));
        seed_nids = n;
      }
      struct folder f;
      const char *why = NULL;
      if(b.n && (rc = seed_flush(owner, srcs, &b, &in_tx)) != 0)
        break;
      if(in_tx) { /* a folder after files: their transaction ends first */
        in_tx = 0;
        seed_calls = 0;
        if((rc = db_batch_end(db_get())) != DB_OK)
          break;
      }
      if(!in_batch && (rc = db_batch_begin(db_get())) != DB_OK)
        break;
      in_batch = true;
      rc = folder_create(owner, seed_folder_id(atol(c)), name, &f, &why);
      if(rc) {
        fprintf(stderr, "bench-seed: folder_create '%s': %s %s\n", name,
                drive_status_name(rc), why ? why : "");
        break;
      }
      memcpy(seed_ids[idx], f.id, ID_LEN + 1);
      fprintf(out, "%ld\t%s\n", idx, f.id);
      if(++folders % SEED_FOLDER_BATCH == 0) {
        in_batch = false;
        if((rc = db_batch_end(db_get())) != DB_OK)
          break;
      }
      tf = seed_now();
    }
    else {
      if(in_batch) {
        in_batch = false;
        if((rc = db_batch_end(db_get())) != DB_OK)
          break;
      }
      long folder = atol(a), src = atol(c) % nsrcs;
      if(b.n == SEED_BATCH || (b.n && (b.folder != folder || b.src != src)))
        rc = seed_flush(owner, srcs, &b, &in_tx);
      b.folder = folder;
      b.src = src;
      b.names[b.n++] = strdup(name);
      files++;
    }
  }
  if(in_batch && db_batch_end(db_get()) != DB_OK && !rc)
    rc = 1;
  if(!rc)
    rc = seed_flush(owner, srcs, &b, &in_tx);
  if(in_tx && db_batch_end(db_get()) != DB_OK && !rc)
    rc = 1;
  double t1 = seed_now();
  if(tf == 0)
    tf = t0;
  printf("seed: %ld folders in %.1f s (%.0f/s), %ld files in %.1f s (%.0f/s)\n", folders, tf - t0,
         folders / (tf - t0 > 0 ? tf - t0 : 1), files, t1 - tf, files / (t1 - tf > 0 ? t1 - tf : 1));
  fclose(plan);
  fclose(out);
  free(seed_ids);
  db_shutdown();
  return rc ? 1 : 0;
}
