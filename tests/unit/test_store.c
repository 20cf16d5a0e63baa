/* Unit tests for drive/store on the real local chunk store: store_put's
 * outcome runs on the completion thread, after store_put returned, also
 * when the backend reports at once; store_sweep removes due deletions of
 * its backend only, in batches, and retries failures with exponential
 * backoff capped at an hour; store_reclaim_staged turns only old staged
 * records into deletions; and the server's sweeper thread reclaims what a
 * dead process left staged and removes it without being asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include "drive/garbage.h"
#include "drive/store.h"
#include "util/timefmt.h"
#include "testdrive.h"

#define CHUNK 65536u
#define HOUR_MS (60 * 60 * 1000LL)

static int setup(void **state)
{
  return testdrive_start("store", CHUNK, false);
}

static int teardown(void **state)
{
  testdrive_stop();
  return 0;
}

/* ---- store_put and its callback ---- */

/* Held by the test around store_put: a callback run inside store_put on the
 * caller's thread would find it locked by itself (EDEADLK); one on another
 * thread waits until store_put has returned. */
static pthread_mutex_t gate;
static bool put_returned;

struct put_res {
  struct store_op op;   /* alive until the callback ran */
  struct waiter w;
  int rc;
  char locator[BLOB_LOCATOR_MAX];
  pthread_t thread;
  bool inline_call;     /* ran inside store_put, on the caller's thread */
  bool after_return;    /* ran once store_put had returned */
  int calls;
};

static void put_cb(void *arg, int rc, const char *locator)
{
  struct put_res *r = arg;
  int lrc = pthread_mutex_lock(&gate);
  if(lrc == EDEADLK)
    r->inline_call = true;
  else {
    r->after_return = put_returned;
    pthread_mutex_unlock(&gate);
  }
  r->thread = pthread_self();
  r->rc = rc;
  snprintf(r->locator, sizeof(r->locator), "%s", locator ? locator : "");
  r->calls++;
  waiter_wake(&r->w);
}

static void gate_init(void)
{
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&gate, &a);
  pthread_mutexattr_destroy(&a);
}

/* store_put of `spool` (declared `size` bytes) with the gate held. */
static int put_gated(struct put_res *r, const char *spool, uint64_t size)
{
  pthread_mutex_lock(&gate);
  put_returned = false;
  int rc = store_put(&r->op, spool, size, "xxh128:00", put_cb, r);
  put_returned = true;
  pthread_mutex_unlock(&gate);
  return rc;
}

/* A spool file of `n` bytes from `seed`. */
static void spool(char path[BLOB_PATH_MAX], size_t n, unsigned seed)
{
  char buf[4096];
  assert_true(n <= sizeof(buf));
  fill(buf, n, seed);
  int fd = blob_spool_create(store_blob(), path, BLOB_PATH_MAX);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, buf, n), (ssize_t)n);
  close(fd);
}

/* Stores `n` bytes as a chunk through store_put; its locator in `loc`. */
static void put_chunk(size_t n, unsigned seed, char loc[BLOB_LOCATOR_MAX])
{
  char path[BLOB_PATH_MAX];
  struct put_res r = {.w = WAITER_INIT};
  spool(path, n, seed);
  assert_int_equal(put_gated(&r, path, n), BLOB_OK);
  assert_true(waiter_wait(&r.w));
  assert_int_equal(r.rc, BLOB_OK);
  assert_true(chunk_exists(r.locator));
  snprintf(loc, BLOB_LOCATOR_MAX, "%s", r.locator);
}

