/* Unit tests for blob/cache: progressive fills and waiters, Range-style
 * fills for reads far ahead, failures, LRU eviction under the size cap,
 * forgetting, and the index rebuilt from the directory after a restart. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "blob/cache.h"

struct fixture {
  char dir[64];
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  strcpy(f->dir, "/tmp/netra-cache-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

static int wakes;
static void on_wake(void *arg)
{
  (*(int *)arg)++;
}

static void fill_bytes(char *buf, size_t n, uint64_t off)
{
  for(size_t i = 0; i < n; i++)
    buf[i] = (char)((off + i) * 7 + 3);
}

static bool file_exists(const struct fixture *f, const char *name)
{
  char path[256];
  struct stat st;
  snprintf(path, sizeof(path), "%s/%s", f->dir, name);
  return stat(path, &st) == 0;
}

/* Writes [from, to) of the chunk's deterministic bytes into the fill. */
static void feed(struct cache *c, struct cache_fill *fl, uint64_t from, uint64_t to)
{
  char buf[4096];
  while(from < to) {
    size_t n = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
    fill_bytes(buf, n, from);
    size_t took = cache_fill_write(c, fl, from, buf, n);
    assert_int_equal(took, n);
    from += n;
  }
}

static void test_progressive_read(void **state)
{
  struct fixture *f = *state;
  char err[256], buf[8192], want[8192];
  struct cache *c = cache_open(f->dir, 1 << 20, err, sizeof(err));
  assert_non_null(c);
  struct cache_entry *e = cache_acquire(c, "CHUNKa", 10000);
  assert_non_null(e);
  assert_false(cache_entry_complete(c, e));
  struct cache_waiter w = {0};
  int woke = 0;
  cache_waiter_set(c, &w, on_wake, &woke);
  struct cache_fill *fl = NULL;
  assert_int_equal(cache_read(c, e, buf, 100, 0, &w, &fl), CACHE_AGAIN);
  assert_non_null(fl); /* nobody fetches yet: the caller must */
  assert_int_equal(cache_fill_pos(c, fl), 0);
  assert_int_equal(cache_fill_stop(c, fl), 10000);
  /* a second reader joins instead of starting another fill */
  struct cache_waiter w2 = {0};
  int woke2 = 0;
  struct cache_fill *fl2 = NULL;
  cache_waiter_set(c, &w2, on_wake, &woke2);
  assert_int_equal(cache_read(c, e, buf, 100, 5000, &w2, &fl2), CACHE_AGAIN);
  assert_null(fl2);
  feed(c, fl, 0, 3000);
  assert_int_equal(woke, 1); /* byte 0 arrived */
  assert_int_equal(woke2, 0);
  /* the part already there is readable: short reads up to the edge */
  assert_int_equal(cache_read(c, e, buf, 8192, 1000, &w, &fl2), 2000);
  fill_bytes(want, 2000, 1000);
  assert_memory_equal(buf, want, 2000);
  assert_int_equal(cache_read(c, e, buf, 10, 3000, &w, &fl2), CACHE_AGAIN);
  assert_null(fl2);
  feed(c, fl, 3000, 10000);
  assert_int_equal(woke, 2);
  assert_int_equal(woke2, 1);
  assert_true(cache_entry_complete(c, e));
  assert_true(file_exists(f, "CHUNKa"));
  assert_false(file_exists(f, "CHUNKa.part"));
  /* the fill has nothing left to take */
  assert_int_equal(cache_fill_write(c, fl, 10000, "x", 1), 0);
  cache_fill_end(c, fl, true);
  assert_int_equal(cache_read(c, e, buf, 100, 9950, &w, &fl2), 50);
  assert_int_equal(cache_read(c, e, buf, 100, 10000, &w, &fl2), 0);
  cache_unwait(c, &w);
  cache_unwait(c, &w2);
  cache_release(c, e);
  cache_close(c);
}

