/* Unit tests for the orphan sweep's pure parts: orphans_gaps (the numbers
 * of a series nothing recorded, between a watermark and a limit) and the
 * Telegram store's series hooks (blob_sequence and blob_gap_locator on a
 * hand-built state, no Bot API needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "blob/tgstore.h"
#include "drive/orphans.h"

static void test_gaps_between_known(void **state)
{
  (void)state;
  const int64_t known[] = {3, 4, 7, 7, 10};
  int64_t out[16];
  size_t n = orphans_gaps(known, 5, 0, 10, out, 16);
  const int64_t want[] = {1, 2, 5, 6, 8, 9};
  assert_int_equal(n, 6);
  assert_memory_equal(out, want, sizeof(want));
}

static void test_gaps_from_watermark(void **state)
{
  (void)state;
  const int64_t known[] = {3, 4, 7, 10};
  int64_t out[16];
  /* Numbers up to the watermark were dealt with before; `to` is inclusive. */
  size_t n = orphans_gaps(known, 4, 4, 7, out, 16);
  assert_int_equal(n, 2);
  assert_int_equal(out[0], 5);
  assert_int_equal(out[1], 6);
  assert_int_equal(orphans_gaps(known, 4, 10, 10, out, 16), 0);
  assert_int_equal(orphans_gaps(known, 4, 7, 7, out, 16), 0);
}

static void test_gaps_none_and_capped(void **state)
{
  (void)state;
  const int64_t dense[] = {1, 2, 3, 4, 5};
  int64_t out[4];
  assert_int_equal(orphans_gaps(dense, 5, 0, 5, out, 4), 0);
  /* Nothing known in range: every number, but never more than `max`. */
  assert_int_equal(orphans_gaps(NULL, 0, 100, 200, out, 4), 4);
  assert_int_equal(out[0], 101);
  assert_int_equal(out[3], 104);
  /* Known numbers beyond `to` do not matter. */
  const int64_t high[] = {50};
  assert_int_equal(orphans_gaps(high, 1, 0, 2, out, 4), 2);
}

static void test_telegram_series(void **state)
{
  (void)state;
  struct tgstore *b = calloc(1, sizeof(*b));
  assert_non_null(b);
  b->nchats = 1;
  b->chats[0].id = -1001000000001;
  char series[BLOB_SERIES_MAX], loc[BLOB_LOCATOR_MAX];
  int64_t seq = 0;
  assert_int_equal(tgstore_sequence(b, "tg1:111111:-1001000000001:42:AgAD1:BQAC2", series, &seq),
                   BLOB_OK);
  assert_string_equal(series, "-1001000000001");
  assert_int_equal(seq, 42);
  /* A gap locator belongs to its series too, and round-trips. */
  assert_int_equal(tgstore_gap_locator(b, series, 41, loc, sizeof(loc)), BLOB_OK);
  assert_string_equal(loc, "tg1gap:-1001000000001:41");
  assert_int_equal(tgstore_sequence(b, loc, series, &seq), BLOB_OK);
  assert_int_equal(seq, 41);
  /* A chat no longer configured, a local locator, junk: no series. */
  assert_int_equal(tgstore_sequence(b, "tg1:111111:-1009:42:AgAD1:BQAC2", series, &seq),
                   BLOB_ERR);
  assert_int_equal(tgstore_sequence(b, "ab/abcdef", series, &seq), BLOB_ERR);
  assert_int_equal(tgstore_sequence(b, "tg1gap:-1001000000001:0", series, &seq), BLOB_ERR);
  assert_int_equal(tgstore_gap_locator(b, "-1009", 1, loc, sizeof(loc)), BLOB_ERR);
  assert_int_equal(tgstore_gap_locator(b, "x", 1, loc, sizeof(loc)), BLOB_ERR);
  free(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_gaps_between_known),
    cmocka_unit_test(test_gaps_from_watermark),
    cmocka_unit_test(test_gaps_none_and_capped),
    cmocka_unit_test(test_telegram_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
