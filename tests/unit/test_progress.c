/* Unit tests for util/progress: the progress line's text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "util/progress.h"

static void test_format(void **state)
{
  char line[160];
  progress_format(line, sizeof(line), "fsck", "chunks", 0, 100, 0);
  assert_string_equal(line, "fsck: 0/100 chunks (0.0%)");
  progress_format(line, sizeof(line), "fsck", "chunks", 25, 100, 1000);
  assert_string_equal(line, "fsck: 25/100 chunks (25.0%), 25/s, ETA 3s");
  progress_format(line, sizeof(line), "fsck", "chunks", 1, 10000, 1000);
  assert_string_equal(line, "fsck: 1/10000 chunks (0.0%), 1/s, ETA 2h46m");
  progress_format(line, sizeof(line), "fsck", "chunks", 100, 1000, 1000);
  assert_string_equal(line, "fsck: 100/1000 chunks (10.0%), 100/s, ETA 9s");
  progress_format(line, sizeof(line), "fsck", "chunks", 60, 6000, 1000);
  assert_string_equal(line, "fsck: 60/6000 chunks (1.0%), 60/s, ETA 1m39s");
  progress_format(line, sizeof(line), "fsck", "chunks", 100, 100, 1000);
  assert_string_equal(line, "fsck: 100/100 chunks (100.0%)");
  /* More than announced (rows added meanwhile): never over 100%. */
  progress_format(line, sizeof(line), "fsck", "chunks", 120, 100, 1000);
  assert_string_equal(line, "fsck: 120/100 chunks (100.0%)");
  progress_format(line, sizeof(line), "gc", "stored chunks looked at", 42, 0, 2000);
  assert_string_equal(line, "gc: 42 stored chunks looked at, 21/s");
  /* A tiny buffer cuts, never overruns. */
  char small[8];
  progress_format(small, sizeof(small), "fsck", "chunks", 1, 2, 10);
  assert_string_equal(small, "fsck: 1");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
