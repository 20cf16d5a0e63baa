/* Unit tests for telegram/tg_reply (strict Bot API envelope parsing, also of
 * hostile bodies), telegram/tg_locator (chunk locator text) and
 * telegram/tg_retry's classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>
#include "telegram/tg_locator.h"
#include "telegram/tg_reply.h"
#include "telegram/tg_retry.h"

static int parse(struct tg_reply *r, int status, const char *body, int hdr)
{
  return tg_reply_parse(r, status, body, body ? strlen(body) : 0, hdr);
}

static void test_ok_envelope(void **state)
{
  struct tg_reply r = {0};
  assert_int_equal(parse(&r, 200, "{\"ok\":true,\"result\":{\"id\":5,\"is_bot\":true}}", -1), 0);
  assert_true(r.ok && r.envelope);
  assert_int_equal(json_integer_value(json_object_get(r.result, "id")), 5);
  /* true and arrays are results too */
  assert_int_equal(parse(&r, 200, "{\"ok\":true,\"result\":true}", -1), 0);
  assert_true(json_is_true(r.result));
  assert_int_equal(parse(&r, 200, " {\"result\":[1,2],\"ok\":true} ", -1), 0);
  assert_int_equal(json_array_size(r.result), 2);
  tg_reply_clear(&r);
  assert_null(r.result);
}

static void test_error_envelope(void **state)
{
  struct tg_reply r = {0};
  assert_int_equal(parse(&r, 400, "{\"ok\":false,\"error_code\":400,\"description\":"
                                  "\"Bad Request: chat not found\"}", -1), -1);
  assert_true(r.envelope);
  assert_false(r.ok);
  assert_int_equal(r.error_code, 400);
  assert_int_equal(r.http_status, 400);
  assert_string_equal(r.description, "Bad Request: chat not found");
  assert_int_equal(r.retry_after, -1);
  /* error_code missing or absurd: the HTTP status stands in */
  parse(&r, 403, "{\"ok\":false,\"description\":\"Forbidden\"}", -1);
  assert_int_equal(r.error_code, 403);
  parse(&r, 500, "{\"ok\":false,\"error_code\":99999}", -1);
  assert_int_equal(r.error_code, 500);
  assert_string_equal(r.description, "error 500");
  parse(&r, 401, "{\"ok\":false,\"error_code\":\"401\",\"description\":7}", -1);
  assert_int_equal(r.error_code, 401);
  tg_reply_clear(&r);
}

static void test_retry_after(void **state)
{
  struct tg_reply r = {0};
  const char *body = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry "
                     "after 7\",\"parameters\":{\"retry_after\":7}}";
  parse(&r, 429, body, -1);
  assert_int_equal(r.error_code, 429);
  assert_int_equal(r.retry_after, 7);
  parse(&r, 429, body, 3); /* the JSON wins over the header */
  assert_int_equal(r.retry_after, 7);
  parse(&r, 429, "{\"ok\":false,\"error_code\":429}", 5);
  assert_int_equal(r.retry_after, 5);
  parse(&r, 429, "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":99999999}}", -1);
  assert_int_equal(r.retry_after, TG_RETRY_AFTER_MAX);
  parse(&r, 429, "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":-4}}", -1);
  assert_int_equal(r.retry_after, -1);
  parse(&r, 429, "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":\"9\"}}", 2);
  assert_int_equal(r.retry_after, 2);
  parse(&r, 429, "{\"ok\":false,\"error_code\":429,\"parameters\":[1]}", -1);
  assert_int_equal(r.retry_after, -1);
  tg_reply_clear(&r);
}

