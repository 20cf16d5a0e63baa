/* Unit tests for http/range: Range parsing, coalescing, entity tags,
 * HTTP-dates and the conditional-request evaluation, with hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/range.c"

/* Parses `v` for `size` and returns the result; ranges in rs[0..*n). */
static enum range_result parse(const char *v, uint64_t size, struct range *rs, size_t *n)
{
  return range_parse(v, size, rs, RANGE_MAX, n);
}

static void expect_one(const char *v, uint64_t size, uint64_t first, uint64_t last)
{
  struct range rs[RANGE_MAX];
  size_t n = 99;
  enum range_result rc = parse(v, size, rs, &n);
  if(rc != RANGE_OK || n != 1 || rs[0].first != first || rs[0].last != last)
    fail_msg("'%s' size %llu: rc %d n %zu [%llu,%llu], want [%llu,%llu]", v,
             (unsigned long long)size, rc, n, n ? (unsigned long long)rs[0].first : 0ULL,
             n ? (unsigned long long)rs[0].last : 0ULL, (unsigned long long)first,
             (unsigned long long)last);
}

static void expect_rc(const char *v, uint64_t size, enum range_result want)
{
  struct range rs[RANGE_MAX];
  size_t n = 99;
  enum range_result rc = parse(v, size, rs, &n);
  if(rc != want)
    fail_msg("'%s' size %llu: rc %d, want %d", v, (unsigned long long)size, rc, want);
  if(rc != RANGE_OK)
    assert_int_equal(n, 0);
}

static void test_single_forms(void **state)
{
  expect_one("bytes=0-0", 100, 0, 0);
  expect_one("bytes=0-99", 100, 0, 99);
  expect_one("bytes=10-20", 100, 10, 20);
  expect_one("bytes=99-99", 100, 99, 99);
  expect_one("bytes=50-", 100, 50, 99);
  expect_one("bytes=0-", 100, 0, 99);
  expect_one("bytes=-1", 100, 99, 99);
  expect_one("bytes=-10", 100, 90, 99);
  expect_one("bytes=-100", 100, 0, 99);
  expect_one("bytes=-1000", 100, 0, 99);       /* suffix longer than the file: all */
  expect_one("bytes=90-1000", 100, 90, 99);    /* clamped */
  expect_one("bytes=0-0", 1, 0, 0);
  expect_one("bytes=-1", 1, 0, 0);
  expect_one("bytes=5-5", 6, 5, 5);
}

static void test_case_and_whitespace(void **state)
{
  expect_one("Bytes=1-2", 10, 1, 2);
  expect_one("BYTES=1-2", 10, 1, 2);
  expect_one("  bytes=1-2", 10, 1, 2);
  expect_one("bytes= 1-2", 10, 1, 2);
  expect_one("bytes=1-2 ", 10, 1, 2);
  expect_one("bytes=\t1-2\t", 10, 1, 2);
  expect_one("bytes=,1-2", 10, 1, 2);          /* empty list elements are allowed */
  expect_one("bytes=1-2,", 10, 1, 2);
  expect_one("bytes= , 1-2 ,, ", 10, 1, 2);
  /* Whitespace inside a range-spec or around '=' is not in the grammar. */
  expect_rc("bytes =1-2", 10, RANGE_IGNORE);
  expect_rc("bytes= 1 -2", 10, RANGE_IGNORE);
  expect_rc("bytes=1- 2", 10, RANGE_IGNORE);
  expect_rc("bytes=- 2", 10, RANGE_IGNORE);
}

