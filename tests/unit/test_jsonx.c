/* Unit tests for util/jsonx: body parsing and typed lookups. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonx.c"

static json_t *parse(const char *s, char *err)
{
  return jsonx_parse_object(s, strlen(s), err, 256);
}

static void test_parse_ok(void **state)
{
  char err[256] = "";
  json_t *j = parse(" {\"a\":1, \"b\":\"\xc3\xa9\", \"c\":{\"d\":[1,2]}} ", err);
  assert_non_null(j);
  json_decref(j);
  j = parse("{}", err);
  assert_non_null(j);
  json_decref(j);
  /* Duplicate keys: allowed, the last one wins. */
  j = parse("{\"a\":1,\"a\":2}", err);
  assert_non_null(j);
  int64_t v;
  assert_int_equal(jsonx_get_int(j, "a", &v), 0);
  assert_int_equal(v, 2);
  json_decref(j);
  /* Length-bounded: the bytes after len are not part of the body. */
  j = jsonx_parse_object("{\"a\":1}GARBAGE", 7, err, sizeof(err));
  assert_non_null(j);
  json_decref(j);
}

static void test_parse_rejects(void **state)
{
  static const char *const bad[] = {
    "[1,2]", "\"str\"", "1", "true", "null", "{", "{\"a\":}", "{\"a\":1}}", "{\"a\":1} x",
    "{'a':1}", "{a:1}", "{\"a\":1,}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
    "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"x\\u0000y\"}", "{\"a\":\"\\ud800\"}", "{\"a\":NaN}",
    "{\"a\":99999999999999999999999}", "\xef\xbb\xbf{}", "",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char err[256] = "";
    assert_null(parse(bad[i], err));
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
  }
  char err[256];
  assert_null(jsonx_parse_object(NULL, 0, err, sizeof(err)));
  assert_string_equal(err, "Request body must be a JSON object");
  assert_null(parse("[]", err));
  assert_string_equal(err, "Request body must be a JSON object");
  /* Only the place: jansson's text ("end of file expected near 'x'") is
   * the parser's internals and never reaches a client. */
  assert_null(parse("{\"a\":", err));
  assert_string_equal(err, "(line 1, column 5)");
  assert_null(parse("{} x", err));
  assert_string_equal(err, "(line 1, column 4)");
  /* An embedded NUL inside the given length is invalid. */
  assert_null(jsonx_parse_object("{\"a\":1}\0", 8, err, sizeof(err)));
  /* A tiny error buffer is truncated, not overrun. */
  char tiny[8];
  assert_null(jsonx_parse_object("[", 1, tiny, sizeof(tiny)));
  assert_int_equal(strlen(tiny), 7);
}

static void test_parse_deep_nesting(void **state)
{
  enum { DEPTH = 100000 };
  char *s = malloc(DEPTH * 6 + 16);
  size_t n = 0;
  for(int i = 0; i < DEPTH; i++) {
    memcpy(s + n, "{\"a\":", 5);
    n += 5;
  }
  s[n++] = '1';
  memset(s + n, '}', DEPTH);
  n += DEPTH;
  char err[256];
  assert_null(jsonx_parse_object(s, n, err, sizeof(err)));
  free(s);
}

static void test_getters(void **state)
{
  char err[256];
  json_t *j = parse("{\"s\":\"str\",\"e\":\"\",\"i\":-42,\"big\":9223372036854775807,"
                    "\"r\":1.0,\"t\":true,\"f\":false,\"n\":null,\"o\":{},\"a\":[],\"is\":\"5\"}",
                    err);
  assert_non_null(j);
  const char *s = NULL;
  int64_t i = 0;
  bool b = false;
  assert_int_equal(jsonx_get_str(j, "s", &s), 0);
  assert_string_equal(s, "str");
  assert_int_equal(jsonx_get_str(j, "e", &s), 0);
  assert_string_equal(s, "");
  assert_int_equal(jsonx_get_str(j, "missing", &s), 1);
  assert_int_equal(jsonx_get_str(j, "n", &s), 1);
  static const char *const not_str[] = {"i", "r", "t", "o", "a"};
  for(size_t k = 0; k < 5; k++)
    assert_int_equal(jsonx_get_str(j, not_str[k], &s), -1);

  assert_int_equal(jsonx_get_int(j, "i", &i), 0);
  assert_int_equal(i, -42);
  assert_int_equal(jsonx_get_int(j, "big", &i), 0);
  assert_true(i == INT64_MAX);
  assert_int_equal(jsonx_get_int(j, "missing", &i), 1);
  assert_int_equal(jsonx_get_int(j, "n", &i), 1);
  static const char *const not_int[] = {"s", "r", "t", "o", "a", "is"};
  for(size_t k = 0; k < 6; k++)
    assert_int_equal(jsonx_get_int(j, not_int[k], &i), -1);

  assert_int_equal(jsonx_get_bool(j, "t", &b), 0);
  assert_true(b);
  assert_int_equal(jsonx_get_bool(j, "f", &b), 0);
  assert_false(b);
  assert_int_equal(jsonx_get_bool(j, "missing", &b), 1);
  assert_int_equal(jsonx_get_bool(j, "n", &b), 1);
  assert_int_equal(jsonx_get_bool(j, "i", &b), -1);
  assert_int_equal(jsonx_get_bool(j, "s", &b), -1);

  /* Not an object (or NULL): treated as "absent". */
  assert_int_equal(jsonx_get_str(NULL, "s", &s), 1);
  json_t *arr = json_array();
  assert_int_equal(jsonx_get_int(arr, "i", &i), 1);
  json_decref(arr);
  json_decref(j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_ok),           cmocka_unit_test(test_parse_rejects),
    cmocka_unit_test(test_parse_deep_nesting), cmocka_unit_test(test_getters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
