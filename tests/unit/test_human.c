/* Unit tests for util/human. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/human.c"

static void size_eq(uint64_t n, const char *want)
{
  char out[32];
  human_size(n, out);
  assert_string_equal(out, want);
}

static void dur_eq(int64_t s, const char *want)
{
  char out[32];
  human_duration(s, out);
  assert_string_equal(out, want);
}

static void test_human_size(void **state)
{
  size_eq(0, "0 B");
  size_eq(1, "1 B");
  size_eq(512, "512 B");
  size_eq(1023, "1023 B");
  size_eq(1024, "1.00 KB");
  size_eq(1536, "1.50 KB");
  size_eq(12636, "12.34 KB");
  size_eq(12939428, "12.34 MB");
  size_eq(1048575, "1.00 MB"); /* would be "1024.00 KB" */
  size_eq(1048576, "1.00 MB");
  size_eq(1073741824ull, "1.00 GB");
  size_eq(1099511627776ull, "1.00 TB");
  size_eq(1125899906842624ull, "1.00 PB");
  size_eq(UINT64_MAX, "16384.00 PB");
}

static void test_human_duration(void **state)
{
  dur_eq(-1, "N/A");
  dur_eq(INT64_MIN, "N/A");
  dur_eq(0, "0s");
  dur_eq(5, "5s");
  dur_eq(59, "59s");
  dur_eq(60, "1m 0s");
  dur_eq(185, "3m 5s");
  dur_eq(3599, "59m 59s");
  dur_eq(3600, "1h 0m 0s");
  dur_eq(3785, "1h 3m 5s");
  dur_eq(90061, "25h 1m 1s");
  dur_eq(INT64_MAX, "2562047788015215h 30m 7s");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_human_size),
    cmocka_unit_test(test_human_duration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