static void test_invalid_is_ignored(void **state)
{
  const char *bad[] = {
    "", " ", "bytes", "bytes=", "bytes= ", "bytes=,", "bytes=, ,", "bytes=-", "bytes=--1",
    "bytes=5-1", "bytes=1-0", "bytes=a-b", "bytes=1-b", "bytes=1", "bytes=1-2-3",
    "bytes=1-2;3-4", "bytes=0x10-20", "bytes=+1-2", "bytes=-+1", "bytes=1.5-2", "bits=1-2",
    "items=0-1", "bytes:1-2", "=1-2", "1-2", "bytes=1-2 3-4", "bytes=1-2,x", "none",
    "bytes=\x01", "bytes=1-2\r\n", "bytes=\xff-1", "bytes=-1-2", "bytes=1--2",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    expect_rc(bad[i], 100, RANGE_IGNORE);
  expect_rc(NULL, 100, RANGE_IGNORE);
}

static void test_unsatisfiable(void **state)
{
  expect_rc("bytes=100-", 100, RANGE_UNSATISFIABLE);
  expect_rc("bytes=100-200", 100, RANGE_UNSATISFIABLE);
  expect_rc("bytes=1000-2000", 100, RANGE_UNSATISFIABLE);
  expect_rc("bytes=-0", 100, RANGE_UNSATISFIABLE);
  expect_rc("bytes=100-100,200-", 100, RANGE_UNSATISFIABLE);
  /* Empty content: nothing is satisfiable. */
  expect_rc("bytes=0-", 0, RANGE_UNSATISFIABLE);
  expect_rc("bytes=0-0", 0, RANGE_UNSATISFIABLE);
  expect_rc("bytes=-1", 0, RANGE_UNSATISFIABLE);
  /* One satisfiable spec makes the set satisfiable; the others are dropped. */
  struct range rs[RANGE_MAX];
  size_t n;
  assert_int_equal(parse("bytes=200-300,5-6,-0", 100, rs, &n), RANGE_OK);
  assert_int_equal(n, 1);
  assert_int_equal(rs[0].first, 5);
  assert_int_equal(rs[0].last, 6);
}

static void test_huge_numbers(void **state)
{
  /* Saturating arithmetic: bigger than 64 bits is bigger than any size. */
  expect_rc("bytes=18446744073709551615-", 100, RANGE_UNSATISFIABLE);
  expect_rc("bytes=18446744073709551616-", 100, RANGE_UNSATISFIABLE);
  expect_rc("bytes=99999999999999999999999999999999999999-", UINT64_MAX, RANGE_UNSATISFIABLE);
  expect_one("bytes=0-18446744073709551616", 100, 0, 99);
  expect_one("bytes=0-99999999999999999999999999999999999999", 100, 0, 99);
  expect_one("bytes=-99999999999999999999999999999999999999", 100, 0, 99);
  expect_one("bytes=000000000000000000000000000000000000005-6", 100, 5, 6);
  expect_one("bytes=18446744073709551614-", UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 1);
  expect_one("bytes=-1", UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 1);
  expect_one("bytes=0-", UINT64_MAX, 0, UINT64_MAX - 1);
  expect_one("bytes=9223372036854775807-9223372036854775808", UINT64_MAX,
             9223372036854775807ULL, 9223372036854775808ULL);
  /* A very long digit run is still linear and saturates. */
  char big[5000];
  memcpy(big, "bytes=1-", 8);
  memset(big + 8, '9', sizeof(big) - 9);
  big[sizeof(big) - 1] = 0;
  expect_one(big, 10, 1, 9);
}

static void test_multiple(void **state)
{
  struct range rs[RANGE_MAX];
  size_t n;
  assert_int_equal(parse("bytes=0-0,-1", 100, rs, &n), RANGE_OK);
  assert_int_equal(n, 2);
  assert_true(rs[0].first == 0 && rs[0].last == 0);
  assert_true(rs[1].first == 99 && rs[1].last == 99);
  assert_int_equal(parse("bytes=50-59, 0-9 ,20-", 100, rs, &n), RANGE_OK);
  assert_int_equal(n, 3);
  assert_true(rs[0].first == 50 && rs[1].first == 0 && rs[2].first == 20 && rs[2].last == 99);
}

static void test_many_ranges(void **state)
{
  struct range rs[RANGE_MAX];
  size_t n;
  char buf[4096];
  size_t len = (size_t)snprintf(buf, sizeof(buf), "bytes=");
  /* Exactly RANGE_MAX specs: accepted. */
  for(int i = 0; i < RANGE_MAX; i++)
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d-%d", i ? "," : "", i * 10,
                            i * 10);
  assert_int_equal(parse(buf, 100000, rs, &n), RANGE_OK);
  assert_int_equal(n, RANGE_MAX);
  /* 100 specs: more than we accept, so the header is ignored (200). */
  len = (size_t)snprintf(buf, sizeof(buf), "bytes=");
  for(int i = 0; i < 100; i++)
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d-%d", i ? "," : "", i * 10,
                            i * 10);
  assert_int_equal(parse(buf, 100000, rs, &n), RANGE_IGNORE);
  assert_int_equal(n, 0);
  /* A smaller caller-given max is honoured (and out is never overrun). */
  struct range two[2];
  assert_int_equal(range_parse("bytes=1-1,2-2,3-3", 10, two, 2, &n), RANGE_IGNORE);
  assert_int_equal(range_parse("bytes=1-1,2-2", 10, two, 2, &n), RANGE_OK);
  assert_int_equal(n, 2);
  /* Thousands of empty elements cost nothing and are not specs. */
  char *commas = malloc(100000);
  assert_non_null(commas);
  memcpy(commas, "bytes=", 6);
  memset(commas + 6, ',', 100000 - 7);
  commas[100000 - 1] = 0;
  assert_int_equal(parse(commas, 10, rs, &n), RANGE_IGNORE);
  commas[50000] = '1';
  commas[50001] = '-';
  assert_int_equal(parse(commas, 10, rs, &n), RANGE_OK);
  assert_int_equal(n, 1);
  free(commas);
}

