/* Unit tests for drive_each_text (drive/drive.c): every row reaches the
 * callback; a positive return stops early and is still DRIVE_OK; a negative
 * DRIVE_* code from the callback (out of memory, say) stops it and comes
 * back to the caller instead of being taken for a clean stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "db/db.h"
#include "drive/drive.h"
#include "testdb.h"

#define ROWS "SELECT 'a' UNION ALL SELECT 'b' UNION ALL SELECT 'c'"

struct seen {
  char text[8];
  int n;
  int stop_at;   /* 1-based row whose call returns `ret`; 0 never */
  int ret;
};

static int each(void *arg, const char *text)
{
  struct seen *s = arg;
  s->text[s->n++] = text[0];
  return s->n == s->stop_at ? s->ret : 0;
}

static int run(struct seen *s)
{
  return drive_each_text(db_query(db_get(), ROWS, ""), each, s);
}

static void test_every_row(void **state)
{
  struct seen s = {0};
  assert_int_equal(run(&s), DRIVE_OK);
  assert_string_equal(s.text, "abc");
}

static void test_positive_stops_cleanly(void **state)
{
  struct seen s = {.stop_at = 2, .ret = 1};
  assert_int_equal(run(&s), DRIVE_OK);
  assert_string_equal(s.text, "ab");
}

static void test_fault_is_returned(void **state)
{
  struct seen s = {.stop_at = 2, .ret = DRIVE_INTERNAL};
  assert_int_equal(run(&s), DRIVE_INTERNAL);
  assert_string_equal(s.text, "ab");
}

static void test_failed_query(void **state)
{
  struct seen s = {0};
  assert_int_equal(drive_each_text(NULL, each, &s), DRIVE_DB);
  assert_int_equal(s.n, 0);
}

int main(void)
{
  if(testdb_open("each") != 0)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_row),
    cmocka_unit_test(test_positive_stops_cleanly),
    cmocka_unit_test(test_fault_is_returned),
    cmocka_unit_test(test_failed_query),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  testdb_close();
  return rc;
}
