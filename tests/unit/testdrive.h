/* testdrive: the domain started for real on a throw-away SQLite database
 * (testdb.h) and a throw-away DATA_DIR with the local chunk store, as
 * `netradrive gc` starts it (drive_init, no background threads unless
 * asked), plus what the storage tests share: counting rows and chunk files,
 * and pushing bytes through the upload pipeline. Include after cmocka.h.
 * One drive per test program (drive_init keeps global state). */
#ifndef NETRA_TESTDRIVE_H
#define NETRA_TESTDRIVE_H
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "db/db.h"
#include "drive/content.h"
#include "drive/domain.h"
#include "drive/folders.h"
#include "drive/upload.h"
#include "util/id.h"
#include "util/timefmt.h"
#include "testdb.h"

static char testdrive_dir[64];   /* DATA_DIR */

/* A new database and DATA_DIR, nothing started yet. 0 or -1. */
static inline int testdrive_open(const char *name)
{
  if(testdb_open(name) != 0)
    return -1;
  snprintf(testdrive_dir, sizeof(testdrive_dir), "/tmp/netra-data-%s-XXXXXX", name);
  return mkdtemp(testdrive_dir) ? 0 : -1;
}

/* Starts the domain on them, as main.c's drive_options_from would for a
 * local store. 0 or -1. */
static inline int testdrive_init(uint64_t chunk_size, bool background)
{
  char err[256];
  struct drive_options o = {
    .store = {.kind = BLOB_KIND_LOCAL, .data_dir = testdrive_dir, .chunk_size = chunk_size},
    .secret_key = "unit-test-secret-unit-test-secret",
    .access_ttl_s = 1800,
    .refresh_ttl_s = 86400,
    .login_max_failures = 5,
    .login_window_s = 900,
    .addr_max_requests = 10,
    .addr_window_s = 600,
    .public_url = "http://127.0.0.1:1",
    .background = background,
  };
  if(drive_init(&o, err, sizeof(err)) != 0) {
    fprintf(stderr, "drive_init: %s\n", err);
    return -1;
  }
  return 0;
}

/* Both. 0 or -1. */
static inline int testdrive_start(const char *name, uint64_t chunk_size, bool background)
{
  return testdrive_open(name) == 0 && testdrive_init(chunk_size, background) == 0 ? 0 : -1;
}

