/* Unit tests for drive/throttle: lock after N failures in a window, the
 * Retry-After arithmetic, clearing, eviction when full, and thread safety. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "drive/throttle.h"

#define T0 1000000 /* an arbitrary clock origin, ms */

static void test_rejects_bad_arguments(void **state)
{
  assert_null(throttle_new(0, 60, 8));
  assert_null(throttle_new(3, 0, 8));
  assert_null(throttle_new(3, 60, 0));
  throttle_free(NULL);
}

static void test_locks_at_max_failures(void **state)
{
  throttle_t *t = throttle_new(3, 60, 16);
  assert_non_null(t);
  assert_int_equal(throttle_check(t, "a", T0), 0);
  assert_int_equal(throttle_fail(t, "a", T0), 0);
  assert_int_equal(throttle_fail(t, "a", T0 + 1000), 0);
  assert_int_equal(throttle_check(t, "a", T0 + 1000), 0);
  /* The third failure locks until the window that began at T0 ends. */
  assert_int_equal(throttle_fail(t, "a", T0 + 2000), 58);
  assert_int_equal(throttle_check(t, "a", T0 + 2000), 58);
  /* Retry-After rounds up and reaches 0 exactly when the window passes. */
  assert_int_equal(throttle_check(t, "a", T0 + 59001), 1);
  assert_int_equal(throttle_check(t, "a", T0 + 59999), 1);
  assert_int_equal(throttle_check(t, "a", T0 + 60000), 0);
  throttle_free(t);
}

static void test_window_restarts_after_expiry(void **state)
{
  throttle_t *t = throttle_new(2, 10, 16);
  throttle_fail(t, "k", T0);
  /* A failure after the window is the first of a new window. */
  assert_int_equal(throttle_fail(t, "k", T0 + 10000), 0);
  assert_int_equal(throttle_check(t, "k", T0 + 10000), 0);
  assert_int_equal(throttle_fail(t, "k", T0 + 15000), 5);
  assert_int_equal(throttle_check(t, "k", T0 + 19999), 1);
  assert_int_equal(throttle_check(t, "k", T0 + 20000), 0);
  throttle_free(t);
}

static void test_max_one_locks_at_once(void **state)
{
  throttle_t *t = throttle_new(1, 5, 4);
  assert_int_equal(throttle_fail(t, "k", T0), 5);
  assert_int_equal(throttle_check(t, "k", T0 + 4500), 1);
  throttle_free(t);
}

static void test_keys_are_independent(void **state)
{
  throttle_t *t = throttle_new(2, 60, 16);
  throttle_fail(t, "user:a", T0);
  throttle_fail(t, "user:a", T0);
  assert_true(throttle_check(t, "user:a", T0) > 0);
  assert_int_equal(throttle_check(t, "user:b", T0), 0);
  assert_int_equal(throttle_check(t, "user:", T0), 0);
  assert_int_equal(throttle_check(t, "user:aa", T0), 0);
  throttle_free(t);
}

static void test_clear_forgets_key(void **state)
{
  throttle_t *t = throttle_new(2, 60, 16);
  throttle_fail(t, "a", T0);
  throttle_fail(t, "a", T0);
  throttle_fail(t, "b", T0);
  assert_int_equal(throttle_size(t), 2);
  throttle_clear(t, "a");
  assert_int_equal(throttle_check(t, "a", T0), 0);
  assert_int_equal(throttle_size(t), 1);
  throttle_clear(t, "missing");
  assert_int_equal(throttle_size(t), 1);
  /* A cleared key starts from zero. */
  assert_int_equal(throttle_fail(t, "a", T0), 0);
  throttle_free(t);
}

static void test_bounded_evicts_expired_first(void **state)
{
  throttle_t *t = throttle_new(1, 10, 2);
  throttle_fail(t, "old", T0);          /* locked, expires at T0+10s */
  throttle_fail(t, "new", T0 + 8000);   /* locked until T0+18s */
  throttle_fail(t, "third", T0 + 12000);
  assert_int_equal(throttle_size(t), 2);
  /* "old" had expired and made room; "new" is still locked. */
  assert_true(throttle_check(t, "new", T0 + 12000) > 0);
  assert_true(throttle_check(t, "third", T0 + 12000) > 0);
  throttle_free(t);
}