static void test_coalesce(void **state)
{
  struct range rs[8] = {{50, 59}, {0, 9}, {5, 20}, {200, 300}};
  size_t n = range_coalesce(rs, 4, 0);
  assert_int_equal(n, 3);
  assert_true(rs[0].first == 0 && rs[0].last == 20);
  assert_true(rs[1].first == 50 && rs[1].last == 59);
  assert_true(rs[2].first == 200 && rs[2].last == 300);
  /* With a gap allowance, near neighbours merge too. */
  struct range near[3] = {{0, 9}, {30, 39}, {500, 509}};
  n = range_coalesce(near, 3, RANGE_COALESCE_GAP);
  assert_int_equal(n, 2);
  assert_true(near[0].first == 0 && near[0].last == 39);
  /* Gap semantics: fewer than `gap` bytes in between merges. */
  struct range g[2] = {{0, 9}, {15, 20}};   /* 5 bytes between */
  assert_int_equal(range_coalesce(g, 2, 5), 2);
  struct range g2[2] = {{0, 9}, {15, 20}};
  assert_int_equal(range_coalesce(g2, 2, 6), 1);
  assert_true(g2[0].first == 0 && g2[0].last == 20);
  /* Contained and identical ranges. */
  struct range c[3] = {{0, 100}, {10, 20}, {0, 100}};
  assert_int_equal(range_coalesce(c, 3, 0), 1);
  assert_true(c[0].first == 0 && c[0].last == 100);
  /* Ranges at the top of the 64-bit space do not overflow. */
  struct range top[2] = {{UINT64_MAX - 1, UINT64_MAX}, {0, 0}};
  assert_int_equal(range_coalesce(top, 2, UINT64_MAX), 1);
  assert_true(top[0].first == 0 && top[0].last == UINT64_MAX);
  struct range one[1] = {{3, 4}};
  assert_int_equal(range_coalesce(one, 1, 80), 1);
  assert_int_equal(range_coalesce(one, 0, 80), 0);
}

