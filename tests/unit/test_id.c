/* Unit tests for util/id: shape, validity checks and uniqueness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/id.c"

static int cmp_str(const void *a, const void *b)
{
  return strcmp((const char *)a, (const char *)b);
}

static void test_id_new_shape_and_unique(void **state)
{
  enum { N = 2000 };
  char (*ids)[ID_LEN + 1] = malloc(N * sizeof(*ids));
  assert_non_null(ids);
  for(int i = 0; i < N; i++) {
    id_new(ids[i]);
    assert_int_equal(strlen(ids[i]), ID_LEN);
    assert_true(id_valid(ids[i]));
  }
  qsort(ids, N, sizeof(*ids), cmp_str);
  for(int i = 1; i < N; i++)
    assert_string_not_equal(ids[i - 1], ids[i]);
  free(ids);
}

static void test_id_new_decodes_to_16_bytes(void **state)
{
  char id[ID_LEN + 1];
  unsigned char raw[32];
  size_t n;
  id_new(id);
  assert_int_equal(b64url_decode(id, ID_LEN, raw, sizeof(raw), &n), 0);
  assert_int_equal(n, 16);
}

static void test_id_valid(void **state)
{
  assert_true(id_valid("AAAAAAAAAAAAAAAAAAAAAA"));
  assert_true(id_valid("abcXYZ019-_abcXYZ019-_"));
  assert_false(id_valid(NULL));
  assert_false(id_valid(""));
  assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAA"));   /* 21 */
  assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAAAA")); /* 23 */
  assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAA+"));
  assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAA/"));
  assert_false(id_valid("AAAAAAAAAAAAAAAAAAAAA="));
  assert_false(id_valid("AAAAAAAAAA AAAAAAAAAAA"));
  assert_false(id_valid("AAAAAAAAAAAAAAAAAAAA\xc3\xa9"));
  assert_false(id_valid("../../../../etc/passwd"));
  assert_false(id_valid("'; DROP TABLE users;--x"));
  assert_false(id_valid("507f1f77bcf86cd799439011")); /* a Mongo ObjectId: 24 hex */
}

static void test_id_token(void **state)
{
  char tok[128];
  id_token(tok, 32, sizeof(tok));
  assert_int_equal(strlen(tok), 43);
  for(size_t i = 0; tok[i]; i++)
    assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", tok[i]));
  char tok2[128];
  id_token(tok2, 32, sizeof(tok2));
  assert_string_not_equal(tok, tok2);

  /* Capped at 64 random bytes = 86 characters. */
  id_token(tok, 1000, sizeof(tok));
  assert_int_equal(strlen(tok), 86);

  /* A small buffer gets what fits, NUL-terminated, and nothing past it. */
  char small[12];
  memset(small, 'x', sizeof(small));
  id_token(small, 32, 10);
  assert_int_equal(strlen(small), 9);
  assert_int_equal(small[10], 'x');
  id_token(small, 32, 1);
  assert_string_equal(small, "");
  small[0] = 'x';
  id_token(small, 32, 0); /* no room at all: nothing written */
  assert_int_equal(small[0], 'x');
  id_token(small, 0, sizeof(small));
  assert_string_equal(small, "");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_id_new_shape_and_unique),
    cmocka_unit_test(test_id_new_decodes_to_16_bytes),
    cmocka_unit_test(test_id_valid),
    cmocka_unit_test(test_id_token),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