static void test_put_callback_thread(void **state)
{
  char path[BLOB_PATH_MAX], file[256], buf[2000], want[2000];
  gate_init();
  struct put_res ok = {.w = WAITER_INIT}, bad = {.w = WAITER_INIT}, now = {.w = WAITER_INIT};

  /* A good chunk: moved out of the spool, durable, on another thread. */
  spool(path, sizeof(want), 1);
  fill(want, sizeof(want), 1);
  assert_int_equal(put_gated(&ok, path, sizeof(want)), BLOB_OK);
  assert_true(waiter_wait(&ok.w));
  assert_int_equal(ok.calls, 1);
  assert_false(ok.inline_call);
  assert_true(ok.after_return);
  assert_false(pthread_equal(ok.thread, pthread_self()));
  assert_int_equal(ok.rc, BLOB_OK);
  assert_int_equal(access(path, F_OK), -1);
  chunk_path(ok.locator, file, sizeof(file));
  FILE *f = fopen(file, "rb");
  assert_non_null(f);
  assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(want));
  fclose(f);
  assert_memory_equal(buf, want, sizeof(want));

  /* A spool file shorter than announced fails, on the same thread. */
  spool(path, 100, 2);
  assert_int_equal(put_gated(&bad, path, 101), BLOB_OK);
  assert_true(waiter_wait(&bad.w));
  assert_int_equal(bad.rc, BLOB_ERR);
  assert_string_equal(bad.locator, "");
  assert_false(bad.inline_call);
  assert_true(bad.after_return);
  assert_true(pthread_equal(bad.thread, ok.thread));
  assert_int_equal(access(path, F_OK), -1);   /* consumed whatever the outcome */

  /* A path the writer queue cannot take: the local store reports inside
   * blob_put, and store_put still defers the callback to its thread. */
  char *longp = malloc(BLOB_PATH_MAX + 16);
  assert_non_null(longp);
  memset(longp, 'x', BLOB_PATH_MAX + 15);
  longp[0] = '/';
  longp[BLOB_PATH_MAX + 15] = '\0';
  assert_int_equal(put_gated(&now, longp, 1), BLOB_OK);
  assert_true(waiter_wait(&now.w));
  assert_int_equal(now.rc, BLOB_ERR);
  assert_false(now.inline_call);
  assert_true(now.after_return);
  assert_true(pthread_equal(now.thread, ok.thread));
  free(longp);
  assert_int_equal(spool_files(), 0);
  assert_int_equal(chunk_files(), 1);
  pthread_mutex_destroy(&gate);
}

/* ---- the sweep ---- */

static int64_t attempts_of(const char *locator)
{
  return q_int("SELECT attempts FROM pending_deletes WHERE locator = $1", locator);
}

static int64_t next_of(const char *locator)
{
  return q_int("SELECT next_attempt_at FROM pending_deletes WHERE locator = $1", locator);
}

static void make_due(const char *locator)
{
  assert_int_equal(db_exec(db_get(), "UPDATE pending_deletes SET next_attempt_at = 0 "
                                     "WHERE locator = $1", "t", locator), DB_OK);
}

static void test_sweep_removes_due(void **state)
{
  char a[BLOB_LOCATOR_MAX], b[BLOB_LOCATOR_MAX], keep[BLOB_LOCATOR_MAX];
  char staged[BLOB_LOCATOR_MAX], staged_id[ID_LEN + 1], ghost[ID_LEN + 4], id[ID_LEN + 1];
  gate_init();
  db_t *db = db_get();
  put_chunk(100, 1, a);
  put_chunk(200, 2, b);
  put_chunk(300, 3, keep);
  put_chunk(400, 4, staged);
  id_new(id);
  snprintf(ghost, sizeof(ghost), "%.2s/%s", id, id);   /* well formed, never stored */
  assert_int_equal(garbage_record_delete(db, "local", a), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "local", b), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "local", ghost), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "telegram", keep), DRIVE_OK);   /* not ours */
  assert_int_equal(garbage_record_staged(db, "local", staged, staged_id), DRIVE_OK);
  assert_int_equal(garbage_pending_count(db), 4);

  /* Removed, and a chunk already gone counts as removed. */
  assert_int_equal(store_sweep(db, 64), 3);
  assert_false(chunk_exists(a));
  assert_false(chunk_exists(b));
  assert_true(chunk_exists(keep));
  assert_true(chunk_exists(staged));
  assert_int_equal(rows("pending_deletes"), 2);
  assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE backend = 'telegram' "
                         "AND attempts = 0 AND locator = $1", keep), 1);
  assert_int_equal(garbage_in("staged"), 1);
  assert_int_equal(store_sweep(db, 64), 0);

  /* Batches: at most max_items a call. */
  assert_int_equal(garbage_release(db, staged_id), DRIVE_OK);
  put_chunk(500, 5, a);
  put_chunk(600, 6, b);
  assert_int_equal(garbage_record_delete(db, "local", a), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "local", b), DRIVE_OK);
  assert_int_equal(store_sweep(db, 2), 2);
  assert_int_equal(garbage_in("delete"), 2);   /* one local left, the telegram one */
  assert_int_equal(store_sweep(db, 2), 1);
  assert_int_equal(chunk_files(), 1);          /* `keep` */
  pthread_mutex_destroy(&gate);
}

