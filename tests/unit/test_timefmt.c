/* Unit tests for util/timefmt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/timefmt.c"

static void test_rfc3339(void **state)
{
  char out[32];
  time_rfc3339(0, out);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  time_rfc3339(1795428930123, out);
  assert_string_equal(out, "2026-11-23T10:15:30.123Z");
  time_rfc3339(1795428930005, out);
  assert_string_equal(out, "2026-11-23T10:15:30.005Z");
  time_rfc3339(951782400000, out); /* leap day */
  assert_string_equal(out, "2000-02-29T00:00:00.000Z");
  time_rfc3339(253402300799999, out);
  assert_string_equal(out, "9999-12-31T23:59:59.999Z");
}

static void test_rfc3339_edges(void **state)
{
  char out[32];
  time_rfc3339(-1, out);
  assert_string_equal(out, "1969-12-31T23:59:59.999Z");
  time_rfc3339(-1000, out);
  assert_string_equal(out, "1969-12-31T23:59:59.000Z");
  time_rfc3339(-1001, out);
  assert_string_equal(out, "1969-12-31T23:59:58.999Z");
  /* Out of range: a fixed, well-formed value rather than garbage. */
  time_rfc3339(253402300800000, out); /* year 10000 */
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  time_rfc3339(INT64_MAX, out);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
  time_rfc3339(INT64_MIN, out);
  assert_string_equal(out, "1970-01-01T00:00:00.000Z");
}

/* The hand-made calendar agrees with libc's gmtime_r from year 0 to 9999,
 * a day at a time around leap years and in big strides elsewhere. */
static void test_rfc3339_matches_gmtime(void **state)
{
  const int64_t lo = -62167219200LL, hi = 253402300799LL; /* 0000-01-01 .. 9999-12-31 */
  for(int64_t sec = lo; sec <= hi; sec += 86400 * 7 + 3601) {
    for(int64_t step = 0; step < 3; step++) {
      int64_t s = sec + step * 86399;
      if(s > hi)
        break;
      time_t t = (time_t)s;
      struct tm tm;
      assert_non_null(gmtime_r(&t, &tm));
      char want[80], got[32];
      snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.042Z", tm.tm_year + 1900,
               tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
      time_rfc3339(s * 1000 + 42, got);
      assert_string_equal(got, want);
    }
  }
}

static void test_clocks(void **state)
{
  int64_t now = time_now_ms();
  int64_t sec = (int64_t)time(NULL);
  assert_true(now / 1000 >= sec - 2 && now / 1000 <= sec + 2);
  int64_t a = time_mono_ms(), b = time_mono_ms();
  assert_true(b >= a);
  char out[32];
  time_rfc3339(now, out);
  assert_int_equal(strlen(out), 24);
  assert_int_equal(out[23], 'Z');
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rfc3339),
    cmocka_unit_test(test_rfc3339_edges),
    cmocka_unit_test(test_rfc3339_matches_gmtime),
    cmocka_unit_test(test_clocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
