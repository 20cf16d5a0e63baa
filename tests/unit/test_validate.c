/* Unit tests for util/validate: usernames, emails and passwords. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/validate.c"

static void test_username(void **state)
{
  static const char *const good[] = {"bob", "alice_01", "a.b-c", "___", "ABCdef",
                                     "abcdefghijklmnopqrstuvwxyz012345" /* 32 */};
  for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_null(validate_username(good[i]));
  assert_string_equal(validate_username(NULL), "Username is required");
  assert_string_equal(validate_username(""), "Username is required");
  assert_string_equal(validate_username("ab"), "Username must be 3 to 32 characters long");
  assert_string_equal(validate_username("abcdefghijklmnopqrstuvwxyz0123456"),
                      "Username must be 3 to 32 characters long");
  static const char *const bad[] = {"bob smith", "bob@x", "bob/..", "bo\tb", "b\xc3\xb6" "b",
                                    "<script>", "bob;drop", "bob\x7f"};
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_string_equal(validate_username(bad[i]),
                        "Username may only contain letters, digits, '_', '.' and '-'");
}

static void test_email_ok(void **state)
{
  static const char *const good[] = {
    "a@b.co", "alice@example.com", "first.last+tag@sub.example.co.uk", "x_y-z@e-x.io",
    "o'brien@example.ie", "!#$%&'*+/=?^_`{|}~-@example.com", "1@2.3", "USER@EXAMPLE.COM",
    "a@xn--bcher-kva.example",
  };
  for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_null(validate_email(good[i]));
}

static void test_email_bad(void **state)
{
  static const char *const bad[] = {
    "plain", "@example.com", "a@", "a@@b.com", "a@b@c.com", "a@localhost", "a@.com", "a@com.",
    "a@b..com", "a@-b.com", "a@b-.com", "a@b_c.com", "a b@c.com", "a@b c.com", ".a@b.com",
    "a.@b.com", "a..b@c.com", "a\n@b.com", "a@b.com\r\nBcc: x@y.com", "<a>@b.com",
    "\"quoted\"@b.com", "a(comment)@b.com", "\xc3\xa9@b.com", "a@\xc3\xa9.com", "a@b.com ",
    " a@b.com", "a@[127.0.0.1]",
  };
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_non_null(validate_email(bad[i]));
  assert_string_equal(validate_email(NULL), "Email is required");
  assert_string_equal(validate_email(""), "Email is required");
  assert_string_equal(validate_email("ab.com"), "Email must contain exactly one '@'");
}

static void test_email_lengths(void **state)
{
  char buf[400];
  /* Local part of 64 is fine, 65 is not. */
  memset(buf, 'a', 64);
  strcpy(buf + 64, "@example.com");
  assert_null(validate_email(buf));
  memset(buf, 'a', 65);
  strcpy(buf + 65, "@example.com");
  assert_string_equal(validate_email(buf), "Email local part must be 1 to 64 characters long");
  /* Labels of 63 are fine, 64 are not. */
  strcpy(buf, "a@");
  memset(buf + 2, 'b', 63);
  strcpy(buf + 65, ".com");
  assert_null(validate_email(buf));
  memset(buf + 2, 'b', 64);
  strcpy(buf + 66, ".com");
  assert_string_equal(validate_email(buf), "Email domain is not valid");
  /* 254 total is fine, 255 is not: domain = 3 x (62 letters + '.') + 63 letters. */
  size_t n = 0;
  buf[n++] = 'a';
  buf[n++] = '@';
  for(int k = 0; k < 3; k++) {
    memset(buf + n, 'b', 62);
    n += 62;
    buf[n++] = '.';
  }
  memset(buf + n, 'c', 63);
  n += 63;
  buf[n] = 0;
  assert_int_equal(strlen(buf), 254);
  assert_null(validate_email(buf));
  memmove(buf + 1, buf, 255);
  buf[0] = 'x'; /* 255 */
  assert_string_equal(validate_email(buf), "Email must be at most 254 characters long");
}

static void test_password(void **state)
{
  char buf[1100];
  assert_string_equal(validate_password(NULL), "Password is required");
  assert_string_equal(validate_password(""), "Password must be at least 8 characters long");
  assert_string_equal(validate_password("1234567"), "Password must be at least 8 characters long");
  assert_null(validate_password("12345678"));
  assert_null(validate_password("  spaces \xf0\x9f\x94\x91 and unicode"));
  memset(buf, 'p', 1024);
  buf[1024] = 0;
  assert_null(validate_password(buf));
  buf[1024] = 'p';
  buf[1025] = 0;
  assert_string_equal(validate_password(buf), "Password must be at most 1024 bytes long");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_username),     cmocka_unit_test(test_email_ok),
    cmocka_unit_test(test_email_bad),    cmocka_unit_test(test_email_lengths),
    cmocka_unit_test(test_password),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
