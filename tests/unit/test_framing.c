/* Unit tests for http/framing: the verdict on a request's Content-Length and
 * Transfer-Encoding fields, repeats, case variants and hostile values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/framing.c"

/* Feeds "name", "value" pairs (NULL-terminated) and checks the verdict. */
static void expect(unsigned want, const char *want_detail, bool http10, ...)
{
  struct framing f;
  memset(&f, 0, sizeof(f));
  va_list ap;
  va_start(ap, http10);
  const char *name;
  while((name = va_arg(ap, const char *)) != NULL)
    framing_add(&f, name, va_arg(ap, const char *));
  va_end(ap);
  const char *detail = NULL;
  unsigned got = framing_verdict(&f, http10, &detail);
  if(got != want || (want && strcmp(detail, want_detail) != 0))
    fail_msg("verdict %u '%s', want %u '%s'", got, detail ? detail : "", want,
             want_detail ? want_detail : "");
}

static void test_plain_requests_pass(void **state)
{
  expect(0, NULL, false, "Host", "x", NULL);
  expect(0, NULL, false, "Content-Length", "0", NULL);
  expect(0, NULL, false, "Content-Length", "18446744073709551615", NULL);
  expect(0, NULL, false, "Content-Length", "5", "content-length", "5", NULL);
  expect(0, NULL, false, "Content-Length", "5", "content-length", "005", NULL);
  expect(0, NULL, false, "Transfer-Encoding", "chunked", NULL);
  expect(0, NULL, false, "transfer-encoding", "CHUNKED", NULL);
  expect(0, NULL, true, "Content-Length", "3", NULL);
  expect(0, NULL, false, "Content-Type", "a b", "X-Content-Length", "x", NULL);
}

static void test_content_length(void **state)
{
  static const char *const bad[] = {"", "+5", "-1", "0x5", "5, 5", "5,5", "5 5", " 5",
                                    "5 ", "5;", "1e3", "18446744073709551616",
                                    "99999999999999999999999"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    expect(400, FRAMING_BAD_CL, false, "Content-Length", bad[i], NULL);
  expect(400, FRAMING_BAD_CL, false, "Content-Length", "2", "CONTENT-LENGTH", "5", NULL);
  expect(400, FRAMING_BAD_CL, false, "Content-Length", "2", "Content-Length", "abc", NULL);
  expect(400, FRAMING_BAD_CL, false, "Content-Length", "2", "Content-Length", "2",
         "content-length", "3", NULL);
}

static void test_transfer_encoding(void **state)
{
  expect(400, FRAMING_BOTH, false, "Content-Length", "5", "Transfer-Encoding", "chunked", NULL);
  expect(400, FRAMING_BOTH, false, "transfer-encoding", "chunked", "content-length", "0", NULL);
  expect(400, FRAMING_BOTH, false, "Transfer-Encoding", "gzip", "Content-Length", "x", NULL);
  expect(400, FRAMING_TE_HTTP10, true, "Transfer-Encoding", "chunked", NULL);
  expect(400, FRAMING_TE_HTTP10, true, "Transfer-Encoding", "chunked", "Content-Length", "1",
         NULL);
  static const char *const other[] = {"xchunked", "gzip", "identity", "gzip, chunked",
                                      "chunked, gzip", "chunked;q=1", "chunked , deflate"};
  for(size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
    expect(501, FRAMING_TE_UNSUPPORTED, false, "Transfer-Encoding", other[i], NULL);
  expect(501, FRAMING_TE_UNSUPPORTED, false, "Transfer-Encoding", "chunked",
         "Transfer-Encoding", "gzip", NULL);
  static const char *const odd[] = {"", ",", "chunked,", ", chunked", "chunked, chunked",
                                    "chunked ", " chunked"};
  for(size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
    expect(400, FRAMING_BAD_TE, false, "Transfer-Encoding", odd[i], NULL);
  expect(400, FRAMING_BAD_TE, false, "Transfer-Encoding", "chunked", "Transfer-Encoding",
         "chunked", NULL);
}

static void test_field_names(void **state)
{
  expect(400, FRAMING_BAD_NAME, false, "Content-Length ", "5", NULL);
  expect(400, FRAMING_BAD_NAME, false, "Transfer-Encoding\t", "chunked", NULL);
  expect(400, FRAMING_BAD_NAME, false, "X-A b", "1", NULL);
  expect(400, FRAMING_BAD_NAME, false, "", "1", NULL);
  expect(400, FRAMING_BAD_NAME, false, "Content-Length5", "", NULL);
  expect(400, FRAMING_BAD_NAME, false, "transfer-encodingchunked", "", NULL);
  /* the name check comes first: it explains why the rest looks odd */
  expect(400, FRAMING_BAD_NAME, true, "Transfer-Encoding", "gzip", "Content-Length5", "",
         NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain_requests_pass),
    cmocka_unit_test(test_content_length),
    cmocka_unit_test(test_transfer_encoding),
    cmocka_unit_test(test_field_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
