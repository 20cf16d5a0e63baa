/* Unit tests for util/buf: printf into the room already there, printf that
 * must grow, and the bound (a refused append leaves the buffer as it was). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.c"

static void test_printf_fits_and_grows(void **state)
{
  buf_t b;
  buf_init(&b, 1 << 20);
  assert_int_equal(buf_puts(&b, "ab"), BUF_OK);   /* cap 64: room for the next */
  assert_int_equal(buf_printf(&b, "<%d>", 42), BUF_OK);
  assert_string_equal(b.data, "ab<42>");
  char big[300];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  assert_int_equal(buf_printf(&b, "[%s]", big), BUF_OK);   /* past the room: grows */
  assert_int_equal(b.len, 6 + 2 + 299);
  assert_int_equal(b.data[6], '[');
  assert_int_equal(b.data[b.len - 1], ']');
  assert_int_equal(b.data[b.len], 0);
  buf_free(&b);
}

static void test_printf_bound_leaves_buffer(void **state)
{
  buf_t b;
  buf_init(&b, 10);
  assert_int_equal(buf_puts(&b, "12345"), BUF_OK);
  /* Fits the allocation (64) but not the maximum (10). */
  assert_int_equal(buf_printf(&b, "%s", "abcdefgh"), BUF_TOO_BIG);
  assert_int_equal(b.len, 5);
  assert_string_equal(b.data, "12345");
  assert_int_equal(buf_printf(&b, "%d", 6789), BUF_OK);
  assert_string_equal(b.data, "123456789");
  buf_free(&b);
  /* An empty buffer: nothing allocated yet. */
  buf_init(&b, 100);
  assert_int_equal(buf_printf(&b, "%s-%d", "n", 1), BUF_OK);
  assert_string_equal(b.data, "n-1");
  buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_printf_fits_and_grows),
    cmocka_unit_test(test_printf_bound_leaves_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