static void test_html_and_garbage(void **state)
{
  struct tg_reply r = {0};
  const char *page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                     "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"
                     "</body></html>";
  assert_int_equal(parse(&r, 502, page, -1), -1);
  assert_false(r.envelope);
  assert_int_equal(r.error_code, 502);
  assert_string_equal(r.description, "non-JSON reply (HTTP 502): 502 Bad Gateway");
  parse(&r, 413, "<html><title>413 Request Entity Too Large", -1); /* cut mid-page */
  assert_int_equal(r.error_code, 413);
  assert_non_null(strstr(r.description, "413 Request Entity Too Large"));
  static const char *const bad[] = {
    "", "{", "{\"ok\":true,\"res", "[]", "[{\"ok\":true}]", "\"ok\"", "42", "null", "true",
    "{\"ok\":true}",                                /* no result */
    "{\"ok\":\"true\",\"result\":1}",                /* not a boolean */
    "{\"ok\":1,\"result\":1}",
    "{\"result\":1}",
    "{\"ok\":true,\"ok\":false,\"result\":1}",       /* duplicate keys */
    "{\"ok\":true,\"result\":1}garbage",
    "\xef\xbb\xbf{\"ok\":true,\"result\":1}",        /* BOM */
    "{\"ok\":true,\"result\":\"\xff\xfe\"}",         /* invalid UTF-8 */
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(parse(&r, 200, bad[i], -1), -1);
    assert_false(r.ok);
    assert_false(r.envelope);
    assert_null(r.result);
    assert_int_equal(r.error_code, 200);
  }
  /* A NUL inside the body */
  assert_int_equal(tg_reply_parse(&r, 200, "{\"ok\":true,\0\"result\":1}", 23, -1), -1);
  /* ok:true with an error status is not trusted */
  assert_int_equal(parse(&r, 500, "{\"ok\":true,\"result\":1}", -1), -1);
  assert_false(r.ok);
  assert_int_equal(r.error_code, 500);
  /* Oversized */
  char *big = malloc(TG_REPLY_MAX + 2);
  memset(big, ' ', TG_REPLY_MAX + 1);
  big[TG_REPLY_MAX + 1] = 0;
  assert_int_equal(parse(&r, 200, big, -1), -1);
  free(big);
  tg_reply_clear(&r);
}

static void test_deep_nesting(void **state)
{
  struct tg_reply r = {0};
  size_t depth = 100000;
  char *s = malloc(depth * 2 + 64);
  size_t n = 0;
  n += (size_t)sprintf(s, "{\"ok\":true,\"result\":");
  for(size_t i = 0; i < depth; i++)
    s[n++] = '[';
  for(size_t i = 0; i < depth; i++)
    s[n++] = ']';
  s[n++] = '}';
  s[n] = 0;
  assert_int_equal(tg_reply_parse(&r, 200, s, n, -1), -1); /* jansson's depth cap */
  free(s);
  tg_reply_clear(&r);
}

static void test_description_sanitised(void **state)
{
  struct tg_reply r = {0};
  parse(&r, 400, "{\"ok\":false,\"error_code\":400,\"description\":\"line1\\nline2\\t"
                 "\\u001b[31mred\"}", -1);
  assert_null(strchr(r.description, '\n'));
  assert_null(strchr(r.description, '\x1b'));
  assert_non_null(strstr(r.description, "line1 line2"));
  /* Long text is cut, never in the middle of a UTF-8 sequence. */
  char body[2048];
  size_t n = (size_t)sprintf(body, "{\"ok\":false,\"error_code\":400,\"description\":\"");
  for(int i = 0; i < 300; i++)
    n += (size_t)sprintf(body + n, "\xc3\xa9"); /* é */
  sprintf(body + n, "\"}");
  parse(&r, 400, body, -1);
  size_t len = strlen(r.description);
  assert_true(len < TG_DESC_MAX && len % 2 == 0);
  assert_true(len >= TG_DESC_MAX - 3);
  tg_reply_set_error(&r, 0, "Couldn't connect\r\nto server");
  assert_string_equal(r.description, "Couldn't connect to server");
  assert_int_equal(r.error_code, 0);
  assert_false(r.envelope);
  tg_reply_clear(&r);
}