static void test_etag_match(void **state)
{
  const char *e = "\"abc\"";
  assert_true(range_etag_match("\"abc\"", e, true));
  assert_true(range_etag_match("\"abc\"", e, false));
  assert_true(range_etag_match("*", e, true));
  assert_true(range_etag_match(" * ", e, false));
  assert_true(range_etag_match("\"x\", \"abc\"", e, true));
  assert_true(range_etag_match("\"x\",\"abc\"", e, false));
  assert_true(range_etag_match(" ,\"x\" ,, \"abc\" ,", e, true));
  assert_true(range_etag_match("W/\"abc\"", e, true));       /* weak comparison */
  assert_false(range_etag_match("W/\"abc\"", e, false));     /* strong comparison */
  assert_false(range_etag_match("\"abcd\"", e, true));
  assert_false(range_etag_match("\"ab\"", e, true));
  assert_false(range_etag_match("abc", e, true));            /* unquoted */
  assert_false(range_etag_match("\"ABC\"", e, true));        /* case matters */
  assert_false(range_etag_match("", e, true));
  assert_false(range_etag_match(",", e, true));
  assert_false(range_etag_match("\"abc", e, true));          /* unterminated */
  assert_false(range_etag_match("w/\"abc\"", e, true));      /* W must be upper case */
  assert_false(range_etag_match("**", e, true));
  assert_false(range_etag_match("*, \"abc\"", e, true));
  assert_false(range_etag_match("\"x\" \"abc\"", e, true));  /* missing comma */
  assert_false(range_etag_match("\"a\"bc\"", e, true));
  assert_false(range_etag_match(NULL, e, true));
  /* An element after a malformed one is not considered. */
  assert_false(range_etag_match("bad, \"abc\"", e, true));
  assert_true(range_etag_match("\"abc\", bad", e, true));
  /* Our own tag weak: strong comparison never matches. */
  assert_false(range_etag_match("\"abc\"", "W/\"abc\"", false));
  assert_true(range_etag_match("\"abc\"", "W/\"abc\"", true));
  assert_false(range_etag_match("\"abc\"", "abc", true));
  /* The empty tag is a tag. */
  assert_true(range_etag_match("\"\"", "\"\"", false));
  /* A control character is not etagc. */
  assert_false(range_etag_match("\"a\x01\"", "\"a\x01\"", true));
}

static void test_date_format(void **state)
{
  char out[RANGE_DATE_LEN];
  range_date_format(784111777, out);
  assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
  range_date_format(0, out);
  assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
  range_date_format(-1, out);
  assert_string_equal(out, "Wed, 31 Dec 1969 23:59:59 GMT");
  range_date_format(951782400, out);
  assert_string_equal(out, "Tue, 29 Feb 2000 00:00:00 GMT");
  range_date_format(1795428930, out);
  assert_string_equal(out, "Mon, 23 Nov 2026 10:15:30 GMT");
  range_date_format(INT64_MAX, out);
  assert_string_equal(out, "Fri, 31 Dec 9999 23:59:59 GMT");
  range_date_format(INT64_MIN, out);
  assert_string_equal(out, "Sat, 01 Jan 0000 00:00:00 GMT");
  assert_int_equal(strlen(out), RANGE_DATE_LEN - 1);
}

