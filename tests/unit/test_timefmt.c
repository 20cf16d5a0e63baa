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
    cmocka_unit_test(test_clocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