static void test_sweep_retries_with_backoff(void **state)
{
  char id[ID_LEN + 1], stuck[ID_LEN + 4], dir[256], inner[300];
  db_t *db = db_get();
  /* A chunk path the store cannot unlink (a directory with a file in it),
   * and a locator the local store refuses outright. */
  id_new(id);
  snprintf(stuck, sizeof(stuck), "%.2s/%s", id, id);
  snprintf(dir, sizeof(dir), "%s/chunks/%.2s", testdrive_dir, id);
  assert_int_equal(mkdir(dir, 0700), 0);
  chunk_path(stuck, dir, sizeof(dir));
  assert_int_equal(mkdir(dir, 0700), 0);
  snprintf(inner, sizeof(inner), "%s/in", dir);
  FILE *f = fopen(inner, "w");
  assert_non_null(f);
  fclose(f);
  const char *bad = "zz/not-a-locator";
  assert_int_equal(garbage_record_delete(db, "local", stuck), DRIVE_OK);
  assert_int_equal(garbage_record_delete(db, "local", bad), DRIVE_OK);

  int64_t t0 = time_now_ms();
  assert_int_equal(store_sweep(db, 64), 0);
  int64_t t1 = time_now_ms();
  const char *locs[2] = {stuck, bad};
  for(int i = 0; i < 2; i++) {
    assert_int_equal(attempts_of(locs[i]), 1);
    assert_in_range(next_of(locs[i]), t0 + 1000, t1 + 1000);
    assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE locator = $1 AND "
                           "last_error = 'delete failed' AND state = 'delete'", locs[i]), 1);
  }
  /* Not due yet: left alone. */
  assert_int_equal(store_sweep(db, 64), 0);
  assert_int_equal(attempts_of(stuck), 1);

  /* Due again: the delay doubles. */
  make_due(stuck);
  t0 = time_now_ms();
  assert_int_equal(store_sweep(db, 64), 0);
  t1 = time_now_ms();
  assert_int_equal(attempts_of(stuck), 2);
  assert_in_range(next_of(stuck), t0 + 2000, t1 + 2000);
  assert_int_equal(attempts_of(bad), 1);   /* was not due */
  make_due(stuck);
  t0 = time_now_ms();
  assert_int_equal(store_sweep(db, 64), 0);
  t1 = time_now_ms();
  assert_in_range(next_of(stuck), t0 + 4000, t1 + 4000);

  /* Many failures: capped at an hour. */
  assert_int_equal(db_exec(db, "UPDATE pending_deletes SET attempts = 40, next_attempt_at = 0 "
                               "WHERE locator = $1", "t", stuck), DB_OK);
  t0 = time_now_ms();
  assert_int_equal(store_sweep(db, 64), 0);
  t1 = time_now_ms();
  assert_int_equal(attempts_of(stuck), 41);
  assert_in_range(next_of(stuck), t0 + HOUR_MS, t1 + HOUR_MS);

  /* Once the obstacle is gone the next attempt succeeds. */
  assert_int_equal(unlink(inner), 0);
  assert_int_equal(rmdir(dir), 0);
  make_due(stuck);
  assert_int_equal(store_sweep(db, 64), 1);
  assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE locator = $1", stuck), 0);
  assert_int_equal(rows("pending_deletes"), 1);   /* `bad` waits for its turn */
}

