/* Unit tests for util/grow: room kept while there is some, doubling from
 * the first size, the old array kept on failure, no overflow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "util/grow.c"

static void test_grows_by_doubling_and_keeps_values(void **state)
{
  int *v = NULL;
  size_t cap = 0, n = 0;
  size_t caps[] = {4, 8, 16, 32};
  int k = 0;
  for(int i = 0; i < 20; i++) {
    int *g = grow_room(v, &cap, n, sizeof(*v), 4);
    assert_non_null(g);
    if(n == 0 || n == caps[k]) {
      if(n)
        k++;
      assert_int_equal(cap, caps[k]);
    }
    v = g;
    v[n++] = i * 7;
  }
  for(int i = 0; i < 20; i++)
    assert_int_equal(v[i], i * 7);
  assert_int_equal(cap, 32);
  free(v);
}

static void test_room_left_returns_the_same_array(void **state)
{
  size_t cap = 0;
  char *v = grow_room(NULL, &cap, 0, 1, 8);
  assert_non_null(v);
  assert_int_equal(cap, 8);
  assert_ptr_equal(grow_room(v, &cap, 7, 1, 8), v);
  assert_int_equal(cap, 8);
  free(v);
}

static void test_overflow_refused_and_array_kept(void **state)
{
  size_t cap = 4;
  char *v = malloc(4);
  assert_non_null(v);
  size_t huge = SIZE_MAX / 4;
  assert_null(grow_room(v, &cap, 4, huge, 1));
  assert_int_equal(cap, 4);
  cap = 0;
  assert_null(grow_room(NULL, &cap, 0, 0, 4));   /* no size: refused */
  assert_null(grow_room(NULL, &cap, 0, 8, 0));   /* no first room: refused */
  assert_int_equal(cap, 0);
  free(v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_grows_by_doubling_and_keeps_values),
    cmocka_unit_test(test_room_left_returns_the_same_array),
    cmocka_unit_test(test_overflow_refused_and_array_kept),
  };
  return cmocka_run_group_tests_name("test_grow", tests, NULL, NULL);
}
