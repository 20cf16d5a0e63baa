/* Unit tests for http/h1parse: the request-head parser and the chunked
 * decoder, on well-formed requests and many hostile ones (smuggling
 * shapes, caps, split input, byte-at-a-time delivery). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1parse.c"

/* Parses `text` as a whole head; returns the status (0 = parsed). */
static unsigned parse(const char *text, struct h1_head *h, const char **detail)
{
  size_t len = strlen(text), scan = 0;
  char *buf = malloc(len + 1);
  memcpy(buf, text, len + 1);
  size_t end = h1_head_end(buf, len, &scan);
  if(!end)
    fail_msg("head not complete: %s", text);
  static char keep[70000];   /* the fields point into it after return */
  memcpy(keep, buf, end);
  free(buf);
  *detail = NULL;
  return h1_head_parse(keep, end, h, detail);
}

static void expect_status(const char *text, unsigned want, const char *want_detail)
{
  struct h1_head h;
  const char *detail;
  unsigned got = parse(text, &h, &detail);
  if(got != want || (want_detail && (!detail || strcmp(detail, want_detail) != 0)))
    fail_msg("'%s': got %u '%s', want %u '%s'", text, got, detail ? detail : "", want,
             want_detail ? want_detail : "");
}

static void test_simple_get(void **state)
{
  struct h1_head h;
  const char *detail;
  assert_int_equal(parse("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-A:  v  \r\n\r\n", &h, &detail), 0);
  assert_string_equal(h.method, "GET");
  assert_string_equal(h.target, "/a/b?x=1");
  assert_int_equal(h.minor, 1);
  assert_int_equal(h.nfields, 2);
  assert_string_equal(h1_field(&h, "host"), "h");
  assert_string_equal(h1_field(&h, "X-A"), "v");   /* OWS trimmed */
  assert_null(h1_field(&h, "X-B"));
}

static void test_http10_and_bare_lf(void **state)
{
  struct h1_head h;
  const char *detail;
  assert_int_equal(parse("GET / HTTP/1.0\nHost: h\n\n", &h, &detail), 0);
  assert_int_equal(h.minor, 0);
  assert_string_equal(h1_field(&h, "Host"), "h");
}

static void test_leading_empty_lines(void **state)
{
  struct h1_head h;
  const char *detail;
  assert_int_equal(parse("\r\n\r\nGET /x HTTP/1.1\r\n\r\n", &h, &detail), 0);
  assert_string_equal(h.target, "/x");
}

static void test_repeated_fields_first_wins(void **state)
{
  struct h1_head h;
  const char *detail;
  assert_int_equal(parse("GET / HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n", &h, &detail), 0);
  assert_int_equal(h.nfields, 2);
  assert_string_equal(h1_field(&h, "A"), "1");
}

static void test_bad_request_lines(void **state)
{
  expect_status("GARBAGE\r\n\r\n", 400, "Malformed request");
  expect_status("GET\r\n\r\n", 400, "Malformed request");
  expect_status("GET /\r\n\r\n", 400, "Malformed request");          /* HTTP/0.9 */
  expect_status("GET  / HTTP/1.1\r\n\r\n", 400, NULL);                /* two spaces */
  expect_status("GET / HTTP/1.1 \r\n\r\n", 400, NULL);                /* trailing space */
  expect_status("GET /a b HTTP/1.1\r\n\r\n", 400, NULL);
  expect_status("G(T / HTTP/1.1\r\n\r\n", 400, NULL);                 /* not a token */
  expect_status("GET x HTTP/1.1\r\n\r\n", 400, NULL);                 /* no form */
  expect_status("GET /\x01 HTTP/1.1\r\n\r\n", 400, NULL);
  expect_status("GET /\x7f HTTP/1.1\r\n\r\n", 400, NULL);
  expect_status("GET / HTTP/1.1\rX\r\n\r\n", 400, NULL);              /* bare CR */
  expect_status("GET / http/1.1\r\n\r\n", 400, NULL);
  expect_status("GET / HTTP/1.10\r\n\r\n", 400, NULL);
  expect_status("GET / HTTP/2.0\r\n\r\n", 505, "HTTP version not supported");
  expect_status("GET / HTTP/9.9\r\n\r\n", 505, NULL);
  expect_status("GET / HTTP/1.2\r\n\r\n", 505, NULL);
  expect_status("OPTIONS * HTTP/1.1\r\n\r\n", 0, NULL);
  expect_status("GET http://h/x HTTP/1.1\r\n\r\n", 0, NULL);
}