static void test_seek_starts_range_fill(void **state)
{
  struct fixture *f = *state;
  char err[256], buf[100], want[100];
  uint64_t size = 10 * CACHE_JOIN_BYTES;
  struct cache *c = cache_open(f->dir, 1ull << 30, err, sizeof(err));
  struct cache_entry *e = cache_acquire(c, "SEEK", size);
  /* read-ahead from 0 is running */
  struct cache_fill *head = cache_prefetch(c, e);
  assert_non_null(head);
  assert_null(cache_prefetch(c, e)); /* one is enough */
  struct cache_waiter near = {0}, far = {0};
  struct cache_fill *fl = NULL;
  /* a read just ahead of it waits for it */
  assert_int_equal(cache_read(c, e, buf, 10, 1000, &near, &fl), CACHE_AGAIN);
  assert_null(fl);
  /* a read far ahead starts its own fill there; the first stops at it */
  uint64_t seek = 5 * CACHE_JOIN_BYTES + 17;
  assert_int_equal(cache_read(c, e, buf, 10, seek, &far, &fl), CACHE_AGAIN);
  assert_non_null(fl);
  assert_int_equal(cache_fill_pos(c, fl), seek);
  assert_int_equal(cache_fill_stop(c, fl), size);
  assert_int_equal(cache_fill_stop(c, head), seek);
  feed(c, fl, seek, seek + 100);
  struct cache_fill *none;
  assert_int_equal(cache_read(c, e, buf, 100, seek, &far, &none), 100);
  assert_null(none);
  fill_bytes(want, 100, seek);
  assert_memory_equal(buf, want, 100);
  /* the head fill runs into the seek fill's bytes and stops there */
  feed(c, head, 0, seek);
  char one = 0;
  assert_int_equal(cache_fill_write(c, head, seek, &one, 1), 0);
  cache_fill_end(c, head, true);
  feed(c, fl, seek + 100, size);
  cache_fill_end(c, fl, true);
  assert_true(cache_entry_complete(c, e));
  cache_unwait(c, &near);
  cache_unwait(c, &far);
  cache_release(c, e);
  cache_close(c);
}

static void test_failed_fill(void **state)
{
  struct fixture *f = *state;
  char err[256], buf[10];
  struct cache *c = cache_open(f->dir, 1 << 20, err, sizeof(err));
  struct cache_entry *e = cache_acquire(c, "FAIL", 1000);
  struct cache_waiter w = {0};
  int woke = 0;
  cache_waiter_set(c, &w, on_wake, &woke);
  struct cache_fill *fl = NULL;
  assert_int_equal(cache_read(c, e, buf, 10, 500, &w, &fl), CACHE_AGAIN);
  feed(c, fl, 500, 600);
  assert_int_equal(woke, 1);
  struct cache_fill *none;
  assert_int_equal(cache_read(c, e, buf, 10, 600, &w, &none), CACHE_AGAIN);
  assert_null(none); /* waits for the running fill */
  cache_fill_end(c, fl, false);
  assert_int_equal(woke, 2);
  /* reported once... */
  assert_int_equal(cache_read(c, e, buf, 10, 600, &w, &fl), CACHE_ERR);
  /* ...what arrived stays readable, and a new read starts a new fill */
  assert_int_equal(cache_read(c, e, buf, 10, 590, &w, &fl), 10);
  assert_int_equal(cache_read(c, e, buf, 10, 600, &w, &fl), CACHE_AGAIN);
  assert_non_null(fl);
  assert_int_equal(cache_fill_stop(c, fl), 1000);
  cache_unwait(c, &w);
  cache_fill_end(c, fl, false);
  assert_int_equal(woke, 2); /* unwaited: no wake */
  cache_release(c, e);
  cache_close(c);
  assert_false(file_exists(f, "FAIL.part")); /* partial files do not outlive the cache */
}

/* A complete entry of `size` bytes under `key`. */
static void make_entry(struct cache *c, const char *key, uint64_t size)
{
  struct cache_entry *e = cache_acquire(c, key, size);
  assert_non_null(e);
  struct cache_fill *fl = cache_prefetch(c, e);
  assert_non_null(fl);
  feed(c, fl, 0, size);
  cache_fill_end(c, fl, true);
  assert_true(cache_entry_complete(c, e));
  cache_release(c, e);
}

