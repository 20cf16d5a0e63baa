/* Unit tests for telegram/tg_pace (token bucket, rolling minute, 429 block),
 * telegram/tg_retry's backoff and telegram/tg_fpcache (file_path TTL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "telegram/tg_fpcache.h"
#include "telegram/tg_pace.h"
#include "telegram/tg_retry.h"

#define T0 5000000 /* an arbitrary monotonic origin, ms */

/* Sends as fast as the pace allows from `start`, each landing at once;
 * returns the send times. */
static int run(struct tg_pace *p, int64_t start, int n, int64_t *at)
{
  int64_t now = start;
  for(int i = 0; i < n; i++) {
    int64_t d = tg_pace_delay(p, now);
    now += d;
    assert_int_equal(tg_pace_delay(p, now), 0);
    tg_pace_take(p, now);
    tg_pace_land(p, now, true);
    at[i] = now;
  }
  return n;
}

static void test_bucket_burst_then_rate(void **state)
{
  struct tg_pace p;
  int64_t at[10];
  tg_pace_init(&p, 1.0, 3, 0, T0);
  run(&p, T0, 6, at);
  /* a burst of 3 at once, then one a second */
  assert_int_equal(at[0], T0);
  assert_int_equal(at[2], T0);
  assert_int_equal(at[3], T0 + 1000);
  assert_int_equal(at[4], T0 + 2000);
  assert_int_equal(at[5], T0 + 3000);
  /* idle time refills up to the burst, not beyond */
  assert_int_equal(tg_pace_delay(&p, T0 + 60000), 0);
  run(&p, T0 + 60000, 4, at);
  assert_int_equal(at[2], T0 + 60000);
  assert_int_equal(at[3], T0 + 61000);
}

static void test_fractional_rate(void **state)
{
  struct tg_pace p;
  int64_t at[4];
  tg_pace_init(&p, 0.9, 1, 0, T0);
  run(&p, T0, 3, at);
  assert_int_equal(at[1], T0 + 1112); /* ceil(1000 / 0.9) */
  assert_true(at[2] - at[1] >= 1111 && at[2] - at[1] <= 1112);
}

static void test_minute_window(void **state)
{
  struct tg_pace p;
  int64_t at[25];
  tg_pace_init(&p, 0, 1, 20, T0); /* window only */
  run(&p, T0, 25, at);
  assert_int_equal(at[19], T0);
  /* the 21st waits until the first leaves the window */
  assert_int_equal(at[20], T0 + TG_PACE_WINDOW_MS);
  assert_int_equal(at[24], T0 + TG_PACE_WINDOW_MS);
  /* bucket and window together: 1/s bursts of 3, 20 a minute */
  tg_pace_init(&p, 1.0, 3, 20, T0);
  run(&p, T0, 22, at);
  assert_int_equal(at[19], T0 + 17000);
  assert_int_equal(at[20], T0 + TG_PACE_WINDOW_MS);
  assert_int_equal(at[21], T0 + TG_PACE_WINDOW_MS); /* the bucket had refilled meanwhile */
  /* over 10 minutes never more than 20 in any window */
  tg_pace_init(&p, 1.0, 3, 20, T0);
  int64_t many[200];
  run(&p, T0, 200, many);
  for(int i = 20; i < 200; i++)
    assert_true(many[i] - many[i - 20] >= TG_PACE_WINDOW_MS);
}

/* Sends charge when they land; in flight they count as charged. */
static void test_charged_on_landing(void **state)
{
  struct tg_pace p;
  tg_pace_init(&p, 1.0, 3, 0, T0);
  /* a burst of three in flight at once, then nothing until they land */
  for(int i = 0; i < 3; i++) {
    assert_int_equal(tg_pace_delay(&p, T0), 0);
    tg_pace_take(&p, T0);
  }
  assert_int_equal(tg_pace_delay(&p, T0), 1000);
  /* Two seconds later the bucket is still full (nothing charged yet) but
   * all three are in flight: still no. */
  assert_true(tg_pace_delay(&p, T0 + 2000) > 0);
  /* They arrive together at +2 s: the fourth goes a second after that,
   * not at +1 s as charging at send time would allow. */
  for(int i = 0; i < 3; i++)
    tg_pace_land(&p, T0 + 2000, true);
  assert_int_equal(tg_pace_delay(&p, T0 + 2000), 1000);
  assert_int_equal(tg_pace_delay(&p, T0 + 3000), 0);
  /* a send that never arrived gives its charge back */
  tg_pace_take(&p, T0 + 3000);
  assert_true(tg_pace_delay(&p, T0 + 3000) > 0);
  tg_pace_land(&p, T0 + 3000, false);
  assert_int_equal(tg_pace_delay(&p, T0 + 3000), 0);
  /* the window counts sends in flight too */
  tg_pace_init(&p, 0, 1, 2, T0);
  tg_pace_take(&p, T0);
  tg_pace_take(&p, T0);
  assert_int_equal(tg_pace_delay(&p, T0 + 5000), 1000); /* unknown: look again */
  tg_pace_land(&p, T0 + 5000, true);
  tg_pace_land(&p, T0 + 6000, true);
  assert_int_equal(tg_pace_delay(&p, T0 + 6000), TG_PACE_WINDOW_MS - 1000);
  assert_int_equal(tg_pace_delay(&p, T0 + 5000 + TG_PACE_WINDOW_MS), 0);
}

