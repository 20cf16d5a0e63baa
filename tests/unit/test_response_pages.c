/* Unit tests for http_response_pages (http/response.c): the body is what
 * `out` held first, then each page `more` appends, handed out in pieces of
 * any size; the last page ends the stream; a fault cuts it; the caller's
 * state is freed once, with the response. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "http/response.h"

struct src {
  buf_t out;
  int pages;      /* pages still to give */
  int fail_at;    /* the call that faults; 0 never */
  int calls;
  int freed;
};

static int more(void *cls, buf_t *out)
{
  struct src *s = cls;
  assert_int_equal(out->len, 0);   /* empty at each call */
  if(++s->calls == s->fail_at)
    return -1;
  if(!s->pages)
    return buf_puts(out, "]") == BUF_OK ? 0 : -1;
  s->pages--;
  return buf_puts(out, s->pages ? "page," : "page") == BUF_OK ? 1 : -1;
}

static void src_free(void *cls)
{
  ((struct src *)cls)->freed++;
}

/* Reads the whole body `max` bytes at a time into `body`; returns the
 * reader's final value. */
static ssize_t drain(struct http_response *resp, size_t max, char *body, size_t cap)
{
  char piece[64];
  size_t len = 0;
  for(;;) {
    ssize_t n = resp->reader(resp->cls, len, piece, max);
    if(n < 0)
      return n;
    assert_true(n > 0 && (size_t)n <= max && len + (size_t)n < cap);
    memcpy(body + len, piece, (size_t)n);
    len += (size_t)n;
    body[len] = 0;
  }
}

static void test_head_then_pages_then_end(void **state)
{
  struct src s = {.pages = 3};
  buf_init(&s.out, 1024);
  buf_puts(&s.out, "[");
  struct http_response *resp = http_response_pages(&s.out, more, &s, src_free);
  assert_non_null(resp);
  assert_true(resp->size == HTTP_SIZE_UNKNOWN);
  char body[128];
  assert_int_equal(drain(resp, 3, body, sizeof(body)), HTTP_READER_END_OF_STREAM);
  assert_string_equal(body, "[page,page,page]");
  assert_int_equal(s.calls, 4);
  /* asked again after the end: still the end, `more` not called */
  char b[4];
  assert_int_equal(resp->reader(resp->cls, 16, b, sizeof(b)), HTTP_READER_END_OF_STREAM);
  assert_int_equal(s.calls, 4);
  http_response_free(resp);
  assert_int_equal(s.freed, 1);
  buf_free(&s.out);
}

static void test_fault_cuts_the_body(void **state)
{
  struct src s = {.pages = 5, .fail_at = 3};
  buf_init(&s.out, 1024);
  buf_puts(&s.out, "<");
  struct http_response *resp = http_response_pages(&s.out, more, &s, src_free);
  char body[128];
  assert_int_equal(drain(resp, 64, body, sizeof(body)), HTTP_READER_END_WITH_ERROR);
  assert_string_equal(body, "<page,page,");
  http_response_free(resp);
  assert_int_equal(s.freed, 1);
  buf_free(&s.out);
}

static void test_empty_head(void **state)
{
  struct src s = {0};
  buf_init(&s.out, 1024);
  struct http_response *resp = http_response_pages(&s.out, more, &s, NULL);
  char body[16];
  assert_int_equal(drain(resp, 1, body, sizeof(body)), HTTP_READER_END_OF_STREAM);
  assert_string_equal(body, "]");
  http_response_free(resp);
  assert_int_equal(s.freed, 0);
  buf_free(&s.out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_head_then_pages_then_end),
    cmocka_unit_test(test_fault_cuts_the_body),
    cmocka_unit_test(test_empty_head),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