static void test_bounded_evicts_unlocked_before_locked(void **state)
{
  throttle_t *t = throttle_new(2, 60, 2);
  throttle_fail(t, "locked", T0);
  throttle_fail(t, "locked", T0);       /* locked */
  throttle_fail(t, "one", T0 + 1000);   /* 1 failure, unlocked */
  throttle_fail(t, "flood", T0 + 2000); /* table full: "one" goes */
  assert_int_equal(throttle_size(t), 2);
  assert_true(throttle_check(t, "locked", T0 + 2000) > 0);
  /* "one" was forgotten: one more failure does not lock it. */
  throttle_clear(t, "flood");
  assert_int_equal(throttle_fail(t, "one", T0 + 3000), 0);
  throttle_free(t);
}

static void test_bounded_all_locked_evicts_oldest(void **state)
{
  throttle_t *t = throttle_new(1, 60, 2);
  throttle_fail(t, "a", T0);
  throttle_fail(t, "b", T0 + 1000);
  throttle_fail(t, "c", T0 + 2000);
  assert_int_equal(throttle_size(t), 2);
  assert_int_equal(throttle_check(t, "a", T0 + 2000), 0);
  assert_true(throttle_check(t, "b", T0 + 2000) > 0);
  assert_true(throttle_check(t, "c", T0 + 2000) > 0);
  throttle_free(t);
}

static void test_long_keys_are_truncated(void **state)
{
  char k1[THROTTLE_KEY_MAX + 20], k2[THROTTLE_KEY_MAX + 20];
  memset(k1, 'x', sizeof(k1) - 1);
  k1[sizeof(k1) - 1] = 0;
  memcpy(k2, k1, sizeof(k2));
  k2[THROTTLE_KEY_MAX + 5] = 'y';
  throttle_t *t = throttle_new(1, 60, 4);
  throttle_fail(t, k1, T0);
  assert_true(throttle_check(t, k2, T0) > 0);
  assert_int_equal(throttle_size(t), 1);
  throttle_free(t);
}

struct hammer {
  throttle_t *t;
  int id;
};

static void *hammer_run(void *arg)
{
  struct hammer *h = arg;
  char key[32];
  for(int i = 0; i < 2000; i++) {
    snprintf(key, sizeof(key), "k%d", (h->id * 7 + i) % 50);
    throttle_fail(h->t, key, T0 + i);
    throttle_check(h->t, "shared", T0 + i);
    throttle_fail(h->t, "shared", T0 + i);
    if(i % 100 == 0)
      throttle_clear(h->t, key);
  }
  return NULL;
}

/* A full table of the size users.c uses: every key is found, locked ones
 * stay, and a new key evicts the unlocked key with the oldest window. */
static void test_full_table_of_8192(void **state)
{
  throttle_t *t = throttle_new(2, 3600, 8192);
  char key[32];
  for(int k = 0; k < 8192; k++) {
    snprintf(key, sizeof(key), "key%d", k);
    assert_int_equal(throttle_fail(t, key, T0 + k), 0);
  }
  for(int k = 0; k < 100; k++) {   /* the 100 oldest get locked */
    snprintf(key, sizeof(key), "key%d", k);
    assert_true(throttle_fail(t, key, T0 + 8192) > 0);
  }
  assert_int_equal(throttle_size(t), 8192);
  assert_int_equal(throttle_fail(t, "new", T0 + 9000), 0);
  assert_int_equal(throttle_size(t), 8192);
  for(int k = 0; k < 100; k++) {
    snprintf(key, sizeof(key), "key%d", k);
    assert_true(throttle_check(t, key, T0 + 9000) > 0);
  }
  /* key100 (oldest unlocked) went: its next failure is a first one again;
   * key101 is still there: its second failure locks it. */
  assert_int_equal(throttle_fail(t, "key100", T0 + 9001), 0);   /* evicts key101 */
  assert_int_equal(throttle_fail(t, "key102", T0 + 9002), 3592);
  throttle_free(t);
}