static void test_reclaim_staged(void **state)
{
  char old1[BLOB_LOCATOR_MAX], old2[BLOB_LOCATOR_MAX], young[BLOB_LOCATOR_MAX];
  char id1[ID_LEN + 1], id2[ID_LEN + 1], id3[ID_LEN + 1];
  gate_init();
  db_t *db = db_get();
  put_chunk(10, 1, old1);
  put_chunk(20, 2, old2);
  put_chunk(30, 3, young);
  assert_int_equal(garbage_record_staged(db, "local", old1, id1), DRIVE_OK);
  assert_int_equal(garbage_record_staged(db, "local", old2, id2), DRIVE_OK);
  assert_int_equal(garbage_record_staged(db, "local", young, id3), DRIVE_OK);
  int64_t now = time_now_ms();
  assert_int_equal(db_exec(db, "UPDATE pending_deletes SET created_at = $1 WHERE id IN ($2, $3)",
                           "itt", now - 2 * HOUR_MS, id1, id2), DB_OK);
  /* Staged chunks are never swept. */
  assert_int_equal(store_sweep(db, 64), 0);
  assert_int_equal(chunk_files(), 3);

  assert_int_equal(store_reclaim_staged(now - HOUR_MS, false), DRIVE_OK);
  assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE state = 'delete' AND "
                         "id IN ($1)", id1), 1);
  assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE state = 'delete' AND "
                         "id IN ($1)", id2), 1);
  assert_int_equal(q_int("SELECT COUNT(*) FROM pending_deletes WHERE state = 'staged' AND "
                         "id IN ($1)", id3), 1);
  assert_int_equal(store_sweep(db, 64), 2);
  assert_false(chunk_exists(old1));
  assert_false(chunk_exists(old2));
  assert_true(chunk_exists(young));
  assert_int_equal(garbage_in("staged"), 1);
  /* Nothing old is left: a second reclaim changes nothing. */
  assert_int_equal(store_reclaim_staged(now - HOUR_MS, false), DRIVE_OK);
  assert_int_equal(garbage_in("staged"), 1);
  assert_int_equal(garbage_in("delete"), 0);
  pthread_mutex_destroy(&gate);
}

/* ---- the server: reclaim at start, the sweeper thread ---- */

static int setup_server(void **state)
{
  /* A previous process stored a chunk and died before its commit. */
  char id[ID_LEN + 1], loc[ID_LEN + 4], dir[128], path[256];
  if(testdrive_open("store-srv") != 0)
    return -1;
  id_new(id);
  snprintf(loc, sizeof(loc), "%.2s/%s", id, id);
  snprintf(dir, sizeof(dir), "%s/chunks", testdrive_dir);
  mkdir(dir, 0700);
  snprintf(dir, sizeof(dir), "%s/chunks/%.2s", testdrive_dir, id);
  mkdir(dir, 0700);
  chunk_path(loc, path, sizeof(path));
  FILE *f = fopen(path, "w");
  if(!f || fputs("left over", f) < 0 || fclose(f) != 0)
    return -1;
  if(db_exec(db_get(), "INSERT INTO pending_deletes (id, backend, locator, state, "
                       "next_attempt_at, created_at) VALUES ($1, 'local', $2, 'staged', 0, 0)",
             "tt", id, loc) != DB_OK)
    return -1;
  return testdrive_init(CHUNK, true);
}

static void test_sweeper_thread(void **state)
{
  char loc[BLOB_LOCATOR_MAX];
  /* Reclaimed at start, removed by the sweeper on its own (on its first
   * round, or at the latest after its 5 s interval). */
  EVENTUALLY_MS(rows("pending_deletes") == 0, 10000);
  assert_int_equal(chunk_files(), 0);

  /* A new deletion goes as soon as the sweeper is kicked. */
  gate_init();
  put_chunk(50, 1, loc);
  assert_int_equal(garbage_record_delete(db_get(), "local", loc), DRIVE_OK);
  int64_t t0 = time_now_ms();
  store_kick();
  EVENTUALLY(!chunk_exists(loc) && rows("pending_deletes") == 0);
  assert_true(time_now_ms() - t0 < 4000);   /* the kick, not the 5 s interval */
  pthread_mutex_destroy(&gate);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_put_callback_thread, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sweep_removes_due, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sweep_retries_with_backoff, setup, teardown),
    cmocka_unit_test_setup_teardown(test_reclaim_staged, setup, teardown),
    cmocka_unit_test_setup_teardown(test_sweeper_thread, setup_server, teardown),
  };
  if(getenv("TEST_FILTER"))
    cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