static void test_date_parse(void **state)
{
  int64_t t = 0;
  assert_int_equal(range_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
  assert_int_equal(t, 784111777);
  assert_int_equal(range_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
  assert_int_equal(t, 784111777);
  assert_int_equal(range_date_parse("Sun Nov  6 08:49:37 1994", &t), 0);
  assert_int_equal(t, 784111777);
  assert_int_equal(range_date_parse("Sun Nov 16 08:49:37 1994", &t), 0);
  assert_int_equal(t, 784111777 + 10 * 86400);
  assert_int_equal(range_date_parse(" sun, 06 nov 1994 08:49:37 gmt ", &t), 0);
  assert_int_equal(t, 784111777);
  assert_int_equal(range_date_parse("Tue, 29 Feb 2000 00:00:00 GMT", &t), 0);
  assert_int_equal(t, 951782400);
  assert_int_equal(range_date_parse("Thursday, 01-Jan-70 00:00:00 GMT", &t), 0);
  assert_int_equal(t, 0);
  assert_int_equal(range_date_parse("Monday, 01-Jan-24 00:00:00 GMT", &t), 0);
  assert_int_equal(t, 1704067200);
  /* Round trip. */
  char out[RANGE_DATE_LEN];
  for(int64_t s = -86400 * 400; s < 86400LL * 365 * 200; s += 86400 * 37 + 3601) {
    range_date_format(s, out);
    assert_int_equal(range_date_parse(out, &t), 0);
    assert_int_equal(t, s);
  }
  const char *bad[] = {
    "", "Sun", "Sun,", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
    "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
    "Sun, 32 Jan 1994 08:49:37 GMT", "Sun, 00 Jan 1994 08:49:37 GMT",
    "Sun, 29 Feb 1900 08:49:37 GMT", "Sun, 31 Apr 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
    "Sun, 06 Nov 1994 08:49:61 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT x", "Xyz, 06 Nov 1994 08:49:37 GMT",
    "Sunday Nov  6 08:49:37 1994", "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
    "Sunday, 06-Nov-1994 08:49:37 GMT", "1994-11-06T08:49:37Z", "784111777",
    "Sun, 06 Nov 1994 08:49:37 GMT\x01", "\"abc\"", "Sun,06 Nov 1994 08:49:37 GMT",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if(range_date_parse(bad[i], &t) == 0)
      fail_msg("accepted bad date '%s'", bad[i]);
  assert_int_equal(range_date_parse(NULL, &t), -1);
}

#define ETAG "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\""
#define MTIME 784111777
#define MDATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define NOW (MTIME + 3600)   /* the server's clock in these tests */

static unsigned eval(struct range_request *rq, uint64_t size, struct range_plan *plan)
{
  range_evaluate(rq, size, ETAG, MTIME, NOW, plan);
  return plan->status;
}

static void test_evaluate_basic(void **state)
{
  struct range_plan p;
  struct range_request rq = {.is_get = true};
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.range = "bytes=0-9";
  assert_int_equal(eval(&rq, 100, &p), 206);
  assert_int_equal(p.n, 1);
  assert_true(p.ranges[0].first == 0 && p.ranges[0].last == 9);
  rq.range = "bytes=200-";
  assert_int_equal(eval(&rq, 100, &p), 416);
  rq.range = "bytes=5-1";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.range = "bytes=0-0,-1";
  assert_int_equal(eval(&rq, 100, &p), 206);
  assert_int_equal(p.n, 2);
  rq.range = "bytes=0-10,5-20";   /* coalesced into one */
  assert_int_equal(eval(&rq, 100, &p), 206);
  assert_int_equal(p.n, 1);
  assert_true(p.ranges[0].first == 0 && p.ranges[0].last == 20);
  rq.range = "bytes=0-0";
  assert_int_equal(eval(&rq, 0, &p), 416);
  /* HEAD ignores Range. */
  rq.is_get = false;
  rq.range = "bytes=0-9";
  assert_int_equal(eval(&rq, 100, &p), 200);
}

static void test_evaluate_if_range(void **state)
{
  struct range_plan p;
  struct range_request rq = {.is_get = true, .range = "bytes=10-19"};
  rq.if_range = ETAG;
  assert_int_equal(eval(&rq, 100, &p), 206);
  rq.if_range = "\"stale\"";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = "W/" ETAG;             /* weak tags never satisfy If-Range */
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = MDATE;
  assert_int_equal(eval(&rq, 100, &p), 206);
  rq.if_range = "Sun, 06 Nov 1994 08:49:38 GMT";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = "Sun, 06 Nov 1994 08:49:36 GMT";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = "garbage";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = "";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = ETAG ", " ETAG;        /* If-Range takes one tag, not a list */
  assert_int_equal(eval(&rq, 100, &p), 200);
  /* A stale If-Range also turns a 416 into a 200. */
  rq.range = "bytes=500-";
  rq.if_range = "\"stale\"";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_range = ETAG;
  assert_int_equal(eval(&rq, 100, &p), 416);
}

static void test_evaluate_conditionals(void **state)
{
  struct range_plan p;
  struct range_request rq = {.is_get = true};
  rq.if_none_match = ETAG;
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.if_none_match = "W/" ETAG;
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.if_none_match = "*";
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.if_none_match = "\"a\", \"b\"";
  assert_int_equal(eval(&rq, 100, &p), 200);
  /* If-None-Match wins over If-Modified-Since. */
  rq.if_modified_since = MDATE;
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_none_match = NULL;
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_modified_since = "not a date";
  assert_int_equal(eval(&rq, 100, &p), 200);
  /* A date after the server's clock is invalid (RFC 9110 §13.1.3): ignored. */
  rq.if_modified_since = "Sun, 06 Nov 1994 09:49:37 GMT";   /* == NOW */
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.if_modified_since = "Sun, 06 Nov 1994 09:49:38 GMT";   /* NOW + 1 s */
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_modified_since = "Fri, 31 Dec 9999 23:59:59 GMT";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_modified_since = NULL;
  /* 304 also for HEAD, and before any Range. */
  rq.is_get = false;
  rq.if_none_match = ETAG;
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.is_get = true;
  rq.range = "bytes=0-1";
  assert_int_equal(eval(&rq, 100, &p), 304);
  rq.if_none_match = NULL;
  /* If-Match. */
  rq.range = NULL;
  rq.if_match = ETAG;
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_match = "*";
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_match = "W/" ETAG;
  assert_int_equal(eval(&rq, 100, &p), 412);
  rq.if_match = "\"other\"";
  assert_int_equal(eval(&rq, 100, &p), 412);
  rq.if_match = NULL;
  rq.if_unmodified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
  assert_int_equal(eval(&rq, 100, &p), 412);
  rq.if_unmodified_since = MDATE;
  assert_int_equal(eval(&rq, 100, &p), 200);
  rq.if_unmodified_since = "junk";
  assert_int_equal(eval(&rq, 100, &p), 200);
}

/* Deterministic garbage: the parsers must never crash or accept nonsense
 * that produces out-of-bounds ranges. */
static void test_fuzz(void **state)
{
  static const char alphabet[] = "bytes=-,0123456789 \t\"W/*abcGMTSunNov:";
  char buf[64];
  uint32_t x = 12345;
  for(int iter = 0; iter < 200000; iter++) {
    size_t len = 0;
    if(iter & 1) {
      memcpy(buf, "bytes=", 6);
      len = 6;
    }
    x = x * 1103515245 + 12345;
    size_t extra = (x >> 16) % 40;
    for(size_t i = 0; i < extra; i++) {
      x = x * 1103515245 + 12345;
      buf[len++] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
    }
    buf[len] = 0;
    uint64_t size = (x >> 8) % 50;
    struct range rs[RANGE_MAX];
    size_t n = 0;
    if(range_parse(buf, size, rs, RANGE_MAX, &n) == RANGE_OK) {
      assert_true(n >= 1 && n <= RANGE_MAX);
      for(size_t i = 0; i < n; i++)
        assert_true(rs[i].first <= rs[i].last && rs[i].last < size);
      n = range_coalesce(rs, n, RANGE_COALESCE_GAP);
      for(size_t i = 1; i < n; i++)
        assert_true(rs[i].first > rs[i - 1].last);
    }
    int64_t t;
    range_date_parse(buf, &t);
    range_etag_match(buf, ETAG, true);
    struct range_request rq = {.range = buf, .if_range = buf, .if_none_match = buf,
                               .is_get = true};
    struct range_plan p;
    range_evaluate(&rq, size, ETAG, MTIME, NOW, &p);
    assert_true(p.status == 200 || p.status == 206 || p.status == 304 || p.status == 416);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_single_forms),
    cmocka_unit_test(test_case_and_whitespace),
    cmocka_unit_test(test_invalid_is_ignored),
    cmocka_unit_test(test_unsatisfiable),
    cmocka_unit_test(test_huge_numbers),
    cmocka_unit_test(test_multiple),
    cmocka_unit_test(test_many_ranges),
    cmocka_unit_test(test_coalesce),
    cmocka_unit_test(test_etag_match),
    cmocka_unit_test(test_date_format),
    cmocka_unit_test(test_date_parse),
    cmocka_unit_test(test_evaluate_basic),
    cmocka_unit_test(test_evaluate_if_range),
    cmocka_unit_test(test_evaluate_conditionals),
    cmocka_unit_test(test_fuzz),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