/* A cleared slot is reused before anything is evicted. */
static void test_cleared_slot_is_reused(void **state)
{
  throttle_t *t = throttle_new(1, 60, 4);
  throttle_fail(t, "a", T0);
  throttle_fail(t, "b", T0 + 1);
  throttle_fail(t, "c", T0 + 2);
  throttle_fail(t, "d", T0 + 3);
  throttle_clear(t, "b");
  assert_int_equal(throttle_size(t), 3);
  throttle_fail(t, "e", T0 + 4);
  assert_int_equal(throttle_size(t), 4);
  assert_true(throttle_check(t, "a", T0 + 5) > 0);
  assert_int_equal(throttle_check(t, "b", T0 + 5), 0);
  throttle_free(t);
}

/* Lookups do not scan the table: a million checks against 8,192 keys take a
 * fraction of a second (a scan of every entry per check takes many). */
/* Seconds for `n` missing-key checks against a full table of `size` keys. */
static double time_checks(size_t size, int n)
{
  throttle_t *t = throttle_new(5, 3600, size);
  char key[32];
  for(size_t k = 0; k < size; k++) {
    snprintf(key, sizeof(key), "addr:10.0.%zu.%zu", k / 256, k % 256);
    throttle_fail(t, key, T0);
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  int found = 0;
  for(int i = 0; i < n; i++) {
    snprintf(key, sizeof(key), "addr:10.1.%d.%d", (i / 256) % 256, i % 256);   /* misses */
    found += throttle_check(t, key, T0 + 1) > 0;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  assert_int_equal(found, 0);
  throttle_free(t);
  return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

/* A check costs the same in a table of 8,192 keys as in one of 256: a scan
 * would be 32 times slower. A ratio, not a time, so a slow (sanitized or
 * busy) build passes as surely as a fast one; the best of three runs each
 * keeps a scheduling hiccup out. */
static void test_lookups_are_constant_time(void **state)
{
  double small = 1e9, big = 1e9;
  for(int r = 0; r < 3; r++) {
    double s = time_checks(256, 200000), g = time_checks(8192, 200000);
    small = s < small ? s : small;
    big = g < big ? g : big;
  }
  assert_true(big < small * 4.0);
}

static void test_threads(void **state)
{
  throttle_t *t = throttle_new(1000000, 3600, 32);
  pthread_t th[4];
  struct hammer h[4];
  for(int i = 0; i < 4; i++) {
    h[i] = (struct hammer){t, i};
    assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
  }
  for(int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  assert_true(throttle_size(t) <= 32);
  assert_int_equal(throttle_check(t, "shared", T0), 0); /* 8000 < 1e6 */
  throttle_free(t);

  /* Under contention the lock still lands on exactly the max-th failure. */
  t = throttle_new(8000, 3600, 64); /* room for all 51 keys */
  for(int i = 0; i < 4; i++) {
    h[i] = (struct hammer){t, i};
    assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
  }
  for(int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  assert_true(throttle_check(t, "shared", T0 + 5000) > 0);
  throttle_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rejects_bad_arguments),
    cmocka_unit_test(test_full_table_of_8192),
    cmocka_unit_test(test_cleared_slot_is_reused),
    cmocka_unit_test(test_lookups_are_constant_time),
    cmocka_unit_test(test_locks_at_max_failures),
    cmocka_unit_test(test_window_restarts_after_expiry),
    cmocka_unit_test(test_max_one_locks_at_once),
    cmocka_unit_test(test_keys_are_independent),
    cmocka_unit_test(test_clear_forgets_key),
    cmocka_unit_test(test_bounded_evicts_expired_first),
    cmocka_unit_test(test_bounded_evicts_unlocked_before_locked),
    cmocka_unit_test(test_bounded_all_locked_evicts_oldest),
    cmocka_unit_test(test_long_keys_are_truncated),
    cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
