/* Unit tests for api/listing: the listing query string (API §4): defaults,
 * parent forms, booleans, sort and order, limit and offset bounds, and the
 * 400 sentences for bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "api/list_params.h"

/* A fake query string: NULL-terminated key/value pairs. */
struct kv {
  const char *const *pairs;
};

static const char *kv_get(const void *ctx, const char *key)
{
  const struct kv *q = ctx;
  for(const char *const *p = q->pairs; p[0]; p += 2) {
    if(!strcmp(p[0], key))
      return p[1];
  }
  return NULL;
}

/* Parses the pairs given as arguments (key, value, ..., NULL). */
#define PARSE(out, ...) \
  listing_parse((out), kv_get, &(struct kv){(const char *const[]){__VA_ARGS__, NULL}}, "parent_id")

static void test_defaults(void **state)
{
  struct drive_listing l;
  assert_null(PARSE(&l, "unrelated", "x"));
  assert_null(l.parent_id);
  assert_false(l.in_bin);
  assert_false(l.starred);
  assert_int_equal(l.sort, DRIVE_SORT_NAME);
  assert_false(l.desc);
  assert_int_equal(l.limit, DRIVE_LIST_DEFAULT);
  assert_int_equal(l.offset, 0);
}

static void test_parent_forms(void **state)
{
  struct drive_listing l;
  assert_null(PARSE(&l, "parent_id", "root"));
  assert_null(l.parent_id);
  assert_null(PARSE(&l, "parent_id", ""));
  assert_null(l.parent_id);
  assert_null(PARSE(&l, "parent_id", "AAAAAAAAAAAAAAAAAAAAAA"));
  assert_string_equal(l.parent_id, "AAAAAAAAAAAAAAAAAAAAAA");
  /* Not validated here: drive/ answers 404 for a bad id. */
  assert_null(PARSE(&l, "parent_id", "' OR 1=1 --"));
  assert_string_equal(l.parent_id, "' OR 1=1 --");
  /* "ROOT" is not the root keyword: it is just an (unknown) id. */
  assert_null(PARSE(&l, "parent_id", "ROOT"));
  assert_string_equal(l.parent_id, "ROOT");
  /* The files listing names its parent folder_id. */
  assert_null(listing_parse(&l, kv_get, &(struct kv){(const char *const[]){"folder_id", "x", "parent_id", "y", NULL}},
                            "folder_id"));
  assert_string_equal(l.parent_id, "x");
}

static void test_booleans(void **state)
{
  struct drive_listing l;
  static const char *const yes[] = {"true", "TRUE", "True", "1", "yes", "on"};
  static const char *const no[] = {"false", "FALSE", "0", "no", "off", ""};
  for(size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    assert_null(PARSE(&l, "include_deleted", yes[i], "is_starred", yes[i]));
    assert_true(l.in_bin);
    assert_true(l.starred);
  }
  for(size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    assert_null(PARSE(&l, "include_deleted", no[i], "is_starred", no[i]));
    assert_false(l.in_bin);
    assert_false(l.starred);
  }
  assert_string_equal(PARSE(&l, "include_deleted", "maybe"), "include_deleted must be true or false");
  assert_string_equal(PARSE(&l, "is_starred", "2"), "is_starred must be true or false");
  assert_non_null(PARSE(&l, "is_starred", " true"));
}

static void test_sort_order(void **state)
{
  struct drive_listing l;
  static const struct {
    const char *v;
    enum drive_sort s;
  } ok[] = {{"name", DRIVE_SORT_NAME}, {"size", DRIVE_SORT_SIZE},
            {"created_at", DRIVE_SORT_CREATED}, {"updated_at", DRIVE_SORT_UPDATED},
            {"SIZE", DRIVE_SORT_SIZE}};
  for(size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    assert_null(PARSE(&l, "sort", ok[i].v));
    assert_int_equal(l.sort, ok[i].s);
  }
  static const char *const bad[] = {"owner_id", "name;DROP TABLE folders", "name ", "id", "-name"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_string_equal(PARSE(&l, "sort", bad[i]),
                        "sort must be one of name, size, created_at, updated_at");
  assert_null(PARSE(&l, "order", "desc"));
  assert_true(l.desc);
  assert_null(PARSE(&l, "order", "DESC"));
  assert_true(l.desc);
  assert_null(PARSE(&l, "order", "asc"));
  assert_false(l.desc);
  assert_string_equal(PARSE(&l, "order", "down"), "order must be asc or desc");
}

static void test_limit_offset(void **state)
{
  struct drive_listing l;
  assert_null(PARSE(&l, "limit", "1", "offset", "0"));
  assert_int_equal(l.limit, 1);
  assert_int_equal(l.offset, 0);
  assert_null(PARSE(&l, "limit", "10000", "offset", "9223372036854775807"));
  assert_int_equal(l.limit, DRIVE_LIST_MAX);
  assert_int_equal(l.offset, INT64_MAX);
  assert_null(PARSE(&l, "limit", "", "offset", ""));
  assert_int_equal(l.limit, DRIVE_LIST_DEFAULT);
  static const char *const bad_limit[] = {"0", "10001", "-1", "+5", " 5", "5 ", "1e3", "abc",
                                          "99999999999999999999", "0x10", "5.0"};
  for(size_t i = 0; i < sizeof(bad_limit) / sizeof(bad_limit[0]); i++)
    assert_string_equal(PARSE(&l, "limit", bad_limit[i]), "limit must be an integer from 1 to 10000");
  static const char *const bad_offset[] = {"-1", "9223372036854775808", "x", "1,2"};
  for(size_t i = 0; i < sizeof(bad_offset) / sizeof(bad_offset[0]); i++)
    assert_string_equal(PARSE(&l, "offset", bad_offset[i]), "offset must be a non-negative integer");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults),
    cmocka_unit_test(test_parent_forms),
    cmocka_unit_test(test_booleans),
    cmocka_unit_test(test_sort_order),
    cmocka_unit_test(test_limit_offset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
