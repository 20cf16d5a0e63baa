/* Unit tests for util/disposition: file names from Content-Disposition
 * (RFC 6266 / RFC 8187) and from a URL's path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/disposition.c"

static void cd_eq(const char *value, const char *want)
{
  char out[256];
  int rc = disposition_filename(value, out, sizeof(out));
  if(!want) {
    if(rc == 0)
      fail_msg("%s: expected no name, got '%s'", value ? value : "(null)", out);
    return;
  }
  if(rc != 0)
    fail_msg("%s: expected '%s', got none", value ? value : "(null)", want);
  assert_string_equal(out, want);
}

static void url_eq(const char *url, const char *want)
{
  char out[256];
  int rc = disposition_url_name(url, out, sizeof(out));
  if(!want) {
    assert_int_not_equal(rc, 0);
    return;
  }
  assert_int_equal(rc, 0);
  assert_string_equal(out, want);
}

static void test_content_disposition(void **state)
{
  cd_eq("attachment; filename=\"a b.txt\"", "a b.txt");
  cd_eq("attachment; filename=plain.txt", "plain.txt");
  cd_eq("inline; FILENAME=\"x.pdf\"", "x.pdf");
  cd_eq("attachment; filename=\"q\\\"uote.txt\"", "q\"uote.txt");
  /* filename* wins, wherever it comes. */
  cd_eq("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt; filename=\"fb.txt\"",
        "\xe2\x82\xac rates.txt");
  cd_eq("attachment; filename=\"fb.txt\"; filename*=utf-8'en'na%C3%AFve.txt",
        "na\xc3\xafve.txt");
  cd_eq("attachment; filename*=ISO-8859-1''caf%E9.txt", "caf\xc3\xa9.txt");
  /* A filename* that cannot be read falls back to filename. */
  cd_eq("attachment; filename*=KOI8-R''x.txt; filename=\"fb.txt\"", "fb.txt");
  cd_eq("attachment; filename*=UTF-8''bad%zz.txt; filename=\"fb.txt\"", "fb.txt");
  cd_eq("attachment; filename*=UTF-8''nul%00.txt; filename=\"fb.txt\"", "fb.txt");
  /* Paths are dropped. */
  cd_eq("attachment; filename=\"../../etc/passwd\"", "passwd");
  cd_eq("attachment; filename=\"C:\\\\dir\\\\win.txt\"", "win.txt");
  cd_eq("attachment; filename=\"dir/\"", NULL);
  /* Nothing to read. */
  cd_eq("attachment", NULL);
  cd_eq("attachment; size=5", NULL);
  cd_eq("attachment; filename=\"unterminated", NULL);
  cd_eq("", NULL);
  cd_eq(NULL, NULL);
}

static void test_long_value(void **state)
{
  char big[DISPOSITION_MAX + 64];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  memcpy(big, "attachment; filename=", 21);
  cd_eq(big, NULL);
  char out[8];
  assert_int_not_equal(disposition_filename("attachment; filename=longer.txt", out, sizeof(out)), 0);
}

static void test_url_name(void **state)
{
  url_eq("http://h/dir/file.bin", "file.bin");
  url_eq("http://h/dir/hello%20world%C3%A9.bin?x=1#frag", "hello world\xc3\xa9.bin");
  url_eq("https://user:pw@h:8080/a/b.tar.gz?sig=abc", "b.tar.gz");
  url_eq("http://h/a%2Fb", "b");
  url_eq("http://h/", NULL);
  url_eq("http://h", NULL);
  url_eq("http://h/dir/", NULL);
  url_eq("http://h/bad%4", NULL);
  url_eq("http://h/nul%00x", NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_content_disposition),
    cmocka_unit_test(test_long_value),
    cmocka_unit_test(test_url_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