static void test_block_after_429(void **state)
{
  struct tg_pace p;
  tg_pace_init(&p, 1.0, 3, 20, T0);
  tg_pace_block(&p, T0 + 7000);
  assert_int_equal(tg_pace_delay(&p, T0), 7000);
  assert_int_equal(tg_pace_delay(&p, T0 + 6999), 1);
  assert_int_equal(tg_pace_delay(&p, T0 + 7000), 0);
  tg_pace_block(&p, T0 + 3000); /* an earlier block never shortens a later one */
  assert_int_equal(tg_pace_delay(&p, T0 + 1000), 6000);
  /* a pace without limits waits only for blocks */
  tg_pace_init(&p, 0, 0, 0, T0);
  for(int i = 0; i < 1000; i++)
    tg_pace_take(&p, T0);
  assert_int_equal(tg_pace_delay(&p, T0), 0);
  tg_pace_block(&p, T0 + 5);
  assert_int_equal(tg_pace_delay(&p, T0), 5);
  /* per_min above the table size is clamped */
  tg_pace_init(&p, 0, 0, 1000, T0);
  assert_int_equal(p.per_min, TG_PACE_WINDOW_MAX);
}

static void test_backoff(void **state)
{
  for(uint32_t rnd = 0; rnd < 5000; rnd += 7) {
    int64_t d1 = tg_backoff_ms(1, rnd);
    assert_true(d1 >= TG_BACKOFF_BASE_MS / 2 && d1 <= TG_BACKOFF_BASE_MS);
    int64_t d3 = tg_backoff_ms(3, rnd);
    assert_true(d3 >= 2 * TG_BACKOFF_BASE_MS && d3 <= 4 * TG_BACKOFF_BASE_MS);
    int64_t dmax = tg_backoff_ms(50, rnd);
    assert_true(dmax >= TG_BACKOFF_CAP_MS / 2 && dmax <= TG_BACKOFF_CAP_MS);
  }
  assert_int_equal(tg_backoff_ms(1000000, UINT32_MAX) <= TG_BACKOFF_CAP_MS, 1);
  /* jitter spreads */
  uint64_t st = 1;
  int64_t lo = INT64_MAX, hi = 0;
  for(int i = 0; i < 1000; i++) {
    int64_t d = tg_backoff_ms(4, tg_rand(&st));
    lo = d < lo ? d : lo;
    hi = d > hi ? d : hi;
  }
  assert_true(hi - lo > 1500);
  uint64_t zero = 0;
  assert_int_not_equal(tg_rand(&zero), tg_rand(&zero));
}

static void test_fpcache(void **state)
{
  static struct tg_fpcache c;
  memset(&c, 0, sizeof(c));
  assert_null(tg_fpcache_get(&c, "FILE1", T0));
  assert_int_equal(tg_fpcache_put(&c, "FILE1", "documents/file_1.bin", T0), 0);
  assert_string_equal(tg_fpcache_get(&c, "FILE1", T0 + 1000), "documents/file_1.bin");
  /* under an hour, then gone */
  assert_non_null(tg_fpcache_get(&c, "FILE1", T0 + TG_FPCACHE_TTL_MS - 1));
  assert_true(TG_FPCACHE_TTL_MS < 60 * 60 * 1000);
  assert_null(tg_fpcache_get(&c, "FILE1", T0 + TG_FPCACHE_TTL_MS));
  assert_null(tg_fpcache_get(&c, "FILE1", T0));
  /* replace, drop, other ids */
  tg_fpcache_put(&c, "FILE1", "a", T0);
  tg_fpcache_put(&c, "FILE1", "b", T0);
  assert_string_equal(tg_fpcache_get(&c, "FILE1", T0), "b");
  assert_null(tg_fpcache_get(&c, "FILE2", T0));
  tg_fpcache_drop(&c, "FILE2");
  assert_non_null(tg_fpcache_get(&c, "FILE1", T0));
  tg_fpcache_drop(&c, "FILE1");
  assert_null(tg_fpcache_get(&c, "FILE1", T0));
  /* many ids: bounded, each answer is right or absent */
  char id[32], path[32];
  for(int i = 0; i < 5000; i++) {
    snprintf(id, sizeof(id), "id%d", i);
    snprintf(path, sizeof(path), "p%d", i);
    tg_fpcache_put(&c, id, path, T0);
  }
  int hits = 0;
  for(int i = 0; i < 5000; i++) {
    snprintf(id, sizeof(id), "id%d", i);
    snprintf(path, sizeof(path), "p%d", i);
    const char *got = tg_fpcache_get(&c, id, T0);
    if(got) {
      assert_string_equal(got, path);
      hits++;
    }
  }
  assert_true(hits > 0 && hits <= TG_FPCACHE_SLOTS);
  tg_fpcache_clear(&c);
  assert_null(tg_fpcache_get(&c, "id4999", T0));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bucket_burst_then_rate),
    cmocka_unit_test(test_fractional_rate),
    cmocka_unit_test(test_minute_window),
    cmocka_unit_test(test_charged_on_landing),
    cmocka_unit_test(test_block_after_429),
    cmocka_unit_test(test_backoff),
    cmocka_unit_test(test_fpcache),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