static void test_lru_eviction(void **state)
{
  struct fixture *f = *state;
  char err[256];
  uint64_t bytes;
  size_t n;
  struct cache *c = cache_open(f->dir, 3000, err, sizeof(err));
  make_entry(c, "A", 1000);
  make_entry(c, "B", 1000);
  make_entry(c, "C", 1000);
  cache_stats(c, &bytes, &n);
  assert_int_equal(bytes, 3000);
  assert_int_equal(n, 3);
  /* touch A: B is now the least recently used */
  struct cache_entry *a = cache_acquire(c, "A", 1000);
  assert_true(cache_entry_complete(c, a));
  make_entry(c, "D", 1000);
  assert_false(file_exists(f, "B"));
  assert_true(file_exists(f, "A") && file_exists(f, "C") && file_exists(f, "D"));
  /* an entry in use is never evicted, even when it is the oldest */
  make_entry(c, "E", 1000);
  make_entry(c, "F", 1000);
  assert_true(file_exists(f, "A"));
  assert_false(file_exists(f, "C") || file_exists(f, "D"));
  cache_release(c, a);
  cache_stats(c, &bytes, &n);
  assert_true(bytes <= 3000);
  /* a size mismatch replaces the stale entry */
  struct cache_entry *e = cache_acquire(c, "E", 999);
  assert_non_null(e);
  assert_false(cache_entry_complete(c, e));
  cache_release(c, e);
  /* forgetting in use: gone from the directory at once, readable until released */
  e = cache_acquire(c, "F", 1000);
  cache_forget(c, "F");
  assert_false(file_exists(f, "F"));
  char buf[10];
  struct cache_waiter w = {0};
  struct cache_fill *fl;
  assert_int_equal(cache_read(c, e, buf, 10, 0, &w, &fl), 10);
  struct cache_entry *fresh = cache_acquire(c, "F", 1000); /* a new, empty one */
  assert_false(cache_entry_complete(c, fresh));
  cache_release(c, fresh);
  cache_release(c, e);
  assert_null(cache_acquire(c, "bad/key", 10));
  assert_null(cache_acquire(c, "", 10));
  assert_null(cache_acquire(c, "ok", 0));
  cache_close(c);
}

static void test_zero_cap_keeps_nothing(void **state)
{
  struct fixture *f = *state;
  char err[256];
  uint64_t bytes;
  size_t n;
  struct cache *c = cache_open(f->dir, 0, err, sizeof(err));
  make_entry(c, "Z", 5000); /* still works while in use */
  cache_stats(c, &bytes, &n);
  assert_int_equal(bytes, 0);
  assert_int_equal(n, 0);
  assert_false(file_exists(f, "Z"));
  cache_close(c);
}

static void test_restart_rebuilds_index(void **state)
{
  struct fixture *f = *state;
  char err[256], path[256], buf[300], want[300];
  uint64_t bytes;
  size_t n;
  struct cache *c = cache_open(f->dir, 1 << 20, err, sizeof(err));
  make_entry(c, "OLD", 300);
  sleep(1); /* distinct mtimes for the LRU order */
  make_entry(c, "NEW", 300);
  /* a partial one that a crash would leave behind */
  struct cache_entry *p = cache_acquire(c, "HALF", 300);
  cache_release(c, p);
  cache_close(c);
  snprintf(path, sizeof(path), "%s/HALF.part", f->dir);
  close(open(path, O_CREAT | O_WRONLY, 0600));
  snprintf(path, sizeof(path), "%s/stray.tmp", f->dir);
  close(open(path, O_CREAT | O_WRONLY, 0600));

  c = cache_open(f->dir, 300, err, sizeof(err)); /* room for one: the newer stays */
  assert_non_null(c);
  assert_false(file_exists(f, "HALF.part") || file_exists(f, "stray.tmp"));
  assert_false(file_exists(f, "OLD"));
  cache_stats(c, &bytes, &n);
  assert_int_equal(n, 1);
  struct cache_entry *e = cache_acquire(c, "NEW", 300);
  assert_true(cache_entry_complete(c, e));
  struct cache_waiter w = {0};
  struct cache_fill *fl;
  assert_int_equal(cache_read(c, e, buf, 300, 0, &w, &fl), 300);
  assert_null(fl);
  fill_bytes(want, 300, 0);
  assert_memory_equal(buf, want, 300);
  cache_release(c, e);
  cache_close(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_progressive_read, setup, teardown),
    cmocka_unit_test_setup_teardown(test_seek_starts_range_fill, setup, teardown),
    cmocka_unit_test_setup_teardown(test_failed_fill, setup, teardown),
    cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
    cmocka_unit_test_setup_teardown(test_zero_cap_keeps_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_restart_rebuilds_index, setup, teardown),
  };
  (void)wakes;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