/* Stops the domain and removes the database and DATA_DIR. */
static inline void testdrive_stop(void)
{
  char cmd[128];
  drive_shutdown();
  testdb_close();
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", testdrive_dir);
  if(system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", testdrive_dir);
}

/* Sets the upload options as drive_init does from the configuration (the
 * chunk size is the store's, set at testdrive_init). */
static inline void testdrive_upload_opts(uint64_t max_size, bool dedup_reject)
{
  struct upload_options up = {.max_size = max_size, .dedup_reject = dedup_reject};
  upload_init(&up);
}

/* One integer from SQL (a string literal: see rows) with up to one text
 * parameter (NULL: none). */
static inline int64_t q_int(const char *sql, const char *arg)
{
  int64_t v = -1;
  int rc = arg ? db_query_int(db_get(), &v, sql, "t", arg) : db_query_int(db_get(), &v, sql, "");
  assert_int_equal(rc, DB_ROW);
  return v;
}

/* Rows of a table. A macro: db.h's statement cache is keyed by the SQL
 * text's address, so every SQL text must be a literal of its own. */
#define rows(table) q_int("SELECT COUNT(*) FROM " table, NULL)

static inline int64_t garbage_in(const char *state)
{
  return q_int("SELECT COUNT(*) FROM pending_deletes WHERE state = $1", state);
}

/* DATA_DIR/chunks/<locator> */
static inline void chunk_path(const char *locator, char *out, size_t n)
{
  snprintf(out, n, "%s/chunks/%.100s", testdrive_dir, locator);   /* locators are short */
}

static inline bool chunk_exists(const char *locator)
{
  char p[256];
  struct stat st;
  chunk_path(locator, p, sizeof(p));
  return stat(p, &st) == 0;
}

/* Regular files in `dir`, or (two_levels) in its subdirectories. */
static inline int64_t files_under(const char *dir, bool two_levels)
{
  char path[1024];
  DIR *d = opendir(dir);
  if(!d)
    return 0;
  int64_t n = 0;
  struct dirent *e;
  while((e = readdir(d)) != NULL) {
    struct stat st;
    if(e->d_name[0] == '.')
      continue;
    if(snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
       stat(path, &st) != 0)
      continue;
    if(two_levels && S_ISDIR(st.st_mode))
      n += files_under(path, false);
    else if(!two_levels && S_ISREG(st.st_mode))
      n++;
  }
  closedir(d);
  return n;
}

/* Chunk files in DATA_DIR/chunks/xx/. */
static inline int64_t chunk_files(void)
{
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/chunks", testdrive_dir);
  return files_under(dir, true);
}

/* Spool files in DATA_DIR/tmp. */
static inline int64_t spool_files(void)
{
  char dir[128];
  snprintf(dir, sizeof(dir), "%s/tmp", testdrive_dir);
  return files_under(dir, false);
}

static inline void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- the upload's wake: a request suspended until a store thread says go */

struct waiter {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool woken;
  int suspends, wakes;
};
#define WAITER_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0}

static void waiter_suspend(void *arg)
{
  struct waiter *w = arg;
  pthread_mutex_lock(&w->lock);
  w->woken = false;
  w->suspends++;
  pthread_mutex_unlock(&w->lock);
}

static void waiter_wake(void *arg)
{
  struct waiter *w = arg;
  pthread_mutex_lock(&w->lock);
  w->woken = true;
  w->wakes++;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

/* Waits for the wake, at most 5 s; false on a timeout. */
static inline bool waiter_wait(struct waiter *w)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 5;
  pthread_mutex_lock(&w->lock);
  int rc = 0;
  while(!w->woken && rc != ETIMEDOUT)
    rc = pthread_cond_timedwait(&w->cond, &w->lock, &ts);
  bool ok = w->woken;
  pthread_mutex_unlock(&w->lock);
  return ok;
}

/* Deterministic bytes: `seed` tells files apart. */
static inline void fill(char *buf, size_t n, unsigned seed)
{
  uint32_t x = seed * 2654435761u + 12345u;
  for(size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    buf[i] = (char)(x >> 24);
  }
}

/* Writes `n` bytes in pieces of `piece`, waiting whenever the upload asks
 * to hold the next bytes. The last upload_write code (DRIVE_OK, or the
 * first failure). */
static inline int upload_feed(struct upload *u, struct waiter *w, const char *data, size_t n,
                              size_t piece)
{
  for(size_t off = 0; off < n; off += piece) {
    size_t k = n - off < piece ? n - off : piece;
    int rc = upload_write(u, data + off, k);
    if(rc == DRIVE_PENDING) {
      assert_true(waiter_wait(w));
      continue;
    }
    if(rc != DRIVE_OK)
      return rc;
  }
  return DRIVE_OK;
}

/* upload_finish, called again after each wake while it says DRIVE_PENDING. */
static inline int upload_finish_wait(struct upload *u, struct waiter *w, char id[ID_LEN + 1])
{
  int rc;
  for(int tries = 0; (rc = upload_finish(u, id, ID_LEN + 1)) == DRIVE_PENDING; tries++) {
    assert_true(tries < 1000);
    assert_true(waiter_wait(w));
  }
  return rc;
}

/* The whole pipeline for `n` bytes of `data`: new, name, write, finish,
 * free. The finish code; the new file's id in `id` on DRIVE_OK. */
static inline int upload_bytes(const char *owner, const char *folder, const char *name,
                               const char *data, size_t n, char id[ID_LEN + 1])
{
  struct waiter w = WAITER_INIT;
  const char *why = NULL;
  struct upload *u = upload_new(owner, folder);
  assert_non_null(u);
  upload_set_wake(u, waiter_suspend, waiter_wake, &w);
  assert_int_equal(upload_set_name(u, name, &why), DRIVE_OK);
  int rc = upload_feed(u, &w, data, n, 10000);
  if(rc == DRIVE_OK)
    rc = upload_finish_wait(u, &w, id);
  upload_free(u);
  return rc;
}

/* Polls `cond` every 5 ms until it holds, for up to `ms` (then fails). */
#define EVENTUALLY_MS(cond, ms)                                          \
  do {                                                                   \
    int64_t ev_end_ = time_now_ms() + (ms);                              \
    while(!(cond) && time_now_ms() < ev_end_)                            \
      sleep_ms(5);                                                       \
    assert_true(cond);                                                   \
  } while(0)
#define EVENTUALLY(cond) EVENTUALLY_MS(cond, 5000)

/* The owner's usage counters are exactly these. */
static inline void testdrive_usage_is(const char *owner, int64_t total, int64_t count,
                                      int64_t bin, int64_t stored)
{
  struct usage u;
  assert_int_equal(usage_get(owner, &u), DRIVE_OK);
  assert_int_equal(u.total_bytes, total);
  assert_int_equal(u.file_count, count);
  assert_int_equal(u.bin_bytes, bin);
  assert_int_equal(u.stored_bytes, stored);
}

/* The size of the owner's folder `id` (which must exist). */
static inline int64_t testdrive_folder_size(const char *owner, const char *id)
{
  struct folder f;
  assert_int_equal(folder_get(owner, id, &f), DRIVE_OK);
  return f.size;
}

#endif