static void test_nul_refused(void **state)
{
  struct h1_head h;
  const char *detail;
  char buf[] = "GET /\0x HTTP/1.1\r\n\r\n";
  assert_int_equal(h1_head_parse(buf, sizeof(buf) - 1, &h, &detail), 400);
  char buf2[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
  assert_int_equal(h1_head_parse(buf2, sizeof(buf2) - 1, &h, &detail), 400);
}

static void test_bad_fields(void **state)
{
  expect_status("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\nContent-Length\t: 5\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\nA: 1\r\n continued\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\nA: 1\r\n\tcontinued\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "Malformed request");
  expect_status("GET / HTTP/1.1\r\n: empty\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\nA\x01: 1\r\n\r\n", 400, "Invalid header field name");
  expect_status("GET / HTTP/1.1\r\nA: 1\x01\r\n\r\n", 400, "Invalid header field value");
  expect_status("GET / HTTP/1.1\r\nA: 1\x7f\r\n\r\n", 400, "Invalid header field value");
  expect_status("GET / HTTP/1.1\r\nA: 1\r2\r\n\r\n", 400, NULL);      /* bare CR */
  expect_status("GET / HTTP/1.1\r\nA: caf\xc3\xa9\r\n\r\n", 0, NULL); /* obs-text is fine */
  expect_status("GET / HTTP/1.1\r\nA:\r\n\r\n", 0, NULL);             /* empty value */
}

static void test_caps(void **state)
{
  static char big[80000];
  /* URI over HTTP_URI_MAX */
  int n = snprintf(big, sizeof(big), "GET /");
  memset(big + n, 'a', HTTP_URI_MAX);
  n += HTTP_URI_MAX;
  n += snprintf(big + n, sizeof(big) - (size_t)n, " HTTP/1.1\r\n\r\n");
  expect_status(big, 414, "URI too long");
  /* fields over HTTP_HEAD_MAX in all */
  n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
  for(int i = 0; i < 40; i++) {
    n += snprintf(big + n, sizeof(big) - (size_t)n, "X-%d: ", i);
    memset(big + n, 'v', 1000);
    n += 1000;
    n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
  }
  snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
  expect_status(big, 431, "Request header fields too large");
  /* too many fields */
  n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
  for(int i = 0; i <= H1_FIELDS_MAX; i++)
    n += snprintf(big + n, sizeof(big) - (size_t)n, "a: b\r\n");
  snprintf(big + n, sizeof(big) - (size_t)n, "\r\n");
  expect_status(big, 431, NULL);
}

static void test_overflow_verdict(void **state)
{
  const char *detail;
  assert_int_equal(h1_head_overflow("GET /aaaa", 9, &detail), 414);
  assert_int_equal(h1_head_overflow("GET / HTTP/1.1\r\nX: aaa", 22, &detail), 431);
  assert_string_equal(detail, "Request header fields too large");
}

static void test_head_end_incremental(void **state)
{
  const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT";
  size_t total = strlen(req), scan = 0, end = 0;
  /* One byte at a time: found exactly when the empty line is complete. */
  for(size_t len = 1; len <= total && !end; len++) {
    end = h1_head_end(req, len, &scan);
    if(end)
      assert_int_equal(len, total - 4);
  }
  assert_int_equal(end, total - 4);
  scan = 0;
  assert_int_equal(h1_head_end("GET / HTTP/1.1\n\nX", 17, &scan), 16);
  scan = 0;
  assert_int_equal(h1_head_end("\r\n\r\n", 4, &scan), 0);   /* only leading empty lines */
  scan = 0;
  assert_int_equal(h1_head_end("GET / HTTP/1.1\r\nA: b\r\n", 22, &scan), 0);
}

/* ---- chunked ---- */

/* Decodes `in` fed in pieces of `step` bytes; returns the body (static) or
 * NULL on error; *rest gets the bytes after the body. */
static const char *dechunk(const char *in, size_t len, size_t step, size_t *rest)
{
  static char out[4096];
  char buf[4096];
  struct h1_chunked st;
  size_t o = 0, i = 0;
  memset(&st, 0, sizeof(st));
  *rest = 0;
  while(i < len) {
    size_t n = len - i < step ? len - i : step, data;
    memcpy(buf, in + i, n);
    size_t used = h1_chunked_run(&st, buf, n, &data);
    memcpy(out + o, buf, data);
    o += data;
    if(st.error)
      return NULL;
    i += used;
    if(st.done) {
      *rest = len - i;
      break;
    }
  }
  if(!st.done)
    return NULL;
  out[o] = 0;
  return out;
}

static void test_chunked_ok(void **state)
{
  static const char *in = "3\r\nabc\r\n0A\r\n0123456789\r\n0\r\n\r\nGET";
  for(size_t step = 1; step <= strlen(in); step++) {
    size_t rest;
    const char *body = dechunk(in, strlen(in), step, &rest);
    assert_non_null(body);
    assert_string_equal(body, "abc0123456789");
    assert_int_equal(rest, 3);
  }
}

static void test_chunked_extensions_and_trailers(void **state)
{
  static const char *in =
      "4;name=value;q=\"x y\"\r\nwxyz\r\n2 ; e\r\n12\r\n0;last\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n";
  for(size_t step = 1; step <= strlen(in); step++) {
    size_t rest;
    const char *body = dechunk(in, strlen(in), step, &rest);
    assert_non_null(body);
    assert_string_equal(body, "wxyz12");
    assert_int_equal(rest, 0);
  }
}

static void test_chunked_hostile(void **state)
{
  static const char *bad[] = {
    "zz\r\n",                       /* not hex */
    "\r\n",                         /* no size */
    "-1\r\n",
    "+1\r\na\r\n0\r\n\r\n",
    "0x1\r\na\r\n0\r\n\r\n",
    "1\r\nab\r\n0\r\n\r\n",          /* data longer than its size */
    "1\na\n0\n\n",                  /* bare LF */
    "1\r\na\n0\r\n\r\n",
    "1000000000000000\r\n",          /* 2^60: too big */
    "1;a\x01\r\na\r\n0\r\n\r\n",     /* control byte in an extension */
    "0\r\n X: folded\r\n\r\n",       /* obs-fold in the trailers */
    "0\r\nX: a\rb\r\n\r\n",
    "0\r\n\r\r",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t rest;
    if(dechunk(bad[i], strlen(bad[i]), 1, &rest) != NULL)
      fail_msg("accepted: %s", bad[i]);
  }
  /* An extension line that never ends is refused once over its cap. */
  static char longext[8000];
  memset(longext, 'a', sizeof(longext) - 1);
  longext[0] = '1';
  longext[1] = ';';
  struct h1_chunked st;
  size_t data;
  memset(&st, 0, sizeof(st));
  h1_chunked_run(&st, longext, sizeof(longext) - 1, &data);
  assert_true(st.error);
}

static void test_chunked_incomplete(void **state)
{
  size_t rest;
  assert_null(dechunk("3\r\nabc\r\n", 8, 3, &rest));   /* no last chunk yet */
  assert_null(dechunk("3\r\nabc\r\n0\r\n", 11, 2, &rest));
}

/* Connection options are whole list elements, any case (RFC 9110 §7.6.1). */
static void test_list_has(void **state)
{
  assert_true(h1_list_has("close", "close"));
  assert_true(h1_list_has("Keep-Alive, CLOSE", "close"));
  assert_true(h1_list_has(" ,keep-alive\t, te", "keep-alive"));
  assert_false(h1_list_has("x-close-notify", "close"));
  assert_false(h1_list_has("not-keep-alive", "keep-alive"));
  assert_false(h1_list_has("closed, upgrade", "close"));
  assert_false(h1_list_has("", "close"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_list_has),
    cmocka_unit_test(test_simple_get),
    cmocka_unit_test(test_http10_and_bare_lf),
    cmocka_unit_test(test_leading_empty_lines),
    cmocka_unit_test(test_repeated_fields_first_wins),
    cmocka_unit_test(test_bad_request_lines),
    cmocka_unit_test(test_nul_refused),
    cmocka_unit_test(test_bad_fields),
    cmocka_unit_test(test_caps),
    cmocka_unit_test(test_overflow_verdict),
    cmocka_unit_test(test_head_end_incremental),
    cmocka_unit_test(test_chunked_ok),
    cmocka_unit_test(test_chunked_extensions_and_trailers),
    cmocka_unit_test(test_chunked_hostile),
    cmocka_unit_test(test_chunked_incomplete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
