/* Unit tests for http/router: {param} routes, HEAD on GET routes, and the
 * prefix routes with the any-method "*" that /dav uses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.c"

static int h(struct http_req *r)
{
  (void)r;
  return 0;
}

static const struct http_route table[] = {
  {"GET", "/api/v1/files/{id}", h, 0, NULL},
  {"*", "/dav", h, HTTP_PREFIX, NULL},
  {NULL, NULL, NULL, 0, NULL},
};
static const struct http_route *const tables[] = {table, NULL};

static enum http_match match(const char *method, const char *path, struct http_req *r)
{
  memset(r, 0, sizeof(*r));
  r->path = strdup(path);
  http_path_normalize(r->path);
  enum http_match m = http_route_match(tables, method, r);
  free(r->path);
  for(int i = 0; i < r->nparams; i++)
    free(r->param_values[i]);
  return m;
}

static void test_params_and_head(void **state)
{
  struct http_req r;
  assert_int_equal(match("GET", "/api/v1/files/abc", &r), HTTP_MATCH_OK);
  assert_int_equal(match("HEAD", "/api/v1/files/abc/", &r), HTTP_MATCH_OK);
  assert_int_equal(match("POST", "/api/v1/files/abc", &r), HTTP_MATCH_METHOD);
  assert_int_equal(match("GET", "/api/v1/files/abc/x", &r), HTTP_MATCH_NONE);
}

static void test_prefix_any_method(void **state)
{
  struct http_req r;
  assert_int_equal(match("PROPFIND", "/dav", &r), HTTP_MATCH_OK);
  assert_ptr_equal(r.route, &table[1]);
  assert_int_equal(match("PROPFIND", "/dav/", &r), HTTP_MATCH_OK);
  assert_int_equal(match("MKCOL", "/dav/a/b/c", &r), HTTP_MATCH_OK);
  assert_int_equal(match("OPTIONS", "/dav/x", &r), HTTP_MATCH_OK);
  /* Only whole segments: "/davx" is not below "/dav". */
  assert_int_equal(match("GET", "/davx", &r), HTTP_MATCH_NONE);
  assert_int_equal(match("GET", "/da", &r), HTTP_MATCH_NONE);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_params_and_head),
    cmocka_unit_test(test_prefix_any_method),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