static void test_classify(void **state)
{
  assert_int_equal(tg_classify(CURLE_OK, 200, true), TG_CLASS_OK);
  assert_int_equal(tg_classify(CURLE_OK, 200, false), TG_CLASS_RETRY); /* garbled/truncated */
  assert_int_equal(tg_classify(CURLE_OK, 206, false), TG_CLASS_RETRY);
  assert_int_equal(tg_classify(CURLE_OK, 429, false), TG_CLASS_RATE);
  assert_int_equal(tg_classify(CURLE_OK, 500, false), TG_CLASS_RETRY);
  assert_int_equal(tg_classify(CURLE_OK, 502, false), TG_CLASS_RETRY);
  assert_int_equal(tg_classify(CURLE_OK, 408, false), TG_CLASS_RETRY);
  assert_int_equal(tg_classify(CURLE_OK, 400, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_OK, 401, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_OK, 403, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_OK, 404, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_OK, 413, false), TG_CLASS_FAIL);
  static const int transient[] = {CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
                                  CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
                                  CURLE_PARTIAL_FILE, CURLE_COULDNT_RESOLVE_HOST};
  for(size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
    assert_int_equal(tg_classify(transient[i], 0, false), TG_CLASS_RETRY);
  assert_int_equal(tg_classify(CURLE_WRITE_ERROR, 200, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_READ_ERROR, 0, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_URL_MALFORMAT, 0, false), TG_CLASS_FAIL);
  assert_int_equal(tg_classify(CURLE_ABORTED_BY_CALLBACK, 0, false), TG_CLASS_FAIL);
}

/* ---- locator ---- */

static void test_locator_round_trip(void **state)
{
  struct tg_locator l = {.bot_id = 123456, .chat_id = -1001234567890, .message_id = 42}, back;
  char text[512];
  strcpy(l.file_unique_id, "AgADqQADAQ");
  strcpy(l.file_id, "BQACAgIAAxkDAAIBb2Zx-_AbC");
  assert_int_equal(tg_locator_format(&l, text, sizeof(text)), 0);
  assert_string_equal(text, "tg1:123456:-1001234567890:42:AgADqQADAQ:BQACAgIAAxkDAAIBb2Zx-_AbC");
  assert_int_equal(tg_locator_parse(text, &back), 0);
  assert_memory_equal(&l, &back, sizeof(l));
  /* extremes */
  l.bot_id = INT64_MAX;
  l.chat_id = INT64_MIN;
  l.message_id = 1;
  memset(l.file_id, 'A', TG_FILE_ID_MAX - 1);
  l.file_id[TG_FILE_ID_MAX - 1] = 0;
  assert_int_equal(tg_locator_format(&l, text, sizeof(text)), 0);
  assert_int_equal(tg_locator_parse(text, &back), 0);
  assert_memory_equal(&l, &back, sizeof(l));
  /* too small a buffer */
  assert_int_equal(tg_locator_format(&l, text, 40), -1);
  /* invalid fields are refused */
  l.message_id = 0;
  assert_int_equal(tg_locator_format(&l, text, sizeof(text)), -1);
}

static void test_locator_rejects(void **state)
{
  struct tg_locator l;
  char longid[300];
  static const char *const bad[] = {
    "", "tg1:", "tg2:1:-100:1:u:f", "TG1:1:-100:1:u:f", "tg1:1:-100:1:u", "tg1:1:-100:1:u:f:x",
    "tg1:0:-100:1:u:f", "tg1:-1:-100:1:u:f", "tg1:1:0:1:u:f", "tg1:1:-100:0:u:f",
    "tg1:1:-100:-5:u:f", "tg1:01:-100:1:u:f", "tg1:+1:-100:1:u:f", "tg1:1:-0:1:u:f",
    "tg1:1: -100:1:u:f", "tg1:1:-100:1::f", "tg1:1:-100:1:u:", "tg1:1:-100:1:u:f ",
    "tg1:1:-100:1:u/x:f", "tg1:1:-100:1:u:f.g", "tg1:1:-100:1:u:f%20",
    "tg1:9223372036854775808:-100:1:u:f", "tg1:1:-9223372036854775809:1:u:f",
    "tg1:1:-100:1:u:f\n", "ab/abcdefghijklmnopqrstuv", "tg1:1:-100:1:u:f\xc3\xa9",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(tg_locator_parse(bad[i], &l), -1);
    assert_int_equal(l.bot_id, 0);
  }
  memset(longid, 'x', 200);
  longid[200] = 0;
  char text[512];
  snprintf(text, sizeof(text), "tg1:1:-100:1:u:%s", longid);
  assert_int_equal(tg_locator_parse(text, &l), -1);
  snprintf(text, sizeof(text), "tg1:1:-100:1:%s:f", longid);
  assert_int_equal(tg_locator_parse(text, &l), -1);
  assert_int_equal(tg_locator_parse("tg1:1:-9223372036854775808:9223372036854775807:u:f", &l), 0);
  assert_true(l.chat_id == INT64_MIN && l.message_id == INT64_MAX);
  assert_true(tg_file_id_valid("a-_Z9"));
  assert_false(tg_file_id_valid(""));
  assert_false(tg_file_id_valid("a=b"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ok_envelope),
    cmocka_unit_test(test_error_envelope),
    cmocka_unit_test(test_retry_after),
    cmocka_unit_test(test_html_and_garbage),
    cmocka_unit_test(test_deep_nesting),
    cmocka_unit_test(test_description_sanitised),
    cmocka_unit_test(test_classify),
    cmocka_unit_test(test_locator_round_trip),
    cmocka_unit_test(test_locator_rejects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
